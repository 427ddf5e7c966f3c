from __future__ import annotations

from dataclasses import replace

from stubs import RULES

from hemseg.diagnosis import (
    FlagRules,
    RedCellFlag,
    RedCellFlagRules,
    differential,
    held_back_red_cell_flags,
    red_cell_flags,
    red_cell_shares,
    review_flags,
)


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


RED_RULES = RedCellFlagRules(
    min_rbc=100,
    flags={
        "schistocytes": RedCellFlag(("schistocyte",), 1.0, "ICSH schistocytes"),
        "elliptocytes": RedCellFlag(("elliptocyte", "ovalocyte"), 11.0, "ICSH grade 1+"),
    },
)


def test_red_cell_flags_fire_at_their_threshold_name_their_rule_and_pool_classes():
    assert red_cell_flags(red_cell_shares({"normal": 199, "schistocyte": 1}), RED_RULES) == []  # 0.5 %
    flags = red_cell_flags(
        red_cell_shares({"normal": 168, "schistocyte": 2, "elliptocyte": 10, "ovalocyte": 20}), RED_RULES
    )
    assert _names(flags) == ["schistocytes", "elliptocytes"]
    assert flags[0].rule == "schistocyte 2 of 200 red cells = 1.0% >= 1% (ICSH schistocytes)"
    assert flags[1].rule == "elliptocyte + ovalocyte 30 of 200 red cells = 15.0% >= 11% (ICSH grade 1+)"


def test_red_cell_flags_need_enough_classified_red_cells_and_rules():
    few = red_cell_shares(["schistocyte"] * 10 + ["normal"] * 89 + ["rbc"] * 50)  # unclassified red cells
    assert few.classified == 99 and few.counts["schistocyte"] == 10
    assert red_cell_flags(few, RED_RULES) == []
    assert red_cell_flags(red_cell_shares({"schistocyte": 100}), None) == []
    assert _names(red_cell_flags(red_cell_shares({"schistocyte": 100}), RED_RULES)) == ["schistocytes"]


ICSH_SCHISTOCYTES = RedCellFlagRules(
    min_rbc=100, flags={"schistocytes": RedCellFlag(("schistocyte",), 1.0, "ICSH schistocytes", min_rbc=1000)}
)


def test_a_flag_defined_on_more_red_cells_needs_its_whole_interval_above_on_fewer():
    def flags(schistocytes, total):
        return red_cell_flags(
            red_cell_shares({"schistocyte": schistocytes, "normal": total - schistocytes}), ICSH_SCHISTOCYTES
        )

    assert flags(5, 350) == []  # 1.4 %, 95 % CI 0.5-3.3 %: not shown above 1 %
    assert flags(8, 350) == []  # 2.3 %, CI from 0.99 %
    (raised,) = flags(10, 350)  # 2.9 %, CI 1.4-5.2 %
    assert raised.rule == (
        "schistocyte 10 of 350 red cells = 2.9% (95% CI 1.4-5.2%, on fewer than 1000 red cells) >= 1% "
        "(ICSH schistocytes)"
    )
    assert _names(flags(10, 1000)) == ["schistocytes"]  # 1.0 % of 1,000: the share alone decides
    assert flags(9, 1000) == []
    assert _names(red_cell_flags(red_cell_shares({"schistocyte": 8, "normal": 342}), RED_RULES)) == ["schistocytes"]


def test_a_share_over_the_threshold_on_too_few_red_cells_is_held_back_not_flagged():
    def held_back(schistocytes, total):
        shares = red_cell_shares({"schistocyte": schistocytes, "normal": total - schistocytes})
        return held_back_red_cell_flags(shares, ICSH_SCHISTOCYTES)

    (note,) = held_back(5, 350)  # 1.4 %, 95 % CI 0.5-3.3 %: over 1 %, not shown above it
    assert note.name == "schistocytes"
    assert note.rule == (
        "schistocyte 5 of 350 red cells = 1.4% (95% CI 0.5-3.3%) >= 1%, on fewer than the 1000 red cells the "
        "threshold is defined on: not flagged; pool the specimen's photos to count 1000 (ICSH schistocytes)"
    )
    assert held_back(3, 350) == []  # 0.9 %: under the threshold, nothing held back
    assert held_back(10, 350) == []  # raised as a flag instead
    assert held_back(5, 1000) == []  # on 1,000 red cells the share decides: below 1 %
    assert held_back(5, 99) == []  # under the rules' min_rbc (100) nothing is raised or held back
    assert held_back_red_cell_flags(red_cell_shares({"schistocyte": 8, "normal": 342}), RED_RULES) == []


def test_flag_rules_come_back_from_their_json_form():
    import json
    from dataclasses import asdict

    rules = replace(RULES, red_cells=RED_RULES)
    for kept in (RULES, rules, replace(RULES, red_cells=ICSH_SCHISTOCYTES)):
        assert FlagRules.from_dict(json.loads(json.dumps(asdict(kept)))) == kept
