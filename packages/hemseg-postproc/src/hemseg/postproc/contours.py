"""Cell instances -> outline polygons, and outlines drawn over the image."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np
from scipy import ndimage


def instance_polygons(labels: np.ndarray) -> dict[int, list[tuple[int, int]]]:
    """Outer outline of every instance on pixel corners, as (x, y) vertices.

    Pixel (row r, column c) is the square from corner (c, r) to (c + 1, r + 1), so an outline of a
    piece without holes encloses exactly its pixel count (the union of its pixel squares). An
    instance in several pieces (pixels that share only a corner belong to different pieces) gets the
    outline of its largest piece, of equal ones the first in row-major order. Collinear vertices are
    dropped; the polygons are closed implicitly (the first vertex is not repeated).
    """
    labels = np.asarray(labels)
    polygons = {}
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is not None:
            polygons[index] = _corner_outline(labels[box] == index, box[1].start, box[0].start)
    return polygons


def _corner_outline(mask: np.ndarray, left: int, top: int) -> list[tuple[int, int]]:
    """Pixel-corner outline of the largest piece of a boolean ``mask`` whose top-left pixel is (left, top).

    OpenCV traces the outer border of the piece drawn twice as large, where pixel 2i of the border
    lies on corner i and pixel 2i + 1 on corner i + 1 (each pixel's far side).
    """
    pieces, count = ndimage.label(mask)  # 4-connected
    if count > 1:
        mask = pieces == np.argmax(np.bincount(pieces.ravel())[1:]) + 1
    doubled = np.repeat(np.repeat(mask.astype(np.uint8), 2, axis=0), 2, axis=1)
    contours, _ = cv2.findContours(doubled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    corners = (contours[0][:, 0, :] + 1) // 2
    corners = corners[np.any(corners != np.roll(corners, 1, axis=0), axis=1)]  # border pixels on one corner
    (ax, ay), (bx, by) = (corners - np.roll(corners, 1, axis=0)).T, (np.roll(corners, -1, axis=0) - corners).T
    turn = ax * by - ay * bx  # zero where the outline goes straight on
    return [(int(x) + left, int(y) + top) for x, y in corners[turn != 0]]


def draw_outlines(
    image: np.ndarray,
    outlines: Iterable[tuple[Sequence[tuple[int, int]], tuple[int, int, int]]],
    thickness: int = 2,
) -> np.ndarray:
    """Copy of an (H, W, 3) uint8 RGB image with each (polygon, RGB colour) outline drawn on it."""
    canvas = np.ascontiguousarray(np.asarray(image, dtype=np.uint8).copy())
    for polygon, colour in outlines:
        points = np.rint(np.asarray(polygon, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], isClosed=True, color=tuple(int(c) for c in colour), thickness=thickness)
    return canvas
