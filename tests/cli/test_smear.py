"""The class a segmented white cell gets: platelet calls overruled by the cell's size."""

from __future__ import annotations

import numpy as np

from hemseg.cli.smear import MAX_PLATELET_AREA, pick_class

NAMES = ("neutrophil", "lymphocyte", "platelet", "blast")


def test_top_class_kept_when_not_platelet():
    assert pick_class(np.array([0.7, 0.2, 0.05, 0.05]), NAMES, area_in_rbc=2.0) == (0, False)


def test_small_platelet_stays_platelet():
    assert pick_class(np.array([0.1, 0.05, 0.8, 0.05]), NAMES, area_in_rbc=0.1) == (2, False)


def test_platelet_call_on_a_cell_too_big_for_one_takes_next_class():
    scores = np.array([0.05, 0.15, 0.8, 0.0])
    assert pick_class(scores, NAMES, area_in_rbc=MAX_PLATELET_AREA) == (1, True)
    assert pick_class(scores, NAMES, area_in_rbc=0.67) == (1, True)
