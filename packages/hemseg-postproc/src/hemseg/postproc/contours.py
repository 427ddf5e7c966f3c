"""Cell instances -> outline polygons, and outlines drawn over the image."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np
import shapely
from scipy import ndimage


def instance_polygons(labels: np.ndarray) -> dict[int, list[tuple[int, int]]]:
    """Outer outline of every instance on pixel corners, as (x, y) vertices.

    Pixel (row r, column c) is the square from corner (c, r) to (c + 1, r + 1), so an outline of a
    piece without holes encloses exactly its pixel count (the union of its pixel squares, by
    Shapely). An instance in several pieces gets the outline of its largest piece. Collinear
    vertices are dropped; the polygons are closed implicitly (the first vertex is not repeated).
    """
    labels = np.asarray(labels)
    polygons = {}
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is not None:
            polygons[index] = _corner_outline(labels[box] == index, box[1].start, box[0].start)
    return polygons


def _corner_outline(mask: np.ndarray, left: int, top: int) -> list[tuple[int, int]]:
    """Pixel-corner outline of the largest piece of a boolean ``mask`` whose top-left pixel is (left, top)."""
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)  # runs of pixels per row, in row-major order
    ends = np.nonzero(edges == -1)[1]
    union = shapely.union_all(shapely.box(starts + left, rows + top, ends + left, rows + top + 1))
    piece = max(getattr(union, "geoms", [union]), key=lambda g: g.area).simplify(0)
    return [(int(x), int(y)) for x, y in piece.exterior.coords[:-1]]


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
