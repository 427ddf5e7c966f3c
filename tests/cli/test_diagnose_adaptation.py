"""``hemseg diagnose`` adapting a specimen of an unfamiliar stain, with the shipped weights on real crops."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter

import pytest
from typer.testing import CliRunner

from hemseg.cli.main import app

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def test_a_specimen_marked_unfamiliar_is_classified_again(data_root, tmp_path):
    """Every ``jtsc_wbc`` validation crop (58) as one specimen, with a stain reference that finds every stain
    unfamiliar: the specimen is adapted.

    On this stain, which the classifier was trained on, adapting costs: measured 2026-12-04 (in the
    specimen's own mix of classes), the commonest white-cell class of 46 of the 58 photos is the label,
    against 53 with ``--no-adapt`` (docs/howto/diagnose.md); hence only specimens of an unfamiliar
    stain are adapted.
    """
    from hemseg.data import RBC_DIAMETER_PX, read_dataset, samples_of_split
    from hemseg.models import bundle_dir

    bundles = tmp_path / "bundles"
    for name in ("hemseg_diagnose", "hemseg_classification"):
        shutil.copytree(bundle_dir(name), bundles / name, ignore=shutil.ignore_patterns("runs", "eval"))
    for name in ("hemseg_segmentation", "hemseg_rbc_classification"):
        (bundles / name).symlink_to(bundle_dir(name))
    reference = bundles / "hemseg_classification" / "models" / "stain_reference.json"
    reference.write_text(json.dumps({**json.loads(reference.read_text()), "threshold": -1.0}))
    specimen = tmp_path / "specimen"
    specimen.mkdir()
    labels = {}
    for sample in samples_of_split(read_dataset(data_root / "jtsc_wbc"), "val"):
        shutil.copy(sample.image, specimen / sample.image.name)
        labels[sample.image.stem] = sample.labels[0]
    args = ["diagnose", str(specimen), "--rbc-diameter-px", str(RBC_DIAMETER_PX["jtsc_wbc"]), "--no-red-cells"]
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--bundle", str(bundles / "hemseg_diagnose")])
    assert result.exit_code == 0, result.output
    assert (
        "100% of the 61 white cells of specimen specimen have a stain unlike" in result.output
        and "first 4 batch-norm layers" in result.output
    )
    assert "layers, at a magnification of 1, and its own mix of classes" in result.output
    right = 0
    for stem, label in labels.items():
        report = json.loads((out / stem / "report.json").read_text())
        assert report["adaptation"]["specimen"] == "specimen" and report["adaptation"]["layers"] == 4
        assert report["adaptation"]["unfamiliar_share"] == 1.0 and report["adaptation"]["least_share"] == 0.5
        assert report["adaptation"]["zoom"] == 1.0  # a training lab's cells: least uncertain as cut
        white = [row["class"] for row in csv.DictReader((out / stem / "cells.csv").open()) if row["kind"] == "wbc"]
        right += bool(white) and Counter(white).most_common(1)[0][0] == label
    assert report["adaptation"]["white_cells"] >= len(labels) == 58
    assert right >= 45, right


def test_no_adapt_keeps_the_look_check_and_drops_only_the_adapter():
    """``--no-adapt`` loads the shipped analyser without its adapter: specimens of an unfamiliar look are still
    found, reported and their cells marked (tests/diagnosis/test_adaptation.py), never classified again."""
    from hemseg.cli.diagnose import _load_analyser

    adapting, marking = _load_analyser(None, True, False, True), _load_analyser(None, True, False, False)
    assert adapting.adapts and adapting.adaptation is not None
    assert not marking.adapts and marking.adapter is None and marking.adaptation == adapting.adaptation
    assert marking.stain_reference is not None
    assert marking.settings_sha256() != adapting.settings_sha256()
