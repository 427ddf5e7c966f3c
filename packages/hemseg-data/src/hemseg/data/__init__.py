"""hemseg.data: blood-smear datasets in the hemseg layout, leak-free splits, MONAI transforms.

The names below need neither torch nor MONAI; the transforms live in :mod:`hemseg.data.transforms`.
"""

from hemseg.data.classes import (
    CELL_CLASSES,
    PARTIAL_LABELS,
    RBC_CLASSES,
    RBC_UNCLASSIFIED,
    WHITE_CELL_CLASSES,
    candidate_classes,
    candidate_vector,
)
from hemseg.data.layout import (
    ID_BLOCKS,
    STRUCTURES,
    Dataset,
    LayoutError,
    Point,
    Sample,
    find_datasets,
    is_dataset,
    read_dataset,
)
from hemseg.data.masks import UNKNOWN, UNKNOWN_PIXEL, read_label, read_mask
from hemseg.data.records import (
    class_balanced_weights,
    classification_records,
    segmentation_records,
    split_datasets,
    split_segmentation_records,
)
from hemseg.data.scales import RBC_DIAMETER_PX
from hemseg.data.smear_image import SmearImageError, read_smear
from hemseg.data.splits import group_score, is_validation, samples_of_split, split_samples
from hemseg.data.summary import measure_cell_sizes, measure_nuclei, summarize
from hemseg.data.voc import Box, read_boxes

__all__ = [
    "CELL_CLASSES",
    "ID_BLOCKS",
    "PARTIAL_LABELS",
    "RBC_CLASSES",
    "RBC_DIAMETER_PX",
    "RBC_UNCLASSIFIED",
    "STRUCTURES",
    "UNKNOWN",
    "UNKNOWN_PIXEL",
    "WHITE_CELL_CLASSES",
    "Box",
    "Dataset",
    "LayoutError",
    "Point",
    "Sample",
    "SmearImageError",
    "candidate_classes",
    "candidate_vector",
    "class_balanced_weights",
    "classification_records",
    "find_datasets",
    "group_score",
    "is_dataset",
    "is_validation",
    "measure_cell_sizes",
    "measure_nuclei",
    "read_boxes",
    "read_dataset",
    "read_label",
    "read_mask",
    "read_smear",
    "samples_of_split",
    "segmentation_records",
    "split_datasets",
    "split_samples",
    "split_segmentation_records",
    "summarize",
]
