"""A specimen of an unfamiliar stain classified again by a classifier adapted to it (stub networks, no torch)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image
from stubs import SizeClassifier, analyser, smear

from hemseg.diagnosis import AdaptationRules, Cell, SmearReport, adaptation_of, diagnose_images, differential
from hemseg.postproc import StainReference

UNFAMILIAR = StainReference({"any": (np.zeros(6), np.eye(6))}, -1.0)  # every distance > -1: every stain
FAMILIAR = StainReference({"any": (np.zeros(6), np.eye(6))}, np.inf)  # none
RULES = AdaptationRules(layers=4, unfamiliar_share=0.5, min_cells=6, least_share=0.5)
RULES_RECORD = {"layers": 4, "white_cells": 6, "unfamiliar_share": 1.0, "least_share": 0.5}  # 2 photos, all unfamiliar


class BlastClassifier(SizeClassifier):
    """What the stub adapter gives: every white cell a blast (0.8)."""

    def probabilities(self, patches: np.ndarray) -> np.ndarray:
        return np.tile(np.float32([0.1, 0.1, 0.8]), (len(patches), 1))


class Adapter:
    """A stub ``adapter`` that records the patches and layers it was asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], int]] = []

    def __call__(self, patches: np.ndarray, layers: int) -> BlastClassifier:
        self.calls.append((patches.shape, layers))
        return BlastClassifier()


def white_cells(unfamiliar: int, familiar: int) -> SmearReport:
    """A photo's report with this many white cells of an unfamiliar and of a familiar stain."""
    cells = [
        Cell(
            i, "wbc", "neutrophil", 0.9, False, (0, 0, 1, 1), (0.0, 0.0), 1, False, [], unfamiliar_stain=i < unfamiliar
        )
        for i in range(unfamiliar + familiar)
    ]
    return SmearReport(640, 480, 48.0, "estimated", cells, differential({"neutrophil": len(cells)}), [], 1.0)


@pytest.mark.parametrize(
    ("reports", "adapted"),
    [
        ([white_cells(3, 3)], True),  # 6 cells, half unfamiliar: both thresholds met exactly
        ([white_cells(3, 0), white_cells(0, 3)], True),  # the specimen's photos pooled
        ([white_cells(2, 3)], False),  # 5 cells: too few
        ([white_cells(3, 4)], False),  # 3 of 7 unfamiliar: under half
    ],
)
def test_a_specimen_is_adapted_with_enough_cells_mostly_unfamiliar(reports, adapted):
    result = adaptation_of(reports, RULES)
    if adapted:
        assert result == {"layers": 4, "white_cells": 6, "unfamiliar_share": 0.5, "least_share": 0.5}
    else:
        assert result is None


def slides(folder, photos: dict[str, int]) -> list:
    """Folders of constructed smears (3 white cells each: a neutrophil, two lymphocytes)."""
    image = smear()[0]
    for name, count in photos.items():
        (folder / name).mkdir()
        for number in range(count):
            Image.fromarray(image).save(folder / name / f"{name}-{number}.png")
    return [folder / name for name in photos]


def adapting(reference: StainReference, adapter: Adapter):
    stub = analyser(stain_reference=reference)
    stub.adaptation, stub.adapter = RULES, adapter
    return stub


def test_a_specimen_of_an_unfamiliar_stain_is_classified_again_and_its_files_rewritten(tmp_path):
    inputs = slides(tmp_path, {"slide1": 2, "slide2": 1})
    adapter, told = Adapter(), []
    out = tmp_path / "out"
    rows = diagnose_images(adapting(UNFAMILIAR, adapter), inputs, out, on_adapted=lambda *a: told.append(a))
    assert adapter.calls == [((6, 96, 96, 4), 4)]  # slide1's 2 photos x 3 white cells; slide2 has 3: too few
    record = {"specimen": "slide1", "layers": 4, "white_cells": 6, "unfamiliar_share": 1.0, "least_share": 0.5}
    assert told == [("slide1", record)]
    assert [(r["blast"], r["neutrophil"], r["lymphocyte"]) for r in rows] == [(3, 0, 0), (3, 0, 0), (0, 1, 2)]
    assert ["blasts_present" in r["flags"] for r in rows] == [True, True, False]
    for name, adapted in (("slide1-0", True), ("slide1-1", True), ("slide2-0", False)):
        report = json.loads((out / name / "report.json").read_text())
        assert report["adaptation"] == (record if adapted else None)
        classes = [row["class"] for row in csv.DictReader((out / name / "cells.csv").open()) if row["kind"] == "wbc"]
        assert sorted(classes) == (["blast"] * 3 if adapted else ["lymphocyte", "lymphocyte", "neutrophil"])
        # still marked for review: their stain is unfamiliar
        assert [c["review"] for c in report["cells"] if c["kind"] == "wbc"] == [True] * 3
    summary = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["blast"] for r in summary] == ["3", "3", "0"]
    page = (out / "report.html").read_text()
    assert "re-estimated on them (adapted to this stain), and in the specimen's own mix of classes" in page
    assert not list(out.rglob(".*"))  # no temporary file left

    # a resumed run keeps the photos' files but cuts their patches again to adapt the same way
    adapter.calls.clear()
    again = diagnose_images(adapting(UNFAMILIAR, adapter), inputs, out, resume=True)
    assert adapter.calls == [((6, 96, 96, 4), 4)]
    assert [r["blast"] for r in again] == [3, 3, 0]


def test_familiar_stains_and_no_adaptation_leave_the_classes_alone(tmp_path):
    inputs = slides(tmp_path, {"slide1": 2})
    adapter = Adapter()
    rows = diagnose_images(adapting(FAMILIAR, adapter), inputs, tmp_path / "familiar")
    assert adapter.calls == [] and [r["blast"] for r in rows] == [0, 0]
    stub = analyser(stain_reference=UNFAMILIAR)
    stub.adaptation = RULES  # no adapter (--no-adapt): the look is recorded, the classes stay
    assert stub.adaptation is not None and stub.adapter is None and not stub.adapts
    told = []
    rows = diagnose_images(stub, inputs, tmp_path / "no_adapter", on_adapted=lambda *a: told.append(a))
    assert [r["blast"] for r in rows] == [0, 0]
    record = {**RULES_RECORD, "specimen": "slide1", "adapted": False}
    assert told == [("slide1", record)]
    report = json.loads((tmp_path / "no_adapter" / "slide1-0" / "report.json").read_text())
    assert report["adaptation"] == record
    assert [c["review"] for c in report["cells"] if c["kind"] == "wbc"] == [True] * 3  # each of an unfamiliar stain
    page = (tmp_path / "no_adapter" / "report.html").read_text()
    assert "have a stain unlike the classifier&#x27;s training photos: not classified again adapted to them" in page
    assert "its white cells of an unfamiliar stain are marked for review" in page and "re-estimated" not in page
    stub.adaptation = None  # no rules: nothing checked
    rows = diagnose_images(stub, inputs, tmp_path / "no_rules")
    assert json.loads((tmp_path / "no_rules" / "slide1-0" / "report.json").read_text())["adaptation"] is None


def test_a_stopped_run_is_not_adapted(tmp_path):
    inputs = slides(tmp_path, {"slide1": 3})
    adapter = Adapter()
    rows = diagnose_images(adapting(UNFAMILIAR, adapter), inputs, tmp_path / "out", should_stop=lambda: True)
    assert rows == [] and adapter.calls == []


def test_a_photo_gone_before_adaptation_keeps_its_first_report(tmp_path):
    inputs = slides(tmp_path, {"slide1": 3})
    errors = []

    def remove_first(path):
        if path.name == "slide1-0.png":
            path.unlink()  # analysed, then gone before the specimen is adapted

    rows = diagnose_images(
        adapting(UNFAMILIAR, Adapter()),
        inputs,
        tmp_path / "out",
        on_done=remove_first,
        on_error=lambda path, reason: errors.append((path.name, reason)),
    )
    assert [(r["status"], r["blast"]) for r in rows] == [("ok", 0), ("ok", 3), ("ok", 3)]
    assert len(errors) == 1 and errors[0][0] == "slide1-0.png" and errors[0][1].startswith("not adapted")
    report = json.loads((tmp_path / "out" / "slide1-0" / "report.json").read_text())
    assert report["adaptation"] is None and report["counts"]["lymphocyte"] == 2


def test_the_magnification_an_adapted_specimen_was_classified_at_is_recorded(tmp_path):
    inputs = slides(tmp_path, {"slide1": 2})

    class Zooming(Adapter):
        def __call__(self, patches: np.ndarray, layers: int) -> BlastClassifier:
            classifier = super().__call__(patches, layers)
            classifier.zoom = 0.9  # the magnification the adapter chose
            return classifier

    stub = adapting(UNFAMILIAR, Zooming())
    stub.adaptation = AdaptationRules(layers=4, unfamiliar_share=0.5, min_cells=6, least_share=0.5, zooms=(0.9, 1.0))
    told = []
    diagnose_images(stub, inputs, tmp_path / "out", on_adapted=lambda *a: told.append(a))
    assert told[0][1]["zoom"] == 0.9
    assert json.loads((tmp_path / "out" / "slide1-0" / "report.json").read_text())["adaptation"]["zoom"] == 0.9
    page = (tmp_path / "out" / "report.html").read_text()
    assert "(adapted to this stain), at a magnification of 0.9 (where it is least uncertain of them), and in" in page


def test_a_specimen_sharper_than_the_photos_of_its_stain_is_adapted_and_every_cell_marked(tmp_path):
    inputs = slides(tmp_path, {"slide1": 2})
    # every stain familiar; a range of the source's sharpness far below any photo's: each one looks sharper
    sharper = StainReference({"any": (np.zeros(6), np.eye(6))}, np.inf, {"any": (-10.0, -9.0)})
    adapter, told = Adapter(), []
    out = tmp_path / "out"
    rows = diagnose_images(adapting(sharper, adapter), inputs, out, on_adapted=lambda *a: told.append(a))
    assert adapter.calls == [((6, 96, 96, 4), 4)] and [r["blast"] for r in rows] == [3, 3]
    record = told[0][1]
    assert record["unfamiliar_share"] == 0.0 and record["source"] == "any" and record["sharpness"] > -9.0
    assert record["sharpness_range"] == [-10.0, -9.0]
    report = json.loads((out / "slide1-0" / "report.json").read_text())
    white = [c for c in report["cells"] if c["kind"] == "wbc"]
    # the blasts' 0.8 is above the review threshold: they are marked for the specimen's look
    assert [(c["review"], c["unfamiliar_stain"], c["stain_source"]) for c in white] == [(True, False, "any")] * 3
    page = (out / "report.html").read_text()
    assert "look sharper than the classifier&#x27;s training photos of their stain (any: median sharpness" in page

    # inside the range, the same specimen is left as it is
    within = StainReference({"any": (np.zeros(6), np.eye(6))}, np.inf, {"any": (-10.0, 10.0)})
    adapter = Adapter()
    assert [r["blast"] for r in diagnose_images(adapting(within, adapter), inputs, tmp_path / "within")] == [0, 0]
    assert adapter.calls == []


def test_without_an_adapter_a_sharper_specimen_keeps_its_classes_and_every_white_cell_is_marked(tmp_path):
    inputs = slides(tmp_path, {"slide1": 2})
    sharper = StainReference({"any": (np.zeros(6), np.eye(6))}, np.inf, {"any": (-10.0, -9.0)})
    stub = analyser(stain_reference=sharper)
    stub.adaptation = RULES  # hemseg diagnose --no-adapt: the rules, no adapter
    told = []
    out = tmp_path / "out"
    rows = diagnose_images(stub, inputs, out, on_adapted=lambda *a: told.append(a))
    assert [(r["blast"], r["neutrophil"], r["lymphocyte"]) for r in rows] == [(0, 1, 2)] * 2  # classes as found
    record = told[0][1]
    assert record["adapted"] is False and record["source"] == "any" and record["sharpness"] > -9.0
    for name in ("slide1-0", "slide1-1"):
        report = json.loads((out / name / "report.json").read_text())
        assert report["adaptation"] == record
        white = [c for c in report["cells"] if c["kind"] == "wbc"]
        assert [(c["review"], c["unfamiliar_stain"]) for c in white] == [(True, False)] * 3
        assert report["review_cells"] == 3
        rows = [r for r in csv.DictReader((out / name / "cells.csv").open()) if r["kind"] == "wbc"]
        assert [r["review"] for r in rows] == ["1"] * 3
    page = (out / "report.html").read_text()
    assert "look sharper than the classifier&#x27;s training photos of their stain (any: median sharpness" in page
    assert "not classified again adapted to them (adapting is off), so every white cell is marked for review" in page
