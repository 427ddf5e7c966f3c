"""The hemseg_diagnose bundle runs the whole pipeline through MONAI's ConfigWorkflow on real fields."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from monai.bundle import ConfigWorkflow
from typer.testing import CliRunner

from hemseg.cli.main import app

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_diagnose"
FIELDS = ("BloodImage_00008", "BloodImage_00013", "BloodImage_00050")
#: columns that differ between two runs of the same analysis
RUN_COLUMNS = ("ms", "date")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def _workflow(**overrides) -> ConfigWorkflow:
    workflow = ConfigWorkflow(
        config_file=str(BUNDLE / "configs" / "inference.yaml"),
        meta_file=str(BUNDLE / "configs" / "metadata.json"),
        workflow_type="infer",
        bundle_root=str(BUNDLE),
        **overrides,
    )
    workflow.initialize()
    return workflow


def _summary(folder: Path) -> list[dict]:
    rows = list(csv.DictReader((folder / "summary.csv").open()))
    return [{k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in rows]


@pytest.fixture(scope="module")
def photos(data_root, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for name in FIELDS:
        shutil.copy(data_root / "bccd" / "images" / f"{name}.jpg", folder)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    return folder


def test_bundle_run_writes_what_hemseg_diagnose_writes(photos, tmp_path):
    by_bundle, by_cli = tmp_path / "bundle", tmp_path / "cli"
    workflow = _workflow(input_dir=str(photos), output_dir=str(by_bundle))
    workflow.run()
    workflow.finalize()
    result = CliRunner().invoke(app, ["diagnose", str(photos), "--out", str(by_cli)])
    assert result.exit_code == 1  # the broken photo
    rows = _summary(by_bundle)
    assert rows == _summary(by_cli)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "error"]
    assert all(int(r["wbc"]) >= 1 for r in rows[:3])  # every BCCD field shows its white cell
    for name in FIELDS:
        assert (by_bundle / name / "cells.csv").read_text() == (by_cli / name / "cells.csv").read_text()
    assert {p.name for p in by_bundle.iterdir()} == {
        *FIELDS,
        "summary.csv",
        "log.jsonl",
        "report.html",
        "specimens.csv",
        "specimens",
    }
    # one flat folder: one specimen, its photos pooled alike by both
    assert (by_bundle / "specimens.csv").read_text() == (by_cli / "specimens.csv").read_text()
    (specimen,) = csv.DictReader((by_bundle / "specimens.csv").open())
    assert specimen["fields"] == "3" and int(specimen["wbc"]) == sum(int(r["wbc"]) for r in rows[:3])


def test_pipeline_settings_are_bundle_keys(photos, tmp_path):
    """Any setting can be overridden like a bundle key: here the review threshold and a flag rule."""
    out = tmp_path / "out"
    workflow = _workflow(
        input_dir=str(photos),
        output_dir=str(out),
        **{"flag_rules#max_review_share": 0.0, "analyser#review_below": 1.01, "rbc_diameter_px": 104.0},
    )
    workflow.run()
    rows = [r for r in csv.DictReader((out / "summary.csv").open()) if r["status"] == "ok"]
    assert all("uncertain_cells" in r["flags"] for r in rows)  # every white cell below 1.01: all for review
    assert {(r["rbc_diameter_px"], r["scale_source"]) for r in rows} == {("104.0", "given")}


@pytest.mark.parametrize("classifier", ["hemseg_classification", "hemseg_rbc_classification"])
def test_other_segmentation_weights_are_refused(tmp_path, classifier):
    """Each classifier was trained on patches of one segmentation: other weights stop the pipeline."""
    copy = tmp_path / "bundles"
    for name in ("hemseg_diagnose", "hemseg_segmentation", "hemseg_classification", "hemseg_rbc_classification"):
        shutil.copytree(BUNDLE.parent / name, copy / name, ignore=shutil.ignore_patterns("runs", "eval"))
    meta = copy / classifier / "configs" / "metadata.json"
    record = json.loads(meta.read_text())
    record["hemseg"]["patches"]["segmentation_sha256"] = "0" * 64
    meta.write_text(json.dumps(record))
    from hemseg.models import WeightsError, load_analyser

    with pytest.raises(RuntimeError) as refused:
        load_analyser(copy / "hemseg_diagnose", onnx=False)
    cause = refused.value
    while cause.__cause__ is not None:
        cause = cause.__cause__
    assert isinstance(cause, WeightsError) and "differ from those the classifier was trained on" in str(cause)
