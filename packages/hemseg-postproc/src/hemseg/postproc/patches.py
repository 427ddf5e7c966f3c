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


def cell_patches(
    image: np.ndarray, labels: np.ndarray, table: dict, rbc_px: float, target_rbc_px: float, size: int
) -> np.ndarray:
    """(N, size, size, 4) uint8 patches of the cells of ``table``, one per row, as :func:`cell_patch` cuts them.

    ``labels`` may be smaller than the (H, W, 3) ``image`` (cells found on a shrunk copy): each
    patch is cut from the full-resolution image, whose red-cell diameter is ``rbc_px``, and each
    cell's mask is mapped from ``labels`` straight into its patch (nearest neighbour). ``table`` is
    ``labels``' :func:`hemseg.postproc.instance_table` (labels, centroids, boxes). The image is
    shrunk once for all cells and each cell works on its own window, so the time grows with the
    number of cells, not with cells times pixels (a field's hundreds of red cells).
    """
    patches = np.zeros((len(table["label"]), size, size, 4), np.uint8)
    if not len(patches):
        return patches
    if image.dtype != np.uint8:
        image = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    zoom = target_rbc_px / float(rbc_px)
    # INTER_AREA only applies to resize: shrink once, then place with adjusted maps
    source = cv2.resize(image, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA) if zoom < 1 else image
    ky, kx = source.shape[0] / image.shape[0], source.shape[1] / image.shape[1]  # source px per image px
    sy, sx = image.shape[0] / labels.shape[0], image.shape[1] / labels.shape[1]  # image px per label px
    half = (size - 1) / 2.0
    reach = size / 2.0 / zoom + 2.0  # image px from the centre to beyond the patch's edge
    for row, index in enumerate(table["label"]):
        cy = (table["centroid-0"][row] + 0.5) * sy - 0.5
        cx = (table["centroid-1"][row] + 0.5) * sx - 0.5
        # colour: the source's window around the centre (clipped windows end where the image ends, so
        # the replicated border is the image's own)
        y0, x0 = max(0, int(np.floor(ky * (cy - reach)))), max(0, int(np.floor(kx * (cx - reach))))
        y1 = min(source.shape[0], int(np.ceil(ky * (cy + reach))) + 1)
        x1 = min(source.shape[1], int(np.ceil(kx * (cx + reach))) + 1)
        matrix = np.array(
            [[zoom / kx, 0.0, half - zoom * cx + zoom / kx * x0], [0.0, zoom / ky, half - zoom * cy + zoom / ky * y0]]
        )
        rgb = cv2.warpAffine(
            source[y0:y1, x0:x1], matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        # mask: the cell's box of labels, each label pixel's centre mapped to the patch, with the
        # colour's shift (a shrunk source's pixel i taken at i / k, as cell_patch places it)
        top, left = int(table["bbox-0"][row]), int(table["bbox-1"][row])
        cell = (labels[top : int(table["bbox-2"][row]), left : int(table["bbox-3"][row])] == index).astype(np.uint8)
        matrix = np.array(
            [
                [zoom * sx, 0.0, zoom * ((left + 0.5) * sx - 0.5 - cx) + half + zoom * (1 - 1 / kx) / 2],
                [0.0, zoom * sy, zoom * ((top + 0.5) * sy - 0.5 - cy) + half + zoom * (1 - 1 / ky) / 2],
            ]
        )
        mask = cv2.warpAffine(cell, matrix, (size, size), flags=cv2.INTER_NEAREST, borderValue=0)
        patches[row] = np.concatenate([rgb, mask[..., None] * 255], axis=2)
    return patches
