"""MONAI transforms for blood-smear images (array and dictionary pairs) and ready-made pipelines."""

from hemseg.data.transforms.array import (
    ClampSlideColour,
    HEDAdjust,
    NormalizeRGB,
    RandConvolution,
    RandHEDJitter,
    RandPaleCell,
    RandStainAmount,
    ScaleToCellSize,
    StainAmount,
    StructureMasks,
    slide_colour,
)
from hemseg.data.transforms.dictionary import (
    ClampSlideColourd,
    HEDAdjustd,
    NormalizeRGBd,
    RandConvolutiond,
    RandHEDJitterd,
    RandPaleCelld,
    RandStainAmountd,
    ScaleToCellSized,
    StructureMasksd,
)
from hemseg.data.transforms.loading import load_image_d, load_rgb, readable_mode
from hemseg.data.transforms.pipelines import (
    classification_train_transforms,
    classification_val_transforms,
    segmentation_train_transforms,
    segmentation_val_transforms,
)

__all__ = [
    "ClampSlideColour",
    "ClampSlideColourd",
    "HEDAdjust",
    "HEDAdjustd",
    "NormalizeRGB",
    "NormalizeRGBd",
    "RandConvolution",
    "RandConvolutiond",
    "RandHEDJitter",
    "RandHEDJitterd",
    "RandPaleCell",
    "RandPaleCelld",
    "RandStainAmount",
    "RandStainAmountd",
    "ScaleToCellSize",
    "ScaleToCellSized",
    "StainAmount",
    "StructureMasks",
    "StructureMasksd",
    "classification_train_transforms",
    "classification_val_transforms",
    "load_image_d",
    "load_rgb",
    "readable_mode",
    "segmentation_train_transforms",
    "segmentation_val_transforms",
    "slide_colour",
]
