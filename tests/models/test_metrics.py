"""Classification scores with partial labels, on constructed predictions."""

from __future__ import annotations

import pytest

from hemseg.models import classification_scores


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
