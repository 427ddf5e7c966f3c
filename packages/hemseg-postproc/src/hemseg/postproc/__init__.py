"""hemseg.postproc: probability maps to clean masks, cell instances, per-cell tables and patches (no torch)."""

from hemseg.postproc.contours import draw_outlines, instance_polygons
from hemseg.postproc.instances import (
    instance_table,
    label_instances,
    large_piece_share,
    remove_background_coloured,
    remove_slide_pixels,
    remove_thin_instances,
    split_at_peaks,
    split_cells,
    split_overlapping,
    split_touching,
)
from hemseg.postproc.morphology import clean_mask
from hemseg.postproc.morphometry import MORPHOMETRY_NAMES, cell_morphometry, specimen_normalised
from hemseg.postproc.patcher import CellPatcher
from hemseg.postproc.patches import cell_patch, cell_patches, central_cell, central_instance
from hemseg.postproc.platelets import platelet_instances
from hemseg.postproc.points import instances_at_points, point_instances, point_patches
from hemseg.postproc.protocols import SegmenterLike
from hemseg.postproc.rules import MaskRules, postprocess
from hemseg.postproc.scale import chw_float, estimate_rbc_diameter, rbc_diameter
from hemseg.postproc.sharpness import sharpness_range, surround_sharpness
from hemseg.postproc.stain import StainReference, match_stain, stain_signatures, unfamiliar_look
from hemseg.postproc.tiles import tile_grid

__all__ = [
    "CellPatcher",
    "MORPHOMETRY_NAMES",
    "MaskRules",
    "SegmenterLike",
    "StainReference",
    "cell_morphometry",
    "cell_patch",
    "cell_patches",
    "central_cell",
    "central_instance",
    "chw_float",
    "clean_mask",
    "draw_outlines",
    "estimate_rbc_diameter",
    "instance_polygons",
    "instance_table",
    "instances_at_points",
    "label_instances",
    "large_piece_share",
    "match_stain",
    "platelet_instances",
    "point_instances",
    "point_patches",
    "postprocess",
    "rbc_diameter",
    "stain_signatures",
    "remove_background_coloured",
    "remove_slide_pixels",
    "sharpness_range",
    "remove_thin_instances",
    "specimen_normalised",
    "split_at_peaks",
    "split_cells",
    "split_overlapping",
    "split_touching",
    "surround_sharpness",
    "tile_grid",
    "unfamiliar_look",
]
