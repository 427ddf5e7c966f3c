"""hemseg.postproc: probability maps to clean masks, cell instances, per-cell tables and patches (no torch)."""

from hemseg.postproc.contours import draw_outlines, instance_polygons
from hemseg.postproc.instances import (
    instance_table,
    label_instances,
    remove_background_coloured,
    remove_thin_instances,
    split_touching,
)
from hemseg.postproc.morphology import clean_mask
from hemseg.postproc.patches import cell_patch, central_instance
from hemseg.postproc.platelets import platelet_instances
from hemseg.postproc.scale import rbc_diameter

__all__ = [
    "cell_patch",
    "central_instance",
    "clean_mask",
    "draw_outlines",
    "instance_polygons",
    "instance_table",
    "label_instances",
    "platelet_instances",
    "rbc_diameter",
    "remove_background_coloured",
    "remove_thin_instances",
    "split_touching",
]
