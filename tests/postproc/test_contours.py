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


def test_outline_drawn_in_its_colour_image_untouched():
    image = np.full((20, 30, 3), 200, np.uint8)
    out = draw_outlines(image, [([(10, 5), (19, 5), (19, 9), (10, 9)], (255, 0, 0))], thickness=1)
    assert (image == 200).all()
    assert tuple(out[5, 15]) == (255, 0, 0) and tuple(out[7, 15]) == (200, 200, 200)
