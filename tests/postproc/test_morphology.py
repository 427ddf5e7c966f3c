from __future__ import annotations

import numpy as np
import pytest

from hemseg.postproc import clean_mask


def test_threshold_fills_holes_and_drops_specks():
    probability = np.zeros((40, 40))
    probability[5:25, 5:25] = 0.9
    probability[12:16, 12:16] = 0.1  # a hole inside the cell
    probability[35, 35] = 0.7  # a one-pixel speck
    mask = clean_mask(probability, threshold=0.5, closing_radius=0, min_area=5)
    assert mask.dtype == bool
    assert mask.sum() == 400
    assert not mask[35, 35]


def test_threshold_is_inclusive_and_closing_bridges_gaps():
    probability = np.full((5, 5), 0.5)
    assert clean_mask(probability, closing_radius=0).all()
    gap = np.zeros((30, 30))
    gap[10:20, 5:14] = 1.0
    gap[10:20, 15:25] = 1.0  # a one-pixel crack through a cell
    assert clean_mask(gap, closing_radius=0, fill_holes=False).sum() == 190
    closed = clean_mask(gap, closing_radius=2, fill_holes=False)
    assert closed[11:19, 14].all()  # the crack is closed inside the cell
    assert closed[gap > 0].all() and closed.sum() == 198  # the crack's two end pixels stay open


def test_rejects_non_2d_input():
    with pytest.raises(ValueError, match="2D"):
        clean_mask(np.zeros((2, 3, 3)))
