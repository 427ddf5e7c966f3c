"""Cells marked by points (``points.csv``) paired with the segmented instances that hold them."""

from __future__ import annotations

import numpy as np

from hemseg.postproc.instances import instance_table
from hemseg.postproc.patches import cell_patches


def instances_at_points(labels: np.ndarray, points_xy: np.ndarray, radius: float = 0.0) -> np.ndarray:
    """The label of the instance under each point: (N,) int, 0 where no instance holds it.

    Args:
        labels: (H, W) instance labels, 0 = background.
        points_xy: (N, 2) point positions (x, y) in ``labels``' pixels.
        radius: a point on the background within this many pixels of instances takes the one with
            most pixels in that disc (a mark set just beside a small cell); 0 = the pixel only.
    """
    labels = np.asarray(labels)
    points = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    height, width = labels.shape
    found = np.zeros(len(points), dtype=np.int64)
    reach = int(np.ceil(radius))
    offsets = [
        (dy, dx) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1) if dy * dy + dx * dx <= radius**2
    ]
    for row, (x, y) in enumerate(points):
        col, line = round(float(x)), round(float(y))
        if not (0 <= line < height and 0 <= col < width):
            continue
        found[row] = labels[line, col]
        if found[row] or not reach:
            continue
        near = [labels[line + dy, col + dx] for dy, dx in offsets if 0 <= line + dy < height and 0 <= col + dx < width]
        near = np.asarray([value for value in near if value], dtype=np.int64)
        if near.size:
            values, counts = np.unique(near, return_counts=True)
            found[row] = values[np.argmax(counts)]
    return found


def point_instances(
    labels: np.ndarray, image_shape: tuple[int, int], points_xy: np.ndarray, rbc_px: float, radius: float = 0.15
) -> np.ndarray:
    """The instance under each point of a photo: (N,) labels, 0 where none holds it (:func:`instances_at_points`).

    Args:
        labels: instance labels of the photo, possibly at a smaller working scale.
        image_shape: the photo's (H, W).
        points_xy: (N, 2) point positions (x, y) in the photo's pixels.
        rbc_px: the photo's red-cell diameter in its own pixels.
        radius: :func:`instances_at_points`' radius, in red-cell diameters.
    """
    points = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    sy, sx = labels.shape[0] / image_shape[0], labels.shape[1] / image_shape[1]
    at_scale = (points + 0.5) * (sx, sy) - 0.5
    return instances_at_points(labels, at_scale, radius * rbc_px * sx)


def point_patches(
    image: np.ndarray,
    labels: np.ndarray,
    points_xy: np.ndarray,
    rbc_px: float,
    target_rbc_px: float,
    size: int,
    radius: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair points with the instances that hold them and cut each one's patch (:func:`cell_patches`).

    Args:
        image: (H, W, 3) uint8 RGB photo.
        labels: instance labels of the photo, possibly at a smaller working scale.
        points_xy: (N, 2) point positions (x, y) in the photo's pixels.
        rbc_px: the photo's red-cell diameter in its own pixels.
        target_rbc_px: red-cell diameter in the patches.
        size: side of the patches.
        radius: :func:`instances_at_points`' radius, in red-cell diameters.

    Returns:
        ``(instances, patches)``: (N,) the label of each point's instance (0: none holds it) and
        (N, size, size, 4) uint8 patches, all zero for points without an instance.
    """
    instances = point_instances(labels, image.shape[:2], points_xy, rbc_px, radius)
    patches = np.zeros((len(instances), size, size, 4), np.uint8)
    wanted = np.unique(instances[instances > 0])
    if wanted.size:
        table = instance_table(labels, only=wanted)
        cut = cell_patches(image, labels, table, rbc_px, target_rbc_px, size)
        row_of = {int(label): row for row, label in enumerate(table["label"])}
        for i, instance in enumerate(instances):
            if instance:
                patches[i] = cut[row_of[int(instance)]]
    return instances, patches
