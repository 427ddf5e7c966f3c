"""Segmenting images with the segmentation bundle and scoring the masks against references."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class MaskRules:
    """Post-processing of one structure's probability map, in units of the red-cell diameter ``d``.

    Attributes:
        threshold: probability at or above which a pixel is foreground.
        closing_radius: closing disk radius, as a fraction of ``d``.
        fill_holes: fill enclosed holes.
        min_area: smallest kept component, as a fraction of one red cell's area (pi d^2 / 4).
    """

    threshold: float = 0.5
    closing_radius: float = 0.0
    fill_holes: bool = True
    min_area: float = 0.0


def postprocess(
    probabilities: np.ndarray,
    structures: Iterable[str],
    rules: Mapping[str, Mapping[str, object]],
    rbc_px: float,
    only: Iterable[str] | None = None,
) -> dict[str, np.ndarray]:
    """Turn (C, H, W) probabilities into clean masks per structure (``only`` these, when given).

    ``rules`` maps a structure to the fields of :class:`MaskRules` (a bundle's ``mask_rules``);
    ``rbc_px`` is the images' red-cell diameter, the unit of those rules.
    """
    from hemseg.postproc import clean_mask

    wanted = None if only is None else set(only)
    masks = {}
    for channel, structure in enumerate(structures):
        if wanted is not None and structure not in wanted:
            continue
        rule = MaskRules(**rules.get(structure, {}))
        masks[structure] = clean_mask(
            probabilities[channel],
            threshold=rule.threshold,
            closing_radius=round(rule.closing_radius * rbc_px),
            fill_holes=rule.fill_holes,
            min_area=round(rule.min_area * math.pi * rbc_px**2 / 4),
        )
    return masks


def mask_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Dice, IoU, precision, recall and pixel accuracy of one binary mask (MONAI metrics).

    Scores with no defined value (e.g. Dice when both masks are empty) are NaN.
    """
    import torch
    from monai.metrics import ConfusionMatrixMetric, DiceMetric, MeanIoU

    y_pred = torch.as_tensor(pred, dtype=torch.float32)[None, None]
    y = torch.as_tensor(truth, dtype=torch.float32)[None, None]
    dice = DiceMetric(include_background=True, ignore_empty=True)(y_pred, y)
    iou = MeanIoU(include_background=True, ignore_empty=True)(y_pred, y)
    confusion = ConfusionMatrixMetric(include_background=True, metric_name=("precision", "recall", "accuracy"))
    confusion(y_pred, y)
    precision, recall, accuracy = (float(t) for t in confusion.aggregate(reduction="none"))
    return {
        "dice": float(dice),
        "iou": float(iou),
        "precision": precision,
        "recall": recall,
        "accuracy": accuracy,
    }


def mean_ignoring_nan(values: list[float]) -> float | None:
    """Mean of the values that are not NaN (None when there are none)."""
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else None


def segment_folder(
    segmenter,
    input_dir: str | Path,
    output_dir: str | Path,
    structures: Iterable[str],
    mask_rules: Mapping[str, Mapping[str, object]],
    rbc_diameter_px: float | None,
) -> int:
    """Write ``<output_dir>/<stem>_<structure>.png`` (0/255) for every image in ``input_dir``.

    An image that cannot be read gets a one-line error on stderr and no output; the others are
    still processed, then :class:`RuntimeError` reports how many failed (so the run exits non-zero).
    Each mask is written to a temporary name and renamed.

    Returns:
        The number of images segmented.
    """
    from PIL import Image

    from hemseg.cli.files import list_images, read_image_or_report

    images = list_images(input_dir)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    structures = list(structures)
    failed = 0
    for path in images:
        image = read_image_or_report(path)
        if image is None:
            failed += 1
            continue
        probabilities = segmenter.probabilities(image, rbc_diameter_px)
        scale = rbc_diameter_px or segmenter.target_rbc_px
        for structure, mask in postprocess(probabilities, structures, mask_rules, scale).items():
            target = output_dir / f"{path.stem}_{structure}.png"
            tmp = target.with_name(f".{target.name}.tmp")
            Image.fromarray(mask.astype(np.uint8) * 255).save(tmp, format="PNG")
            tmp.replace(target)
    if failed:
        raise RuntimeError(f"{input_dir}: {failed} of {len(images)} images could not be read")
    return len(images)
