"""hemseg.postproc: probability maps to clean masks, cell instances and per-cell tables (no torch)."""

from hemseg.postproc.instances import instance_table, label_instances, split_touching
from hemseg.postproc.morphology import clean_mask

__all__ = ["clean_mask", "instance_table", "label_instances", "split_touching"]
