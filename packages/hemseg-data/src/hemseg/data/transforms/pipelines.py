"""Ready-made MONAI pipelines for segmentation and cell-patch classification.

Each pipeline takes the records of :mod:`hemseg.data.records`. The shared start loads the image as
RGB in [0, 1], optionally denoises it, and zooms it so that red cells measure ``target_rbc_px``
pixels across (the record's ``rbc_diameter_px``; None leaves the image unscaled). Training
pipelines add geometric (rotation, flips, zoom), colour (optionally the amount of stain; stain jitter
in HED space, per-channel gain and offset, contrast) and focus (blur) augmentation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from monai.transforms import (
    Compose,
    ConcatItemsd,
    EnsureTyped,
    MedianSmoothd,
    RandAdjustContrastd,
    RandCropByPosNegLabeld,
    RandFlipd,
    RandRotate90d,
    RandRotated,
    RandScaleIntensityd,
    RandShiftIntensityd,
    RandZoomd,
    ScaleIntensityRanged,
    SpatialPadd,
    Transform,
)

from hemseg.data.layout import STRUCTURES
from hemseg.data.transforms.dictionary import (
    EdgeGaussianSmoothd,
    NormalizeRGBd,
    RandConvolutiond,
    RandEdgeGaussianSmoothd,
    RandHEDJitterd,
    RandJPEGd,
    RandPaleCelld,
    RandStainAmountd,
    RandUnsharpMaskd,
    ScaleToCellSized,
    StructureMasksd,
)
from hemseg.data.transforms.loading import load_image_d

Denoise = Literal["none", "gaussian", "median"]

#: Pad mode for images smaller than the patch: repeat the edge, which looks like smear background
#: far more than black does.
PAD_MODE = "replicate"


def _denoise(kind: Denoise, sigma: float, radius: int) -> list[Transform]:
    if kind == "none":
        return []
    if kind == "gaussian":
        return [EdgeGaussianSmoothd("image", sigma=sigma)]
    if kind == "median":
        return [MedianSmoothd("image", radius=radius)]
    raise ValueError(f"denoise must be 'none', 'gaussian' or 'median', got {kind!r}")


def _spatial_augment(keys: list[str], modes: tuple[str, ...], zoom: Sequence[float] = (0.8, 1.25)) -> list[Transform]:
    low, high = (float(z) for z in zoom)
    zooms = (
        [RandZoomd(keys, prob=0.5, min_zoom=low, max_zoom=high, mode=modes, padding_mode="edge")] if low < high else []
    )
    return [
        RandRotate90d(keys, prob=0.5),
        RandFlipd(keys, prob=0.5, spatial_axis=0),
        RandFlipd(keys, prob=0.5, spatial_axis=1),
        RandRotated(
            keys,
            range_x=math.pi / 4,
            prob=0.5,
            mode=["bilinear" if m != "nearest" else m for m in modes],
            padding_mode="reflection",
        ),
        *zooms,
    ]


def _colour_augment(
    strength: float = 1.0,
    blur_sigma: float = 1.0,
    blur_prob: float = 0.2,
    stain_amount_prob: float = 0.0,
    sharpen_prob: float = 0.0,
    jpeg_prob: float = 0.0,
) -> list[Transform]:
    amounts = [RandStainAmountd("image", prob=stain_amount_prob)] if stain_amount_prob > 0 else []
    sharpen = [RandUnsharpMaskd("image", prob=sharpen_prob)] if sharpen_prob > 0 else []
    jpeg = [RandJPEGd("image", prob=jpeg_prob)] if jpeg_prob > 0 else []
    return [
        *amounts,
        RandHEDJitterd("image", scale=0.05 * strength, shift=0.03 * strength, prob=0.5),
        RandScaleIntensityd("image", factors=0.1 * strength, channel_wise=True, prob=0.5),
        RandShiftIntensityd("image", offsets=0.05 * strength, channel_wise=True, prob=0.5),
        RandAdjustContrastd("image", gamma=(0.75**strength, 1.35**strength), prob=0.3),
        RandEdgeGaussianSmoothd("image", sigma_x=(0.25, blur_sigma), sigma_y=(0.25, blur_sigma), prob=blur_prob),
        *sharpen,
        *jpeg,
        ScaleIntensityRanged("image", a_min=0.0, a_max=1.0, b_min=0.0, b_max=1.0, clip=True),
    ]


def _pale_cells(structures: tuple[str, ...], prob: float) -> list[Transform]:
    if prob <= 0 or not {"wbc", "nucleus"} <= set(structures):
        return []
    channels = {"wbc_channel": structures.index("wbc"), "nucleus_channel": structures.index("nucleus")}
    return [RandPaleCelld("image", label_key="label", prob=prob, **channels)]


def _segmentation_start(
    structures: tuple[str, ...], target_rbc_px: float, denoise: Denoise, sigma: float, radius: int
) -> list[Transform]:
    return [
        load_image_d("image"),
        NormalizeRGBd("image"),
        StructureMasksd("label", structures=structures),
        *_denoise(denoise, sigma, radius),
        ScaleToCellSized(["image", "label"], target_px=target_rbc_px, mode=("area", "nearest")),
    ]


def segmentation_train_transforms(
    structures: tuple[str, ...] = STRUCTURES,
    target_rbc_px: float = 48.0,
    patch_size: int = 256,
    denoise: Denoise = "none",
    sigma: float = 1.0,
    radius: int = 1,
    colour_strength: float = 1.0,
    pale_prob: float = 0.0,
    stain_amount_prob: float = 0.0,
) -> Compose:
    """Training pipeline: one augmented ``patch_size`` square per record, half of them centred on cells.

    ``colour_strength`` scales the colour augmentation: 1 draws per-channel gains within ±10 %, 2
    within ±20 %, with stain jitter, offsets and contrast scaled alike. ``pale_prob`` is the share of
    patches whose white cells are made paler first (:class:`~hemseg.data.transforms.RandPaleCelld`),
    ``stain_amount_prob`` the share whose stain is scaled, a fifth to twice as much
    (:class:`~hemseg.data.transforms.RandStainAmountd`).
    Output keys: ``image`` (3, P, P) in [0, 1], ``label`` (C, P, P) in {0, 1}, ``label_known`` (C,).
    """
    keys = ["image", "label"]
    return Compose(
        [
            *_segmentation_start(tuple(structures), target_rbc_px, denoise, sigma, radius),
            SpatialPadd(keys, spatial_size=(patch_size, patch_size), mode=PAD_MODE),
            RandCropByPosNegLabeld(keys, label_key="label", spatial_size=(patch_size, patch_size), pos=1, neg=1),
            *_spatial_augment(keys, ("area", "nearest")),
            *_pale_cells(tuple(structures), pale_prob),
            *_colour_augment(colour_strength, stain_amount_prob=stain_amount_prob),
            EnsureTyped([*keys, "label_known"], dtype=torch.float32, track_meta=False),
        ]
    )


def segmentation_val_transforms(
    structures: tuple[str, ...] = STRUCTURES,
    target_rbc_px: float = 48.0,
    denoise: Denoise = "none",
    sigma: float = 1.0,
    radius: int = 1,
) -> Compose:
    """Validation pipeline: whole images at the training cell scale, no augmentation (batch size 1)."""
    return Compose(
        [
            *_segmentation_start(tuple(structures), target_rbc_px, denoise, sigma, radius),
            EnsureTyped(["image", "label", "label_known"], dtype=torch.float32, track_meta=False),
        ]
    )


def _patch_start() -> list[Transform]:
    return [
        EnsureTyped(["image", "mask"], dtype=torch.float32, track_meta=False),
        ScaleIntensityRanged(["image", "mask"], a_min=0.0, a_max=255.0, b_min=0.0, b_max=1.0, clip=True),
    ]


def classification_train_transforms(
    colour_strength: float = 2.0,
    blur_sigma: float = 1.0,
    blur_prob: float = 0.2,
    randconv_prob: float = 0.0,
    stain_amount_prob: float = 0.0,
    sharpen_prob: float = 0.0,
    jpeg_prob: float = 0.0,
    zoom: Sequence[float] = (0.8, 1.25),
) -> Compose:
    """Training pipeline for cell patches (records of :func:`hemseg.models.patch_records`).

    Input: ``image`` (3, P, P) and ``mask`` (1, P, P) uint8 (from :func:`hemseg.postproc.cell_patch`),
    ``target`` (classes,). Output: ``image`` (4, P, P) in [0, 1] (RGB + cell mask) and ``target``,
    after rotation, flips, zoom (half the patches, by a factor drawn from the range ``zoom``; ``(1, 1)``:
    none, so each cell keeps the size the cut gave it) and colour augmentation ``colour_strength``
    times the segmentation one (the classifier's training sets differ more in colour than in shape),
    and with probability ``blur_prob`` a Gaussian blur of sigma drawn in [0.25, ``blur_sigma``] pixels
    (defocus). With
    probability ``randconv_prob`` the colours first pass through a random convolution
    (:class:`~hemseg.data.transforms.RandConvolution`: another look, the shapes kept). With
    probability ``stain_amount_prob`` the stain is scaled, a fifth to twice as much
    (:class:`~hemseg.data.transforms.RandStainAmount`), and with probability ``sharpen_prob`` the
    patch is sharpened by an unsharp mask (:class:`~hemseg.data.transforms.RandUnsharpMask`), and
    last, with probability ``jpeg_prob``, saved as a JPEG of quality 20-90
    (:class:`~hemseg.data.transforms.RandJPEG`).
    """
    keys = ["image", "mask"]
    looks = [RandConvolutiond("image", prob=randconv_prob)] if randconv_prob > 0 else []
    return Compose(
        [
            *_patch_start(),
            *_spatial_augment(keys, ("area", "nearest"), zoom),
            *looks,
            *_colour_augment(colour_strength, blur_sigma, blur_prob, stain_amount_prob, sharpen_prob, jpeg_prob),
            ConcatItemsd(keys, "image"),
            EnsureTyped(["image", "target"], dtype=torch.float32, track_meta=False),
        ]
    )


def classification_val_transforms() -> Compose:
    """Validation pipeline for cell patches: ``image`` (4, P, P) in [0, 1], no augmentation."""
    return Compose(
        [
            *_patch_start(),
            ConcatItemsd(["image", "mask"], "image"),
            EnsureTyped(["image", "target"], dtype=torch.float32, track_meta=False),
        ]
    )
