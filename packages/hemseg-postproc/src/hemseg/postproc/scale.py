"""Pixel scale of a smear from its red cells: the typical red-cell diameter in pixels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage
from skimage.feature import peak_local_max

from hemseg.postproc.patches import central_cell
from hemseg.postproc.protocols import SegmenterLike
from hemseg.postproc.rules import postprocess


def rbc_diameter(
    rbc_mask: np.ndarray, assumed_px: float, percentile: float, min_cells: int, clear_of_edge: bool = False
) -> tuple[float | None, int]:
    """Estimate the red-cell diameter (px) from a red-cell mask.

    Each red cell contributes the peak of the distance to background inside it (its inscribed
    radius; touching and overlapping cells keep their own peak). Peaks are searched at least
    0.3 ``assumed_px`` apart and must reach 0.15 ``assumed_px``, so nothing much smaller than a red
    cell counts. Overlap and pallor shrink many inscribed circles, so an upper ``percentile`` of the
    radii is taken rather than the median (on BCCD fields this was closer to the red-cell boxes
    than the median, or than the mask area per peak; see docs/howto/diagnose.md).

    With ``clear_of_edge``, a peak whose inscribed circle reaches the photo's edge (a red cell the
    edge cuts, or a clump running off it) is left out whenever at least ``min_cells`` peaks remain:
    on single-cell crops, where most red cells are cut by the edge or packed, this keeps the
    estimate from the whole cells (docs/howto/diagnose.md, "Single-cell crops").

    Args:
        rbc_mask: (H, W) boolean mask of red cells (holes, e.g. central pallor, are filled here).
        assumed_px: the diameter the mask was made at (sets the peak spacing and floor).
        percentile: percentile of the peak radii taken as the typical radius.
        min_cells: fewer peaks than this give no estimate.
        clear_of_edge: prefer the peaks whose inscribed circle stays inside the photo.

    Returns:
        (diameter in px or None, number of red-cell peaks found).
    """
    if assumed_px <= 0:
        raise ValueError("assumed_px must be positive")
    mask = ndimage.binary_fill_holes(np.asarray(rbc_mask, dtype=bool))
    distance = ndimage.distance_transform_edt(mask)
    peaks = peak_local_max(
        distance,
        min_distance=max(2, int(0.3 * assumed_px)),
        threshold_abs=0.15 * assumed_px,
        exclude_border=False,
    )
    if len(peaks) < min_cells:
        return None, len(peaks)
    radii = distance[tuple(peaks.T)]
    if clear_of_edge:
        to_edge = np.minimum(peaks, np.array(mask.shape) - 1 - peaks).min(axis=1)
        inside = to_edge > radii
        if inside.sum() >= min_cells:
            radii = radii[inside]
    return float(2.0 * np.percentile(radii, percentile)), len(peaks)


def estimate_rbc_diameter(
    rgb: np.ndarray,
    segmenter: SegmenterLike,
    structures: Sequence[str],
    mask_rules: Mapping[str, Mapping[str, object]],
    assumed_px: float,
    percentile: float,
    min_cells: int,
    clear_of_edge: bool = False,
    wbc_diameter: float = 0.0,
) -> tuple[float, str]:
    """Red-cell diameter of an (H, W, 3) uint8 photo from its red cells, and how it was found.

    One network window's worth of the photo's centre is segmented as if red cells measured
    ``assumed_px`` (all of the photo when that finds fewer than ``min_cells`` red cells) and the red
    cells measured with :func:`rbc_diameter` (``percentile``, ``min_cells``, ``clear_of_edge``).
    With too few red cells and ``wbc_diameter`` given (a single-cell crop), the white cell nearest the
    photo's centre is taken to measure ``wbc_diameter`` red-cell diameters (its area's circle).

    Returns:
        (diameter in px, ``"estimated"``); (diameter in px, ``"white_cell"``) from the white cell; or
        (``assumed_px``, ``"assumed"``) when too few red cells (and no white cell) were found.
    """
    side = round(segmenter.roi_size * assumed_px / segmenter.target_rbc_px)
    top, left = max(0, (rgb.shape[0] - side) // 2), max(0, (rgb.shape[1] - side) // 2)
    kinds = ["rbc", "wbc"] if wbc_diameter > 0 else ["rbc"]
    for region in (rgb[top : top + side, left : left + side], rgb):
        probabilities = segmenter.probabilities(chw_float(region), assumed_px)
        masks = postprocess(probabilities, structures, mask_rules, assumed_px, kinds)
        estimate, _ = rbc_diameter(masks["rbc"], assumed_px, percentile, min_cells, clear_of_edge)
        if estimate is not None:
            return estimate, "estimated"
        if region.shape == rgb.shape:
            break
    if wbc_diameter > 0 and (area := central_cell(ndimage.label(masks["wbc"])[0]).sum()):
        return float(2.0 * np.sqrt(area / np.pi) / wbc_diameter), "white_cell"
    return assumed_px, "assumed"


def chw_float(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (3, H, W) float32 in [0, 1], a segmenter's input."""
    return np.moveaxis(rgb, -1, 0).astype(np.float32) / 255.0
