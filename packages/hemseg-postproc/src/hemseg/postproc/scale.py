"""Pixel scale of a smear from its red cells: the typical red-cell diameter in pixels."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.feature import peak_local_max


def rbc_diameter(
    rbc_mask: np.ndarray, assumed_px: float, percentile: float = 75.0, min_cells: int = 5
) -> tuple[float | None, int]:
    """Estimate the red-cell diameter (px) from a red-cell mask.

    Each red cell contributes the peak of the distance to background inside it (its inscribed
    radius; touching and overlapping cells keep their own peak). Peaks are searched at least
    0.3 ``assumed_px`` apart and must reach 0.15 ``assumed_px``, so nothing much smaller than a red
    cell counts. Overlap and pallor shrink many inscribed circles, so an upper ``percentile`` of the
    radii is taken rather than the median (on BCCD fields this was closer to the red-cell boxes
    than the median, or than the mask area per peak; see docs/howto/diagnose.md).

    Args:
        rbc_mask: (H, W) boolean mask of red cells (holes, e.g. central pallor, are filled here).
        assumed_px: the diameter the mask was made at (sets the peak spacing and floor).
        percentile: percentile of the peak radii taken as the typical radius.
        min_cells: fewer peaks than this give no estimate.

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
    return float(2.0 * np.percentile(distance[tuple(peaks.T)], percentile)), len(peaks)
