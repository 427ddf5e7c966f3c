"""Cell instances -> fixed-scale patches for the classifier, one per cell, centred on the cell."""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage


def central_instance(labels: np.ndarray) -> int:
    """Return the label of the instance nearest the image centre (0 when there is none).

    Distance is measured from the centre to the instance's nearest pixel, so a cell covering the
    centre always wins.
    """
    labels = np.asarray(labels)
    if not labels.any():
        return 0
    centre = ((labels.shape[0] - 1) / 2.0, (labels.shape[1] - 1) / 2.0)
    rows, cols = np.nonzero(labels)
    nearest = np.argmin((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2)
    return int(labels[rows[nearest], cols[nearest]])


def cell_patch(
    image: np.ndarray,
    cell_mask: np.ndarray,
    rbc_px: float,
    target_rbc_px: float,
    size: int,
    centre: tuple[float, float] | None = None,
) -> np.ndarray:
    """Cut a square patch centred on one cell, zoomed so that red cells measure ``target_rbc_px``.

    Args:
        image: (H, W, 3) RGB image (uint8, or float in [0, 1]).
        cell_mask: (H, W) boolean mask of this one cell (may be empty: then ``centre`` is used).
        rbc_px: red-cell diameter of ``image`` in pixels.
        target_rbc_px: red-cell diameter in the patch.
        size: side of the patch in pixels.
        centre: (row, col) of the patch centre; default: the mask's centroid, or the image centre
            when the mask is empty.

    Returns:
        (size, size, 4) uint8: RGB, then the cell mask (0/255). Outside the image the edge pixels
        are repeated (smear background), with an empty mask.

    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {image.shape}")
    cell_mask = np.asarray(cell_mask, dtype=bool)
    if cell_mask.shape != image.shape[:2]:
        raise ValueError(f"mask shape {cell_mask.shape} differs from image shape {image.shape[:2]}")
    if rbc_px <= 0 or target_rbc_px <= 0 or size <= 0:
        raise ValueError("rbc_px, target_rbc_px and size must be positive")
    if image.dtype != np.uint8:
        image = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    if centre is None:
        centre = (
            ndimage.center_of_mass(cell_mask)
            if cell_mask.any()
            else ((image.shape[0] - 1) / 2.0, (image.shape[1] - 1) / 2.0)
        )
    zoom = target_rbc_px / float(rbc_px)
    # affine map from image to patch coordinates: zoom about the centre, centre -> patch middle
    half = (size - 1) / 2.0
    matrix = np.array([[zoom, 0.0, half - zoom * centre[1]], [0.0, zoom, half - zoom * centre[0]]], dtype=np.float64)
    interpolation = cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR
    if zoom < 1:
        # INTER_AREA only applies to resize, so pre-shrink, then place with an adjusted affine map
        shrunk = cv2.resize(image, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
        sy, sx = shrunk.shape[0] / image.shape[0], shrunk.shape[1] / image.shape[1]
        matrix = np.array(
            [[zoom / sx, 0.0, half - zoom * centre[1]], [0.0, zoom / sy, half - zoom * centre[0]]],
            dtype=np.float64,
        )
        source, interpolation = shrunk, cv2.INTER_LINEAR
        mask_source = cv2.resize(cell_mask.astype(np.uint8) * 255, (shrunk.shape[1], shrunk.shape[0]))
    else:
        source, mask_source = image, cell_mask.astype(np.uint8) * 255
    rgb = cv2.warpAffine(source, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(mask_source, matrix, (size, size), flags=cv2.INTER_NEAREST, borderValue=0)
    return np.concatenate([rgb, (mask >= 128).astype(np.uint8)[..., None] * 255], axis=2)


def central_cell(labels: np.ndarray) -> np.ndarray:
    """(H, W) bool mask of the labelled cell nearest the image centre (empty when there is none)."""
    index = central_instance(labels)
    return labels == index if index else np.zeros(np.shape(labels), bool)


def full_size_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A boolean mask resized (nearest neighbour) to ``shape``, working on its bounding box only."""
    if mask.shape == shape:
        return mask
    scale_y, scale_x = shape[0] / mask.shape[0], shape[1] / mask.shape[1]
    rows, cols = np.nonzero(mask)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    y0, y1 = round(top * scale_y), min(shape[0], round(bottom * scale_y))
    x0, x1 = round(left * scale_x), min(shape[1], round(right * scale_x))
    full = np.zeros(shape, bool)
    piece = mask[top:bottom, left:right].astype(np.uint8)
    full[y0:y1, x0:x1] = cv2.resize(piece, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST) > 0
    return full


def cell_patches(
    image: np.ndarray, labels: np.ndarray, table: dict, rbc_px: float, target_rbc_px: float, size: int
) -> np.ndarray:
    """(N, size, size, 4) uint8 patches (:func:`cell_patch`) of the cells of ``table``, one per row.

    ``labels`` may be smaller than the (H, W, 3) ``image`` (cells found on a shrunk copy): each mask
    is brought to the image's size and the patch cut from the full-resolution image, whose red-cell
    diameter is ``rbc_px``. ``table`` is ``labels``' :func:`hemseg.postproc.instance_table`.
    """
    patches = np.zeros((len(table["label"]), size, size, 4), np.uint8)
    sy, sx = image.shape[0] / labels.shape[0], image.shape[1] / labels.shape[1]
    for row, index in enumerate(table["label"]):
        mask = full_size_mask(labels == index, image.shape[:2])
        centre = ((table["centroid-0"][row] + 0.5) * sy - 0.5, (table["centroid-1"][row] + 0.5) * sx - 0.5)
        patches[row] = cell_patch(image, mask, rbc_px, target_rbc_px, size, centre=centre)
    return patches
