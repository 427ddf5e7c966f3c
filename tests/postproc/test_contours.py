"""Instance outlines and outlines drawn on an image."""

from __future__ import annotations

import numpy as np

from hemseg.postproc import draw_outlines, instance_polygons


def test_square_instance_outline_is_its_corners():
    labels = np.zeros((20, 30), np.int32)
    labels[5:10, 10:20] = 1
    labels[12:15, 0:3] = 3  # label 2 absent
    polygons = instance_polygons(labels)
    assert set(polygons) == {1, 3}
    assert sorted(polygons[1]) == [(10, 5), (10, 9), (19, 5), (19, 9)]
    assert sorted(polygons[3]) == [(0, 12), (0, 14), (2, 12), (2, 14)]


def test_outline_drawn_in_its_colour_image_untouched():
    image = np.full((20, 30, 3), 200, np.uint8)
    out = draw_outlines(image, [([(10, 5), (19, 5), (19, 9), (10, 9)], (255, 0, 0))], thickness=1)
    assert (image == 200).all()
    assert tuple(out[5, 15]) == (255, 0, 0) and tuple(out[7, 15]) == (200, 200, 200)
