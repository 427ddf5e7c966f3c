"""Specimens: photos pooled per slide, exact binomial intervals, flags around every threshold."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
from PIL import Image
from stubs import RULES

from hemseg.diagnosis import (
    SPECIMEN_COLUMNS,
    TOO_FEW,
    SmearReport,
    SpecimenRules,
    diagnose_images,
    differential,
    pool_specimens,
    proportion_interval,
    read_specimens,
    specimens_csv,
)
from hemseg.diagnosis.specimen import specimen_file_name, specimen_of

SPECIMEN_RULES = SpecimenRules(min_wbc=100, confidence=0.95)


def photo(counts: dict[str, int], rbc: int = 0, review: int = 0, red: dict[str, int] | None = None) -> SmearReport:
    """A photo's report with these white-cell counts (cells themselves not needed for pooling).

    ``red`` gives red cells of morphology classes, beside the ``rbc`` unclassified ones.
    """
    from hemseg.diagnosis import Cell

    cells = [Cell(i, "rbc", "rbc", None, False, (0, 0, 1, 1), (0.0, 0.0), 1, False, []) for i in range(rbc)]
    for name, count in (red or {}).items():
        cells += [Cell(i, "rbc", name, 0.9, False, (0, 0, 1, 1), (0.0, 0.0), 1, False, []) for i in range(count)]
    cells += [Cell(i, "wbc", "lymphocyte", 0.5, True, (0, 0, 1, 1), (0.0, 0.0), 1, False, []) for i in range(review)]
    return SmearReport(640, 480, 48.0, "estimated", cells, differential(counts), [], 1.0)


def names(specimen) -> list[str]:
    return [f.name for f in specimen.flags]


@pytest.mark.parametrize(
    ("count", "total", "low", "high"),
    [(10, 100, 4.9, 17.6), (0, 100, 0.0, 3.6), (50, 100, 39.8, 60.2), (2, 200, 0.1, 3.6)],
)
def test_exact_binomial_intervals_match_published_values(count, total, low, high):
    """Clopper-Pearson 95 % limits as tabulated by Rümke (CLSI H20) for 100 and 200 cells."""
    interval = proportion_interval(count, total, 0.95)
    assert (round(100 * interval[0], 1), round(100 * interval[1], 1)) == (low, high)
    assert proportion_interval(0, 0, 0.95) == (0.0, 1.0)


def test_specimen_totals_are_the_sums_of_its_photos():
    photos = [
        ("A", "a1.png", photo({"neutrophil": 3, "lymphocyte": 1}, rbc=30, review=1)),
        ("B", "b1.png", photo({"blast": 2}, rbc=10)),
        ("A", "a2.png", photo({"neutrophil": 1, "monocyte": 1, "erythroblast": 2}, rbc=50)),
    ]
    a, b = pool_specimens(photos, RULES, SPECIMEN_RULES)
    assert (a.name, a.images, b.name) == ("A", ["a1.png", "a2.png"], "B")
    data = a.to_dict()
    assert (data["fields"], data["wbc"], data["counts"]["neutrophil"], data["counts"]["erythroblast"]) == (2, 6, 4, 2)
    assert data["counts"]["lymphocyte"] == 1  # counts come from the differentials; the review cell only marks
    assert data["rbc_per_field"] == {"mean": 40.0, "min": 30, "max": 50}
    assert data["review_cells"] == 1 and a.note == TOO_FEW
    assert data["percent"]["neutrophil"] == pytest.approx(100 * 4 / 6, abs=0.01)
    low, high = data["interval_percent"]["neutrophil"]
    assert low < data["percent"]["neutrophil"] < high


def test_too_few_cells_are_named_and_percentage_flags_say_how_many():
    (below,) = pool_specimens([("s", "x", photo({"blast": 20, "lymphocyte": 79}))], RULES, SPECIMEN_RULES)
    (enough,) = pool_specimens([("s", "x", photo({"blast": 20, "lymphocyte": 80}))], RULES, SPECIMEN_RULES)
    assert below.note == TOO_FEW and enough.note == ""
    blast = {f.name: f.rule for f in below.flags}["blast_fraction"]
    assert blast == "blast fraction 20.2% (95% CI 12.8-29.5%) >= 20% (on 99 white cells, fewer than 100)"
    assert {f.name: f.rule for f in enough.flags}["blast_fraction"] == "blast fraction 20.0% (95% CI 12.7-29.2%) >= 20%"


def test_blast_flags_around_their_thresholds():
    (under,) = pool_specimens([("s", "x", photo({"blast": 19, "neutrophil": 81}))], RULES, SPECIMEN_RULES)
    (at,) = pool_specimens([("s", "x", photo({"blast": 20, "neutrophil": 80}))], RULES, SPECIMEN_RULES)
    (none,) = pool_specimens([("s", "x", photo({"neutrophil": 60, "lymphocyte": 40}))], RULES, SPECIMEN_RULES)
    assert "blasts_present" in names(under) and "blast_fraction" not in names(under)
    assert {"blasts_present", "blast_fraction"} <= set(names(at))
    assert "blasts_present" not in names(none) and "blast_fraction" not in names(none)
    strict = replace(RULES, min_blasts=2)
    (one,) = pool_specimens([("s", "x", photo({"blast": 1, "neutrophil": 99}))], strict, SPECIMEN_RULES)
    assert "blasts_present" not in names(one)


def test_abnormal_differential_needs_its_cell_count_and_gives_intervals():
    skewed = {"neutrophil": 45, "lymphocyte": 4}  # 49 white cells: one short of min_wbc_for_differential
    (short,) = pool_specimens([("s", "x", photo(skewed))], RULES, SPECIMEN_RULES)
    (counted,) = pool_specimens([("s", "x", photo({**skewed, "lymphocyte": 5}))], RULES, SPECIMEN_RULES)
    assert "abnormal_differential" not in names(short)
    rule = {f.name: f.rule for f in counted.flags}["abnormal_differential"]
    assert rule.startswith("neutrophil 90.0% (CI 78.2-96.7%) outside 40-75%")
    assert rule.endswith("(on 50 white cells, fewer than 100)")


def test_specimens_csv_has_one_row_per_specimen_with_intervals():
    pooled = pool_specimens([("A", "a", photo({"neutrophil": 10, "lymphocyte": 90}))], RULES, SPECIMEN_RULES)
    (row,) = csv.DictReader(specimens_csv(pooled).splitlines())
    assert list(row) == list(SPECIMEN_COLUMNS)
    assert (row["specimen"], row["fields"], row["wbc"], row["neutrophil"]) == ("A", "1", "100", "10")
    assert (row["neutrophil_percent"], row["neutrophil_ci_low"], row["neutrophil_ci_high"]) == ("10.0", "4.9", "17.62")
    assert row["flags"] == "abnormal_differential" and row["note"] == ""


def test_red_cell_morphology_is_pooled_and_flagged_once_enough_red_cells_are_counted():
    from hemseg.diagnosis import RedCellFlag, RedCellFlagRules

    rules = replace(
        RULES,
        red_cells=RedCellFlagRules(min_rbc=100, flags={"schistocytes": RedCellFlag(("schistocyte",), 1.0, "ICSH")}),
    )
    fields = [photo({"neutrophil": 1}, red={"normal": 59, "schistocyte": 1}) for _ in range(2)]
    (pooled,) = pool_specimens([("A", str(i), field) for i, field in enumerate(fields)], rules, SPECIMEN_RULES)
    assert (pooled.red_cells.classified, pooled.red_cells.counts["schistocyte"]) == (120, 2)
    assert names(pooled) == ["schistocytes"]  # 2 of 120 = 1.7 %; each field alone has 60 red cells, under 100
    (row,) = csv.DictReader(specimens_csv([pooled]).splitlines())
    assert (row["rbc_classified"], row["rbc_schistocyte_percent"], row["flags"]) == ("120", "1.67", "schistocytes")
    assert pooled.to_dict()["red_cells"]["counts"]["normal"] == 118


def test_a_red_cell_flag_on_fewer_red_cells_than_its_rule_is_held_back_until_they_are_counted():
    from hemseg.diagnosis import RedCellFlag, RedCellFlagRules, html_page

    icsh = RedCellFlag(("schistocyte",), 1.0, "ICSH", min_rbc=1000)
    rules = replace(RULES, red_cells=RedCellFlagRules(min_rbc=100, flags={"schistocytes": icsh}))

    def pooled(fields: int):
        field = photo({"neutrophil": 1}, red={"normal": 148, "schistocyte": 2})
        return pool_specimens([("A", str(i), field) for i in range(fields)], rules, SPECIMEN_RULES)[0]

    few = pooled(3)  # 6 of 450 = 1.3 %, 95 % CI 0.5-2.9 %
    assert names(few) == [] and [f.name for f in few.held_back] == ["schistocytes"]
    (row,) = csv.DictReader(specimens_csv([few]).splitlines())
    assert (row["flags"], row["held_back"]) == ("", "schistocytes")
    assert few.to_dict()["held_back"][0]["rule"].startswith("schistocyte 6 of 450 red cells = 1.3% (95% CI 0.5-2.9%)")
    assert "Not flagged, too few red cells counted" in html_page([], specimens=[few])
    counted = pooled(7)  # 14 of 1,050: ICSH's count reached, the share decides
    assert names(counted) == ["schistocytes"] and counted.held_back == []


def test_specimens_come_from_the_folder_or_a_table(tmp_path):
    paths = [tmp_path / "slide1" / "f1.png", tmp_path / "slide1" / "f2.png", tmp_path / "slide2" / "f1.png"]
    assert specimen_of(paths) == ["slide1", "slide1", "slide2"]
    table_file = tmp_path / "specimens.csv"
    table_file.write_text(f"image,specimen\n{paths[0]},P1\nf2.png,P1\n{paths[2]},P2\n")
    assert specimen_of(paths, read_specimens(table_file)) == ["P1", "P1", "P2"]
    with pytest.raises(KeyError, match="no specimen"):
        specimen_of([tmp_path / "other.png"], read_specimens(table_file))
    (tmp_path / "bad.csv").write_text("file,slide\na,b\n")
    with pytest.raises(ValueError, match="header must be 'image,specimen'"):
        read_specimens(tmp_path / "bad.csv")
    assert specimen_file_name("../a b/c") == "_a_b_c.json"


def test_diagnose_images_writes_specimens_per_folder_and_on_top_of_the_page(tmp_path):
    from stubs import analyser, smear

    for folder in ("slide1", "slide2"):
        (tmp_path / folder).mkdir()
    image = smear()[0]
    Image.fromarray(image).save(tmp_path / "slide1" / "a.png")
    Image.fromarray(image).save(tmp_path / "slide1" / "b.png")
    Image.fromarray(image).save(tmp_path / "slide2" / "c.png")
    stub = analyser()
    stub.specimen_rules = SPECIMEN_RULES
    out = tmp_path / "out"
    rows = diagnose_images(stub, [tmp_path / "slide1", tmp_path / "slide2"], out)
    assert [r["wbc"] for r in rows] == [3, 3, 3]
    specimens = {r["specimen"]: r for r in csv.DictReader((out / "specimens.csv").open())}
    assert (specimens["slide1"]["fields"], specimens["slide1"]["wbc"], specimens["slide1"]["lymphocyte"]) == (
        "2", "6", "4",
    )  # fmt: skip
    assert specimens["slide2"]["wbc"] == "3" and specimens["slide2"]["note"] == TOO_FEW
    detail = json.loads((out / "specimens" / "slide1.json").read_text())
    assert detail["images"] == [str(tmp_path / "slide1" / n) for n in ("a.png", "b.png")]
    page = (out / "report.html").read_text()
    assert page.index("Specimen slide1") < page.index("Specimen slide2") < page.index("a.png")
    assert not list(out.rglob(".*"))  # no temporary file left
    one = tmp_path / "one.csv"
    one.write_text("image,specimen\na.png,P\nb.png,P\nc.png,P\n")
    diagnose_images(stub, [tmp_path / "slide1", tmp_path / "slide2"], out, specimens=read_specimens(one))
    (row,) = csv.DictReader((out / "specimens.csv").open())
    assert (row["specimen"], row["fields"], row["wbc"]) == ("P", "3", "9")
