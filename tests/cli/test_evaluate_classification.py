"""``hemseg evaluate classification`` with the shipped weights on the validation split of real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hemseg.cli.main import app

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_classification"
SHIPPED = json.loads((BUNDLE / "configs" / "metadata.json").read_text())["hemseg"]["model_sha256"] is not None

# Figures of the shipped weights on the validation split (bundles/hemseg_classification/docs/README.md);
# the test allows one image fewer right.
DOCUMENTED = {"all_idb2": (39, 1.000), "jtsc_wbc": (58, 0.931)}


@pytest.mark.skipif(not SHIPPED, reason="no trained weights shipped yet")
@pytest.mark.parametrize("dataset", sorted(DOCUMENTED))
def test_shipped_weights_reproduce_documented_accuracy(data_root, tmp_path, dataset):
    out = tmp_path / "result.json"
    args = ["evaluate", "classification", str(data_root / dataset), "--split", "val", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    images, accuracy = DOCUMENTED[dataset]
    assert report["dataset"] == dataset and report["images"] == images and report["skipped"] == 0
    assert report["accuracy"] >= accuracy - 1.5 / images, report["accuracy"]
    assert set(report) >= {"macro_f1", "per_class", "confusion", "ece", "ms_per_image"}
    assert sum(v["support"] for v in report["per_class"].values()) == images
    assert sum(map(sum, report["confusion"]["matrix"])) == images


@pytest.mark.skipif(not SHIPPED, reason="no trained weights shipped yet")
def test_images_with_several_labels_or_none_are_skipped_and_counted(data_root, tmp_path):
    import shutil

    root = tmp_path / "crops"
    (root / "images").mkdir(parents=True)
    for sample_id in ("001", "002", "003"):
        shutil.copy(data_root / "jtsc_wbc" / "images" / f"{sample_id}.png", root / "images")
    (root / "dataset.json").write_text(json.dumps({"name": "crops", "structures": {}}))
    (root / "labels.csv").write_text("id,label\n001,neutrophil;lymphocyte\n002,\n003,neutrophil\n")
    out = tmp_path / "result.json"
    args = ["evaluate", "classification", str(root), "--rbc-diameter-px", "48", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert (report["images"], report["skipped"]) == (1, 2)
    assert list(report["per_class"]) == ["neutrophil"]


def test_bad_folder_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "classification", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"hemseg: error: {tmp_path / 'dataset.json'}: missing (every dataset folder needs a dataset.json)"
    ]
