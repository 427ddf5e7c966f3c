"""Binary mask -> labelled cell instances (touching cells split) and a one-row-per-cell table."""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage
from skimage.feature import peak_local_max
from skimage.measure import label, regionprops, regionprops_table
from skimage.morphology import h_maxima, remove_small_holes
from skimage.segmentation import find_boundaries, watershed


def label_instances(mask: np.ndarray) -> np.ndarray:
    """Label the 8-connected components of a 2D boolean mask (0 = background, 1..N = cells)."""
    return label(np.asarray(mask, dtype=bool), connectivity=2).astype(np.int32)


def split_touching(mask: np.ndarray, min_distance: int, footprint_radius: int | None = None) -> np.ndarray:
    """Split touching cells with a distance-transform watershed.

    Markers are the local maxima of the distance to background that lie at least ``min_distance``
    pixels apart (about a cell radius); each marker's basin becomes one instance.

    Args:
        mask: (H, W) boolean mask of cells.
        min_distance: smallest distance between two cell centres, in pixels.
        footprint_radius: neighbourhood for the maxima search (defaults to ``min_distance``).

    Returns:
        (H, W) int32 label image (0 = background).

    """
    mask = np.asarray(mask, dtype=bool)
    distance = ndimage.distance_transform_edt(mask)
    components = label_instances(mask)
    peaks = _centres(distance, components, min_distance, footprint_radius or min_distance)
    return _basins(mask, distance, components, peaks)


def split_overlapping(mask: np.ndarray, min_distance: int, overlap_distance: int, max_solidity: float) -> np.ndarray:
    """Split touching cells as :func:`split_touching` does, and overlapping ones where their centres lie closer.

    A group of cells whose area is less than ``max_solidity`` of its convex hull's has a concave
    outline, as a clump of several overlapping cells has; its markers need lie only
    ``overlap_distance`` pixels apart. Any other group — one cell, however elongated, and also two
    cells that overlap much, whose outline is nearly convex — keeps markers ``min_distance`` apart,
    so that one cell is not cut in two.

    Returns:
        (H, W) int32 label image (0 = background).
    """
    mask = np.asarray(mask, dtype=bool)
    distance = ndimage.distance_transform_edt(mask)
    components = label_instances(mask)
    # the maxima are found group by group, so both sets hold for every group; a group's outline is
    # measured (slow: its convex hull) only where the two sets would cut it differently (one marker
    # or none leaves a group whole)
    apart = _centres(distance, components, min_distance, min_distance)
    close = _centres(distance, components, overlap_distance, overlap_distance)
    apart_at, close_at = components[tuple(apart.T)], components[tuple(close.T)]
    differ = [
        group
        for group in np.union1d(apart_at, close_at)
        if max(np.sum(apart_at == group), np.sum(close_at == group)) > 1
        and not np.array_equal(apart[apart_at == group], close[close_at == group])
    ]
    candidates = np.where(np.isin(components, differ), components, 0)
    concave = [group.label for group in regionprops(candidates) if group.solidity < max_solidity]
    peaks = [apart[~np.isin(apart_at, concave)], close[np.isin(close_at, concave)]]
    return _basins(mask, distance, components, np.concatenate(peaks))


def split_at_peaks(mask: np.ndarray, min_depth: float, min_distance: float) -> np.ndarray:
    """Split touching and overlapping cells at the separate peaks of their distance map.

    The markers are the distance map's h-maxima (``skimage.morphology.h_maxima``): each peak that
    rises at least ``min_depth`` pixels above the lowest path to a higher one, so that the centre
    of a cell overlapping a larger one counts even where the larger one's slope reaches past it
    (:func:`split_touching` wants each marker the highest point of its square). Peaks closer than
    ``min_distance`` pixels are merged, the higher kept; each marker's basin becomes one instance.

    Returns:
        (H, W) int32 label image (0 = background).
    """
    mask = np.asarray(mask, dtype=bool)
    distance = ndimage.distance_transform_edt(mask)
    components = label_instances(mask)
    peaks, count = ndimage.label(h_maxima(distance, min_depth).astype(bool) & mask, structure=np.ones((3, 3)))
    at = np.array(ndimage.maximum_position(distance, peaks, np.arange(1, count + 1)), dtype=int).reshape(-1, 2)
    height = distance[tuple(at.T)]
    kept: list[int] = []
    for peak in np.argsort(-height, kind="stable"):
        if all(np.hypot(*(at[peak] - at[other])) >= min_distance for other in kept):
            kept.append(int(peak))
    return _basins(mask, distance, components, at[kept])


def _centres(distance: np.ndarray, components: np.ndarray, min_distance: int, radius: int) -> np.ndarray:
    """(N, 2) local maxima of ``distance`` at least ``min_distance`` apart within each component."""
    footprint = np.ones((2 * radius + 1, 2 * radius + 1), dtype=bool)
    return peak_local_max(distance, min_distance=min_distance, footprint=footprint, labels=components).reshape(-1, 2)


def _basins(mask: np.ndarray, distance: np.ndarray, components: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Watershed of ``-distance`` from one marker per peak; components without a peak keep one marker each."""
    markers = np.zeros(mask.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    for index in np.setdiff1d(np.unique(components), np.append(components[tuple(peaks.T)], 0)):
        markers[components == index] = markers.max() + 1
    return watershed(-distance, markers, mask=mask).astype(np.int32)


def split_cells(
    mask: np.ndarray,
    rbc_px: float,
    split_distance: float,
    overlap_distance: float | None = None,
    overlap_solidity: float = 1.0,
    overlap_depth: float | None = None,
) -> np.ndarray:
    """Label the cells of a clean (H, W) mask, touching cells split (:func:`split_touching`).

    Two cells are told apart where their centres lie at least ``split_distance`` red-cell
    diameters (``rbc_px`` pixels each) apart; with ``overlap_distance``, ``overlap_distance`` apart
    within groups less solid than ``overlap_solidity`` (overlapping cells, :func:`split_overlapping`);
    with ``overlap_depth`` as well, at every peak of the distance map that rises ``overlap_depth``
    red-cell diameters above the path to a higher one, peaks closer than ``overlap_distance``
    merged (:func:`split_at_peaks`; ``split_distance`` and ``overlap_solidity`` unused).
    Returns (H, W) int32 labels, 0 = background.
    """
    apart = max(1, round(split_distance * rbc_px))
    if overlap_distance is None:
        return split_touching(mask, min_distance=apart)
    if overlap_depth is not None:
        return split_at_peaks(mask, overlap_depth * rbc_px, overlap_distance * rbc_px)
    return split_overlapping(mask, apart, max(1, round(overlap_distance * rbc_px)), overlap_solidity)


def instance_table(labels: np.ndarray, only: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Describe each instance in one row (scikit-image's ``regionprops_table`` layout).

    Columns: ``label``, ``area``, ``centroid-0/1`` (row, col), ``bbox-0..3`` and ``on_border`` (the
    instance touches the image edge, so the cell may be cut). ``only``: the instance numbers to
    keep (None: all).
    """
    labels = np.asarray(labels)
    table = regionprops_table(labels, properties=("label", "area", "centroid", "bbox"))
    height, width = labels.shape
    table["on_border"] = (
        (table["bbox-0"] == 0) | (table["bbox-1"] == 0) | (table["bbox-2"] == height) | (table["bbox-3"] == width)
    )
    if only is None:
        return table
    keep = np.isin(table["label"], only)
    return {key: np.asarray(column)[keep] for key, column in table.items()}


def remove_thin_instances(labels: np.ndarray, min_radius: float, edge_min_radius: float | None = None) -> np.ndarray:
    """Drop instances whose largest inscribed circle has a radius below ``min_radius`` pixels.

    Strips along the image edge and flimsy fragments are thinner than any whole cell. Instances
    that touch the image edge (cells cut by it) need ``edge_min_radius`` instead (None:
    ``min_radius``), so that a small fragment inside the photo can be kept while a strip along
    its edge is not. The kept instances are renumbered 1..N in their original order.
    """
    labels = np.asarray(labels)
    if not labels.any():
        return labels.astype(np.int32)
    # distance of each pixel to its instance's edge (background or another instance)
    distance = ndimage.distance_transform_edt(~find_boundaries(labels, mode="thick"))
    index = np.arange(1, labels.max() + 1)
    radius = np.asarray(ndimage.maximum(distance, labels, index))
    needed = np.full(index.shape, float(min_radius))
    if edge_min_radius is not None:
        edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        needed[np.isin(index, edge)] = edge_min_radius
    return _keep_instances(labels, index[radius >= needed])


def _keep_instances(labels: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The label image with only the ``kept`` instance numbers, renumbered 1..N in their order."""
    keep = np.zeros(labels.max() + 1, np.int32)
    keep[kept] = np.arange(1, len(kept) + 1)
    return keep[labels]


def remove_background_coloured(
    labels: np.ndarray, rgb: np.ndarray, background: np.ndarray, window: int, share: float
) -> np.ndarray:
    """Drop instances that are coloured like the slide around them rather than like a cell.

    Each pixel's colour is first divided, channel by channel, by the mean colour of the
    ``background`` pixels in a ``window``-pixel square around it (von Kries adaptation: the bare
    slide becomes neutral grey whatever the white balance, lighting or vignetting). Colour strength
    is then the HSV saturation, ``(max - min) / max`` of the three channels, and each instance's
    rise is its mean strength above the local background's. An instance is kept when its rise is
    at least ``share`` of the median instance's: a stained cell stands out from the bare slide next
    to it, an empty patch of slide that a network takes for a cell does not. The kept instances are
    renumbered 1..N in their original order; where no background pixel lies within the window of
    an instance, it is kept.

    Args:
        labels: (H, W) label image of one kind of cell (0 = background).
        rgb: (H, W, 3) uint8 photo at the same size.
        background: (H, W) boolean mask of bare slide (no cell of any kind).
        window: side of the square over which the background is averaged, in pixels (a few cells).
        share: fraction of the median instance's rise that an instance needs.
    """
    labels = np.asarray(labels)
    if not labels.any() or not np.any(background):
        return labels.astype(np.int32)
    rise, local_count = _colour_rise(rgb, background, window)
    index = np.arange(1, labels.max() + 1)
    present = np.asarray(ndimage.sum(np.ones_like(labels), labels, index)) > 0
    has_background = np.asarray(ndimage.maximum(local_count, labels, index)) > 0
    mean_rise = np.asarray(ndimage.mean(rise, labels, index))
    typical = float(np.median(mean_rise[present & has_background])) if np.any(present & has_background) else 0.0
    return _keep_instances(labels, index[present & (~has_background | (mean_rise >= share * typical))])


def large_piece_share(mask: np.ndarray, min_area: float) -> float:
    """Share of a (H, W) boolean mask's pixels in its 8-connected pieces of more than ``min_area`` pixels (0 if empty).

    The pieces that :func:`remove_slide_pixels` trims: where they hold most of the red-cell mask,
    the network has joined most red cells (and the slide between them) into a few pieces.
    """
    areas = np.bincount(label_instances(mask).ravel())[1:]
    total = int(areas.sum())
    return float(areas[areas > min_area].sum() / total) if total else 0.0


def remove_slide_pixels(
    mask: np.ndarray,
    rgb: np.ndarray,
    background: np.ndarray,
    window: int,
    share: float,
    min_area: float,
    max_hole: float,
) -> np.ndarray:
    """Take the slide-coloured pixels off the pieces of a mask that are far larger than one cell.

    Where cells crowd, a network may take the bare slide between them for cell: a dozen cells and
    the slide around them become one piece that no split can separate. In each piece of more than
    ``min_area`` pixels, the pixels whose colour strength rises above the slide's near them by less
    than ``share`` of the median smaller piece's rise (the measure of
    :func:`remove_background_coloured`) are taken off; holes of up to ``max_hole`` pixels that this
    leaves inside a piece (the pale centre of a target cell) are filled again. Pieces up to
    ``min_area`` are left as they are.

    Args:
        mask: (H, W) boolean mask of one kind of cell.
        rgb: (H, W, 3) uint8 photo at the same size.
        background: (H, W) boolean mask of bare slide (no cell of any kind).
        window: side of the square over which the slide is averaged, in pixels; where it holds no
            slide pixel, the photo's median slide colour stands in.
        share: fraction of the median smaller piece's rise that a pixel of a large piece needs.
        min_area: pieces larger than this (pixels) are trimmed.
        max_hole: holes up to this size (pixels) left inside a trimmed piece are filled.
    """
    mask = np.asarray(mask, dtype=bool)
    pieces = label_instances(mask)
    areas = np.bincount(pieces.ravel())[1:]
    large = np.flatnonzero(areas > min_area) + 1
    if large.size == 0 or not np.any(background):
        return mask
    rise, _ = _colour_rise(rgb, background, window, photo_slide=True)
    small = np.flatnonzero(areas <= min_area) + 1
    typical = float(np.median(ndimage.mean(rise, pieces, small))) if small.size else float(np.median(rise[mask]))
    in_large = np.isin(pieces, large)
    trimmed = mask & ~(in_large & (rise < share * typical))
    filled = remove_small_holes(trimmed, max_size=int(max_hole))
    return np.where(in_large, filled, trimmed)


def _colour_rise(
    rgb: np.ndarray, background: np.ndarray, window: int, photo_slide: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's colour strength above the bare slide near it, and the number of slide pixels near it.

    Each pixel's colour is divided, channel by channel, by the mean colour of the ``background``
    pixels in a ``window``-pixel square around it; its strength is then the HSV saturation, and its
    rise the strength above the mean strength of those slide pixels. Where the window holds no
    slide pixel, the colour is left undivided and the rise is the strength itself, or, with
    ``photo_slide``, both are taken against the photo's median slide pixel.
    """
    bare = np.asarray(background, dtype=bool)
    weight = bare.astype(np.float32)
    size = (max(3, int(window)), max(3, int(window)))

    def local_sum(values: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(values, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)

    local_count = local_sum(weight)
    colour = np.asarray(rgb, dtype=np.float32)
    slide = np.stack([local_sum(colour[..., c] * weight) for c in range(3)], axis=-1)
    slide /= np.maximum(local_count, 1.0)[..., None]
    alone = local_count == 0
    stand_in = photo_slide and bool(alone.any())
    if stand_in:
        slide[alone] = np.median(colour[bare], axis=0)
    adapted = colour / np.maximum(slide, 1.0)
    red, green, blue = adapted[..., 0], adapted[..., 1], adapted[..., 2]
    # channel by channel: numpy's max and min along a last axis of 3 take several times longer
    high = np.maximum(np.maximum(red, green), blue)
    saturation = (high - np.minimum(np.minimum(red, green), blue)) / np.maximum(high, 1e-6)
    slide_strength = local_sum(saturation * weight) / np.maximum(local_count, 1.0)
    if stand_in:
        slide_strength[alone] = np.median(saturation[bare])
    return saturation - slide_strength, local_count
