"""How sharp a cell patch's surround looks, and the range of it that a classifier's training sources span.

A classifier trained on one device's photos loses its lymphocytes when the same cells come out
sharper (docs/benchmarks.md, "The training lab's own cells in another lab's look"), and the stain
check does not see that. The number here is measured on the patch's surround — plasma and red
cells, the same in every specimen whatever its white cells — at the red-cell scale the patch is
cut at, so it describes the camera and its focus more than the cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Gaussian sigmas (px of the patch) splitting the luminance into finest detail and the band below it.
FINE_SIGMA, COARSE_SIGMA = 1.0, 3.0
#: Pixels the cell mask is grown by, and pixels along each patch edge, left out of the surround.
CELL_GROWTH, EDGE = 4, 8
#: Fewest surround pixels that give a number.
MIN_PIXELS = 200


def surround_sharpness(patches: np.ndarray) -> np.ndarray:
    """(N,) sharpness of (N, P, P, 4) uint8 cell patches (RGB + cell mask) outside their cell.

    Per patch: the natural log of the standard deviation of the luminance's finest detail (the
    image less its Gaussian blur of :data:`FINE_SIGMA`) over that of the band below it (that blur
    less the blur of :data:`COARSE_SIGMA`), on the pixels outside the cell grown by
    :data:`CELL_GROWTH` px and away from the patch's edges. A sharper camera, an unsharp mask or
    sensor noise raise it; defocus lowers it; a colour cast or gain leaves it. NaN where fewer than
    :data:`MIN_PIXELS` pixels are left.
    """
    from scipy.ndimage import binary_dilation, gaussian_filter

    out = np.full(len(patches), np.nan)
    for row, patch in enumerate(patches):
        luma = patch[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0
        fine_blur = gaussian_filter(luma, FINE_SIGMA, mode="nearest")
        coarse_blur = gaussian_filter(luma, COARSE_SIGMA, mode="nearest")
        kept = ~binary_dilation(patch[..., 3] > 0, iterations=CELL_GROWTH)
        kept[:EDGE], kept[-EDGE:], kept[:, :EDGE], kept[:, -EDGE:] = False, False, False, False
        if kept.sum() < MIN_PIXELS:
            continue
        fine, band = (luma - fine_blur)[kept].std(), (fine_blur - coarse_blur)[kept].std()
        if fine > 0 and band > 0:
            out[row] = np.log(fine / band)
    return out


def sharpness_range(
    values: np.ndarray,
    labels: Sequence[str],
    cells: int,
    quantile: float = 0.995,
    margin: float = 0.05,
    draws: int = 400,
    seed: int = 0,
) -> tuple[float, float]:
    """The range of the median sharpness of ``cells`` cells of one source, widened by ``margin``.

    ``values`` are one training source's :func:`surround_sharpness`, ``labels`` their classes. The
    median of ``cells`` cells drawn at random (``draws`` times, with replacement) is taken over the
    whole source and over each class with at least ``cells`` cells on its own (a specimen of one
    kind of cell); the range runs from the lowest ``1 - quantile`` quantile of those medians to the
    highest ``quantile`` quantile, widened by ``margin`` on each side for the spread between a lab's
    specimens that one source's photos do not show.

    Raises:
        ValueError: fewer than ``cells`` finite values.
    """
    values, labels = np.asarray(values, float), np.asarray(labels)
    finite = ~np.isnan(values)
    if finite.sum() < cells:
        raise ValueError(f"{finite.sum()} cells with a sharpness, fewer than the {cells} of a specimen")
    rng = np.random.default_rng(seed)
    groups = [values[finite]] + [
        values[finite & (labels == name)] for name in sorted(set(labels)) if (finite & (labels == name)).sum() >= cells
    ]
    low, high = np.inf, -np.inf
    for group in groups:
        medians = np.median(group[rng.integers(0, len(group), (draws, cells))], axis=1)
        low, high = min(low, np.quantile(medians, 1 - quantile)), max(high, np.quantile(medians, quantile))
    return float(low - margin), float(high + margin)
