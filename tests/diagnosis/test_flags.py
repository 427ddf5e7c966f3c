from __future__ import annotations

from dataclasses import replace

from stubs import RULES

from hemseg.diagnosis import differential, review_flags


def _names(flags):
    return [f.name for f in flags]


def test_normal_differential_raises_nothing():
    counts = {"neutrophil": 60, "lymphocyte": 30, "monocyte": 6, "eosinophil": 3, "basophil": 1}
    assert review_flags(differential(counts), 0, RULES) == []


def test_one_blast_is_flagged_and_a_fifth_raises_the_fraction_flag():
    few = review_flags(differential({"neutrophil": 60, "lymphocyte": 29, "monocyte": 10, "blast": 1}), 0, RULES)
    assert _names(few) == ["blasts_present"]
    assert few[0].rule == "blasts 1 >= 1"
    many = review_flags(differential({"lymphocyte": 8, "blast": 2}), 0, RULES)
    assert _names(many) == ["blasts_present", "blast_fraction"]
    assert many[1].rule == "blast fraction 20.0% >= 20%"


def test_abnormal_differential_needs_enough_cells_and_names_each_class():
    counts = {"neutrophil": 90, "lymphocyte": 10}
    assert review_flags(differential(counts), 0, RULES) != []
    (flag,) = review_flags(differential(counts), 0, RULES)
    assert flag.name == "abnormal_differential"
    assert "neutrophil 90.0% outside 40-75%" in flag.rule and "lymphocyte 10.0% outside 20-45%" in flag.rule
    assert "monocyte 0.0% outside 2-10%" in flag.rule
    assert review_flags(differential({"neutrophil": 9, "lymphocyte": 1}), 0, RULES) == []  # 10 cells: too few


def test_many_low_confidence_cells_and_custom_rules():
    result = differential({"neutrophil": 6, "lymphocyte": 4})
    assert _names(review_flags(result, 4, RULES)) == ["uncertain_cells"]
    assert review_flags(result, 3, RULES) == []
    strict = replace(RULES, min_blasts=2, blast_fraction=0.5)
    assert review_flags(differential({"lymphocyte": 8, "blast": 1}), 0, strict) == []
