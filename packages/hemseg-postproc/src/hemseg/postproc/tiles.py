"""A large image cut into overlapping tiles whose cores partition it (tile-by-tile analysis)."""

from __future__ import annotations

import itertools
import math

import numpy as np

Span = tuple[int, int]


def tile_grid(
    shape: tuple[int, int], tile_shape: tuple[int, int], margin: int
) -> list[tuple[tuple[Span, Span], tuple[Span, Span]]]:
    """Tiles of at most ``tile_shape`` covering an image of ``shape``, and their cores.

    The cores, equal in size along each axis, partition the image; each tile is its core grown by
    ``margin`` pixels on every side, clipped to the image. An object whose centre lies in a core
    and whose radius is below ``margin`` lies whole inside that core's tile.

    Returns:
        ((tile rows, tile columns), (core rows, core columns)) per tile, each a (start, stop) span,
        row by row.

    Raises:
        ValueError: a tile is not larger than twice the margin.
    """
    axes = []
    for size, tile in zip(shape, tile_shape, strict=True):
        step = tile - 2 * margin
        if step <= 0:
            raise ValueError(f"tiles of {tile} px cannot hold a margin of {margin} px on both sides")
        bounds = np.linspace(0, size, max(1, math.ceil(size / step)) + 1).round().astype(int)
        axes.append(
            [((max(0, a - margin), min(size, b + margin)), (a, b)) for a, b in itertools.pairwise(bounds.tolist())]
        )
    return [
        ((rows, columns), (core_rows, core_columns)) for rows, core_rows in axes[0] for columns, core_columns in axes[1]
    ]
