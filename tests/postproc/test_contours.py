"""Instance outlines and outlines drawn on an image."""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon

from hemseg.postproc import draw_outlines, instance_polygons


def test_outlines_lie_on_pixel_corners_and_enclose_the_pixel_count():
    labels = np.zeros((20, 30), np.int32)
    labels[5:10, 10:20] = 1
    labels[12:15, 0:3] = 3  # label 2 absent
    labels[0, 25] = 4  # one pixel
    yy, xx = np.mgrid[:20, :30]
    disc = (yy - 10) ** 2 + (xx - 24) ** 2 <= 16
    labels[disc] = 5
    polygons = instance_polygons(labels)
    assert set(polygons) == {1, 3, 4, 5}
    assert sorted(polygons[1]) == [(10, 5), (10, 10), (20, 5), (20, 10)]
    assert sorted(polygons[3]) == [(0, 12), (0, 15), (3, 12), (3, 15)]
    assert sorted(polygons[4]) == [(25, 0), (25, 1), (26, 0), (26, 1)]
    assert Polygon(polygons[5]).area == disc.sum() == 49
    assert all(Polygon(polygons[i]).area == (labels == i).sum() for i in (1, 3, 4))


def test_an_instance_in_pieces_gets_its_largest_pieces_outer_outline():
    labels = np.zeros((12, 16), np.int32)
    labels[1:6, 1:6] = 1  # a ring: the outline goes round its hole
    labels[3, 3] = 0
    labels[6, 6] = 1  # touches the ring at one corner: another piece
    labels[8:10, 1:3] = 2  # two pieces of 4 pixels: the first in row-major order
    labels[8:10, 10:12] = 2
    labels[7, 5:8] = 2  # 3 pixels, first in row-major order but smaller
    labels[10:12, 5:15] = 3  # an L of 2 x 10 and 4 x 2: six corners
    labels[6:10, 13:15] = 3
    polygons = instance_polygons(labels)
    assert sorted(polygons[1]) == [(1, 1), (1, 6), (6, 1), (6, 6)]
    assert sorted(polygons[2]) == [(1, 8), (1, 10), (3, 8), (3, 10)]
    assert sorted(polygons[3]) == [(5, 10), (5, 12), (13, 6), (13, 10), (15, 6), (15, 12)]
    assert Polygon(polygons[3]).area == (labels == 3).sum() == 28


def test_outline_drawn_in_its_colour_image_untouched():
    image = np.full((20, 30, 3), 200, np.uint8)
    out = draw_outlines(image, [([(10, 5), (19, 5), (19, 9), (10, 9)], (255, 0, 0))], thickness=1)
    assert (image == 200).all()
    assert tuple(out[5, 15]) == (255, 0, 0) and tuple(out[7, 15]) == (200, 200, 200)
