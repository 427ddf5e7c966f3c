"""Cell instances -> outline polygons, and outlines drawn over the image."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np
from scipy import ndimage


def instance_polygons(labels: np.ndarray) -> dict[int, list[tuple[int, int]]]:
    """Outer outline of every instance as (x, y) pixel vertices (OpenCV ``findContours``).

    An instance in several pieces gets the outline of its largest piece. The polygons are closed
    implicitly (the first vertex is not repeated).
    """
    labels = np.asarray(labels)
    polygons = {}
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        piece = np.pad((labels[box] == index).astype(np.uint8), 1)
        contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        outline = max(contours, key=cv2.contourArea)[:, 0, :]
        top, left = box[0].start - 1, box[1].start - 1
        polygons[index] = [(int(x) + left, int(y) + top) for x, y in outline]
    return polygons


def draw_outlines(
    image: np.ndarray,
    outlines: Iterable[tuple[Sequence[tuple[int, int]], tuple[int, int, int]]],
    thickness: int = 2,
) -> np.ndarray:
    """Copy of an (H, W, 3) uint8 RGB image with each (polygon, RGB colour) outline drawn on it."""
    canvas = np.ascontiguousarray(np.asarray(image, dtype=np.uint8).copy())
    for polygon, colour in outlines:
        points = np.asarray(polygon, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], isClosed=True, color=tuple(int(c) for c in colour), thickness=thickness)
    return canvas
