"""Red-cell diameter from a mask of constructed disks."""

from __future__ import annotations

import numpy as np
import pytest

from hemseg.postproc import rbc_diameter


def disks(centres, radius, shape=(400, 400)) -> np.ndarray:
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, bool)
    for r, c in centres:
        mask |= (rows - r) ** 2 + (cols - c) ** 2 <= radius**2
    return mask


@pytest.mark.parametrize("diameter", [30, 48, 80])
def test_separate_and_touching_disks_give_their_diameter(diameter):
    step = diameter + 4
    centres = [(r, c) for r in range(step, 400 - step, step) for c in range(step, 400 - step, step)]
    touching = [(r, c + diameter // 2) for r, c in centres[:2]]  # two overlapping pairs
    estimate, cells = rbc_diameter(disks(centres + touching, diameter / 2), assumed_px=60, percentile=75, min_cells=5)
    assert cells >= len(centres)
    assert estimate == pytest.approx(diameter, rel=0.08)


def test_pallor_holes_are_filled():
    mask = disks([(100, 100), (100, 200), (200, 100), (200, 200), (300, 300)], 24)
    mask &= ~disks([(100, 100), (100, 200), (200, 100), (200, 200), (300, 300)], 8)
    assert rbc_diameter(mask, assumed_px=48, percentile=75, min_cells=5)[0] == pytest.approx(48, rel=0.08)


def test_too_few_cells_give_no_estimate():
    assert rbc_diameter(disks([(100, 100), (200, 200)], 24), assumed_px=48, percentile=75, min_cells=5) == (None, 2)
    with pytest.raises(ValueError):
        rbc_diameter(np.zeros((10, 10), bool), assumed_px=0, percentile=75, min_cells=5)


def test_clear_of_edge_leaves_out_pieces_running_off_the_photo():
    inside = [(100, 100), (100, 200), (100, 300), (200, 150), (200, 250), (300, 200)]  # 6 whole 40 px cells
    mask = disks(inside, 20) | disks([(200, 0), (0, 200), (399, 330)], 35)  # three pieces running off the photo
    estimate, cells = rbc_diameter(mask, assumed_px=48, percentile=75, min_cells=5)
    assert cells == 9 and estimate == pytest.approx(70, rel=0.03)  # the clumps raise the upper percentile
    estimate, cells = rbc_diameter(mask, assumed_px=48, percentile=75, min_cells=5, clear_of_edge=True)
    assert cells == 9 and estimate == pytest.approx(40, rel=0.03)
    # fewer than min_cells clear of the edge: every cell counts, as without the rule
    assert rbc_diameter(mask, assumed_px=48, percentile=75, min_cells=7, clear_of_edge=True)[0] == pytest.approx(
        70, rel=0.03
    )
