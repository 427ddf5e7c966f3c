"""Classification scores with partial labels, and their bootstrap intervals, on constructed predictions."""

from __future__ import annotations

import pytest

from hemseg.models import (
    classification_scores,
    group_accuracy,
    group_bootstrap,
    paired_group_bootstrap,
    shared_cell_scores,
)


def test_scores_count_any_non_blast_class_right_for_non_blast():
    labels = ["blast", "blast", "blast", "non_blast", "non_blast", "non_blast", "non_blast"]
    predicted = ["blast", "blast", "lymphocyte", "lymphocyte", "monocyte", "blast", "neutrophil"]
    scores = classification_scores(labels, predicted, [0.9] * 7)
    assert scores["accuracy"] == pytest.approx(5 / 7)
    blast, non_blast = scores["per_class"]["blast"], scores["per_class"]["non_blast"]
    assert (blast["precision"], blast["recall"], blast["support"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 3)
    assert (non_blast["precision"], non_blast["recall"]) == (pytest.approx(3 / 4), pytest.approx(3 / 4))
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 3 / 4) / 2)
    # one vs rest: "is blast" agrees with "labelled blast" on 5 of 7 images, so does "is non_blast"
    assert blast["accuracy"] == non_blast["accuracy"] == pytest.approx(5 / 7)
    assert scores["confusion"]["labels"] == ["blast", "non_blast"]
    columns = scores["confusion"]["predicted"]
    assert columns[:5] == ["neutrophil", "eosinophil", "basophil", "lymphocyte", "monocyte"] and columns[-1] == "blast"
    assert scores["confusion"]["matrix"][0][columns.index("blast")] == 2
    assert sum(map(sum, scores["confusion"]["matrix"])) == 7


def test_expected_calibration_error_of_the_top_probability():
    labels = ["neutrophil"] * 10
    right_when_sure = classification_scores(labels, ["neutrophil"] * 10, [1.0] * 10)
    assert right_when_sure["ece"] == pytest.approx(0.0)
    # 90 % confident, half right: |0.9 - 0.5| in the one occupied bin
    half = classification_scores(labels, ["neutrophil"] * 5 + ["monocyte"] * 5, [0.9] * 10)
    assert half["ece"] == pytest.approx(0.4, abs=1e-6)
    assert half["per_class"]["neutrophil"]["recall"] == 0.5
    assert half["per_class"]["neutrophil"]["accuracy"] == 0.5


def test_group_bootstrap_is_exact_where_every_group_scores_alike():
    # two photos, each with one right and one wrong: every draw scores 0.5, so the interval is a point
    labels = ["normal", "target_cell", "normal", "target_cell"]
    predicted = ["normal", "normal", "normal", "normal"]
    found = group_bootstrap(labels, predicted, ["a", "a", "b", "b"], classes=("normal", "target_cell"))
    assert found["accuracy"] == [0.5, 0.5] and found["unit_count"] == 2 and found["level"] == 0.95
    # normal: precision 1/2, recall 1 -> F1 2/3; target_cell: F1 0 -> macro F1 1/3 in every draw
    assert found["macro_f1"] == [pytest.approx(1 / 3), pytest.approx(1 / 3)]


def test_group_bootstrap_draws_whole_groups():
    # a photo all right and one all wrong: a quarter of the draws hold only one of them, so the
    # 95 % interval runs from 0 to 1; points drawn one by one would narrow it
    labels, predicted = ["normal"] * 6, ["normal"] * 3 + ["spherocyte"] * 3
    found = group_bootstrap(labels, predicted, ["a"] * 3 + ["b"] * 3, classes=("normal", "spherocyte"))
    assert found["accuracy"] == [0.0, 1.0]
    # one group per point: six units, and no draw of six points is all wrong or all right at 2.5 %
    alone = group_bootstrap(labels, predicted, list("abcdef"), classes=("normal", "spherocyte"))
    assert 0.0 < alone["accuracy"][0] < 0.5 < alone["accuracy"][1] < 1.0
    # partial labels as classification_scores counts them: any non-blast class is right for non_blast
    partial = group_bootstrap(["non_blast"] * 2, ["lymphocyte", "monocyte"], ["a", "b"])
    assert partial["accuracy"] == [1.0, 1.0]


def test_group_accuracy_counts_each_group_worst_first():
    labels = ["normal", "normal", "spherocyte", "normal", "schistocyte"]
    predicted = ["normal", "target_cell", "spherocyte", "normal", "target_cell"]
    found = group_accuracy(labels, predicted, ["b", "b", "a", "a", "c"])
    assert list(found) == ["c", "b", "a"]
    assert found == {
        "c": {"points": 1, "accuracy": 0.0},
        "b": {"points": 2, "accuracy": 0.5},
        "a": {"points": 2, "accuracy": 1.0},
    }


def test_shared_cell_scores_count_points_that_share_a_cell_with_another_class():
    # cell 1 holds a spherocyte and two target cells (one answer: at most the two target cells right),
    # cell 2 two normal cells, cell 3 one ovalocyte; one point lies on no cell
    labels = ["spherocyte", "target_cell", "target_cell", "normal", "normal", "ovalocyte", "normal"]
    predicted = ["target_cell", "target_cell", "target_cell", "normal", "normal", "normal", "unmatched"]
    cells = [1, 1, 1, 2, 2, 3, None]
    assert shared_cell_scores(labels, predicted, cells) == {
        "points": 3,
        "cells": 1,
        "accuracy": 2 / 3,
        "accuracy_elsewhere": 2 / 3,  # of the 3 points alone on their class's cell
        "best_possible_accuracy": 5 / 7,  # 2 + 2 + 1 of 7: the unmatched point stays wrong
    }
    assert shared_cell_scores([], [], [])["best_possible_accuracy"] is None


def test_paired_group_bootstrap_draws_the_same_groups_for_both():
    before = {"a": {"points": 2, "accuracy": 0.5}, "b": {"points": 4, "accuracy": 0.25}}
    # every group gains half its points: every draw gains 0.5, whichever groups it holds
    after = {"a": {"points": 2, "accuracy": 1.0}, "b": {"points": 4, "accuracy": 0.75}}
    found = paired_group_bootstrap(before, after)
    assert found["gain"] == pytest.approx(0.5) and found["interval"] == [pytest.approx(0.5)] * 2
    assert (found["share_above_zero"], found["unit_count"]) == (1.0, 2)
    # one group gains 2 of 2 points, the other none of 4: draws of "b" alone gain nothing
    after = {"a": {"points": 2, "accuracy": 1.0}, "b": {"points": 4, "accuracy": 0.25}}
    found = paired_group_bootstrap(before, after)
    assert found["gain"] == pytest.approx(1 / 6) and found["interval"] == [0.0, pytest.approx(0.5)]
    with pytest.raises(ValueError, match="same groups"):
        paired_group_bootstrap(before, {"a": before["a"]})
