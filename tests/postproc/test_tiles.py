"""Tiles whose cores partition the image."""

from __future__ import annotations

import numpy as np
import pytest

from hemseg.postproc import tile_grid


@pytest.mark.parametrize(
    ("shape", "tile", "margin"), [((480, 640), (300, 400), 50), ((7776, 10368), (2121, 2828), 166)]
)
def test_cores_partition_the_image_and_tiles_stay_within_size(shape, tile, margin):
    grid = tile_grid(shape, tile, margin)
    covered = np.zeros(shape, np.uint8)
    for ((y0, y1), (x0, x1)), ((cy0, cy1), (cx0, cx1)) in grid:
        covered[cy0:cy1, cx0:cx1] += 1
        assert y1 - y0 <= tile[0] and x1 - x0 <= tile[1]
        assert (cy0 - y0, cx0 - x0) == (min(margin, cy0), min(margin, cx0))  # the margin, clipped at the edge
        assert (y1 - cy1, x1 - cx1) == (min(margin, shape[0] - cy1), min(margin, shape[1] - cx1))
    assert (covered == 1).all()


def test_a_margin_too_large_for_the_tile_is_refused():
    with pytest.raises(ValueError, match="cannot hold a margin"):
        tile_grid((100, 100), (50, 50), 25)
