"""A person's review of a diagnose output: exact counts after corrections, files written through, the export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from stubs import RED, RULES, RedSizeClassifier, analyser, diagnosed, smear

from hemseg.data import read_dataset
from hemseg.diagnosis import EXPORT_RBC_PX, FlagRules, ImageReview, ReviewError, export_reviews, image_folders


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return diagnosed(tmp_path)


def summary_rows(out: Path) -> dict[str, dict]:
    return {row["folder"]: row for row in csv.DictReader((out / "summary.csv").open())}


def test_corrections_recompute_counts_and_flags_and_are_written_through(out):
    assert image_folders(out) == ["a", "b"]
    review = ImageReview(out, "a")
    white = review.white_cells()
    assert [(c.cls, c.review) for c in white] == [("lymphocyte", True), ("lymphocyte", True), ("neutrophil", False)]
    assert [f["name"] for f in review.data["flags"]] == ["uncertain_cells"]
    first, second, third = (c.id for c in white)

    summary = review.correct(first, "blast", "ana")
    assert summary["counts"]["blast"] == 1 and summary["counts"]["lymphocyte"] == 1
    assert summary["blast_fraction"] == pytest.approx(1 / 3, abs=1e-4)
    # the blast raises two flags; one low-confidence cell of 3 is not yet reviewed: 33 % > 30 %
    assert [f["name"] for f in summary["flags"]] == ["blasts_present", "blast_fraction", "uncertain_cells"]
    summary = review.correct(second, "smudge")
    assert [f["name"] for f in summary["flags"]] == ["blasts_present", "blast_fraction"]
    assert (summary["counts"]["wbc"], summary["counts"]["smudge"]) == (2, 1)  # smudge counted apart
    assert summary["differential_percent"]["blast"] == 50.0
    summary = review.correct(third, "not_wbc")
    assert (summary["counts"]["wbc"], summary["counts"]["not_wbc"], summary["counts"]["neutrophil"]) == (1, 1, 0)
    summary = review.correct(first, "lymphocyte", "ana")  # changed mind: the latest decision counts
    assert (summary["counts"]["blast"], summary["counts"]["lymphocyte"], summary["flags"]) == (0, 1, [])
    assert (summary["reviewed_cells"], summary["corrected"], summary["reviewers"]) == (3, 2, ["ana"])

    # written through: review.json (every decision), report.json's review block beside the machine's, summary.csv
    stored = json.loads((out / "a" / "review.json").read_text())
    assert [c["label"] for c in stored["corrections"]] == ["blast", "smudge", "not_wbc", "lymphocyte"]
    assert stored["corrections"][0]["original"] == "lymphocyte" and stored["corrections"][0]["reviewer"] == "ana"
    report = json.loads((out / "a" / "report.json").read_text())
    assert report["counts"]["lymphocyte"] == 2 and report["review"]["counts"]["lymphocyte"] == 1
    rows = summary_rows(out)
    assert (rows["a"]["lymphocyte"], rows["a"]["reviewed_lymphocyte"], rows["a"]["smudge"]) == ("2", "1", "1")
    assert rows["a"]["reviewed_cells"] == "3" and rows["b"]["reviewed_cells"] == ""
    assert not list(out.rglob(".*"))  # no temporary left

    reopened = ImageReview(out, "a")  # a new process sees every decision
    assert reopened.summary() == summary


def test_unknown_classes_and_cells_are_refused_and_change_nothing(out):
    review = ImageReview(out, "a")
    before = (out / "a" / "report.json").read_text()
    with pytest.raises(ReviewError, match="unknown class 'dog'"):
        review.correct(review.white_cells()[0].id, "dog")
    red = next(c.id for c in review.report.cells if c.kind == "rbc")
    for cell in (red, 999):
        with pytest.raises(KeyError, match="no white cell"):
            review.correct(cell, "lymphocyte")
    assert not (out / "a" / "review.json").exists() and (out / "a" / "report.json").read_text() == before


def test_a_review_of_another_analysis_is_refused(out):
    review = ImageReview(out, "a")
    review.correct(review.white_cells()[0].id, "neutrophil")
    stored = json.loads((out / "a" / "review.json").read_text())
    stored["settings_sha256"] = "0" * 64
    (out / "a" / "review.json").write_text(json.dumps(stored))
    with pytest.raises(ReviewError, match="another analysis"):
        ImageReview(out, "a")
    with pytest.raises(ReviewError, match="not a hemseg diagnose output"):
        image_folders(out / "a")


def test_export_writes_the_reviewed_cells_as_a_dataset(out, tmp_path):
    for name in ("a", "b"):
        review = ImageReview(out, name)
        cells = review.white_cells()
        review.correct(cells[0].id, "blast")
        review.correct(cells[2].id, "neutrophil")  # confirmed
    review.correct(cells[1].id, "smudge")  # left out of the export
    count = export_reviews([out], tmp_path / "reviewed")
    dataset = read_dataset(tmp_path / "reviewed")
    assert count == 4 and len(dataset.samples) == 4
    assert sorted(s.labels[0] for s in dataset.samples) == ["blast", "blast", "neutrophil", "neutrophil"]
    assert dataset.info["rbc_diameter_px"] == EXPORT_RBC_PX
    # the crop spans 3 red-cell diameters, resized from the smear's 48 px red cells to EXPORT_RBC_PX
    neutrophil = next(s for s in dataset.samples if s.labels[0] == "neutrophil")
    crop = np.asarray(Image.open(neutrophil.image))
    assert crop.shape[2] == 3 and abs(crop.shape[0] - 3 * EXPORT_RBC_PX) <= 4
    with pytest.raises(ReviewError, match="not empty"):
        export_reviews([out], tmp_path / "reviewed")


def test_red_cell_flags_survive_a_review_of_the_white_cells(tmp_path):
    from dataclasses import replace

    from hemseg.diagnosis import RedCellFlag, RedCellFlagRules, diagnose_images

    schistocytes = RedCellFlag(("schistocyte",), 1.0, "test", min_rbc=1000)
    red_rules = {"normal_cells": RedCellFlag(("normal",), 50.0, "test"), "schistocytes": schistocytes}
    rules = replace(RULES, red_cells=RedCellFlagRules(min_rbc=10, flags=red_rules))
    Image.fromarray(smear()[0]).save(tmp_path / "a.png")
    diagnose_images(analyser(RedSizeClassifier(), rules), [tmp_path / "a.png"], tmp_path / "out")
    review = ImageReview(tmp_path / "out", "a")
    assert review.rules == FlagRules.from_dict(review.data["provenance"]["flag_rules"])
    assert [f["name"] for f in review.data["flags"]] == ["uncertain_cells", "normal_cells"]
    for cell in review.white_cells():
        summary = review.correct(cell.id, "neutrophil")
    assert [f["name"] for f in summary["flags"]] == ["normal_cells"]  # every white cell reviewed
    # red cells: least confident first (the stub's normal cells, 0.7), each reclassified in turn
    red = review.red_cells()
    assert review.red_labels == (*RedSizeClassifier.classes, "not_rbc") and len(red) > 20
    assert [c.cls for c in red] == ["normal"] * len(red) and red == sorted(red, key=lambda c: c.id)
    assert review.data["held_back"] == []
    for number, cell in enumerate(red[: len(red) // 2 + 1]):  # over half called schistocytes: normal cells below 50 %
        summary = review.correct(cell.id, "schistocyte", "ana")
        if number == 0:  # one schistocyte: over 1 % of the red cells, on far fewer than 1,000: held back
            assert [f["name"] for f in summary["held_back"]] == ["schistocytes"]
            assert [f["name"] for f in summary["flags"]] == ["normal_cells"]
            row = summary_rows(tmp_path / "out")["a"]
            assert (row["reviewed_flags"], row["reviewed_held_back"]) == ("normal_cells", "schistocytes")
    assert summary["red_cells"]["counts"]["schistocyte"] == len(red) // 2 + 1
    assert (summary["reviewed_cells"], summary["reviewed_red_cells"]) == (3, len(red) // 2 + 1)
    assert [f["name"] for f in summary["flags"]] == ["schistocytes"] and summary["held_back"] == []
    row = summary_rows(tmp_path / "out")["a"]
    assert (row["reviewed_red_cells"], row["reviewed_flags"], row["reviewed_held_back"]) == (
        str(len(red) // 2 + 1),
        "schistocytes",
        "",
    )
    with pytest.raises(ReviewError, match="unknown class 'neutrophil'"):
        review.correct(red[-1].id, "neutrophil")
    with pytest.raises(ReviewError, match="unknown class 'schistocyte'"):
        review.correct(review.white_cells()[0].id, "schistocyte")
    # a piece that is no red cell: left out of the red-cell count and the shares
    before = summary["counts"]["rbc"]
    summary = review.correct(red[-1].id, "not_rbc")
    assert (summary["counts"]["rbc"], summary["red_cells"]["classified"]) == (before - 1, len(red) - 1)
    platelet = next(c for c in review.report.cells if c.kind == "platelet")
    with pytest.raises(KeyError):
        review.correct(platelet.id, "normal")


def test_reviewed_red_cells_export_as_photos_with_points(tmp_path):
    from typer.testing import CliRunner

    from hemseg.cli.main import app
    from hemseg.diagnosis import diagnose_images, export_red_cell_reviews

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(smear(scale=2)[0]).save(photos / "a.png")  # red cells 96 px across
    Image.fromarray(smear()[0]).save(photos / "b.png")
    out = tmp_path / "out"
    diagnose_images(analyser(RedSizeClassifier()), [photos / "a.png", photos / "b.png"], out)
    review = ImageReview(out, "a")
    red = review.red_cells()
    review.correct(red[0].id, "schistocyte")
    review.correct(red[1].id, "normal")  # confirmed
    review.correct(red[2].id, "not_rbc")  # left out
    review.correct(review.white_cells()[0].id, "neutrophil")

    other = ImageReview(out, "b")
    other.correct(other.red_cells()[0].id, "normal")

    # a photo that is not where --photos says, or not the one analysed: nothing written
    with pytest.raises(ReviewError, match=r"its photo a\.png is in none of"):
        export_red_cell_reviews([out], [tmp_path], tmp_path / "none")
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "a.png").write_bytes((photos / "a.png").read_bytes())
    Image.fromarray(smear(scale=2)[0]).save(wrong / "b.png")
    with pytest.raises(ReviewError, match=r"b\.png: not the photo .* analysed \(another size\)"):
        export_red_cell_reviews([out], [wrong], tmp_path / "none")
    assert not (tmp_path / "none").exists()

    result = CliRunner().invoke(
        app,
        [
            *("review", "export", str(out), "--to", str(tmp_path / "white"), "--red-to", str(tmp_path / "red")),
            *("--photos", str(tmp_path), "--photos", str(photos)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 reviewed red cells exported" in result.output and "1 reviewed white cells exported" in result.output
    dataset = read_dataset(tmp_path / "red")
    assert dataset.info["rbc_diameter_px"] == EXPORT_RBC_PX and [s.id for s in dataset.samples] == ["out-a", "out-b"]
    assert [p.label for p in dataset.samples[1].points] == ["normal"]
    sample = dataset.samples[0]
    assert sample.id == "out-a" and sorted(p.label for p in sample.points) == ["normal", "schistocyte"]
    exported = np.asarray(Image.open(sample.image))
    scale = EXPORT_RBC_PX / review.report.rbc_diameter_px  # red cells about 96 px across, estimated
    assert 0.45 < scale < 0.55 and exported.shape == (round(960 * scale), round(1280 * scale), 3)
    for point, cell in zip(sorted(sample.points, key=lambda p: p.label), [red[1], red[0]], strict=True):
        # the point is the cell's centre, at the new scale, on the cell's colour
        centre = [(c + 0.5) * scale - 0.5 for c in cell.centroid]
        assert (point.x, point.y) == pytest.approx(centre, abs=0.06)
        assert np.abs(exported[round(point.y), round(point.x)].astype(int) - RED).max() <= 3

    # the red cells' dataset is refused where the white cells' destination is taken: nothing written
    result = CliRunner().invoke(
        app,
        [
            *("review", "export", str(out), "--to", str(tmp_path / "white"), "--red-to", str(tmp_path / "red2")),
            *("--photos", str(photos)),
        ],
    )
    assert result.exit_code == 1 and "not empty" in result.output and not (tmp_path / "red2").exists()
