"""hemseg.postproc: probability maps to clean masks, cell instances, per-cell tables and patches (no torch)."""

from hemseg.postproc.instances import instance_table, label_instances, split_touching
from hemseg.postproc.morphology import clean_mask
from hemseg.postproc.patches import cell_patch, central_instance

__all__ = ["cell_patch", "central_instance", "clean_mask", "instance_table", "label_instances", "split_touching"]
