"""The classification bundle runs through MONAI's ConfigWorkflow on real data."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import torch
from bundle_checks import (
    BUNDLES,
    bundle_workflow,
    check_net_in_out,
    check_one_training_step,
    copy_bundle,
    logged_params,
    shipped_state,
)
from monai.bundle import ConfigParser, ConfigWorkflow

from hemseg.data import CELL_CLASSES
from hemseg.models import classification_network

BUNDLE = BUNDLES / "hemseg_classification"


def _workflow(root: Path, config: str | list[str], workflow_type: str, **overrides) -> ConfigWorkflow:
    return bundle_workflow(
        root,
        config,
        workflow_type,
        segmentation_bundle=str(BUNDLES / "hemseg_segmentation"),
        **overrides,
    )


def test_network_input_output_matches_metadata():
    check_net_in_out(BUNDLE)


def test_shipped_weights_match_their_recorded_sha256():
    state = shipped_state(BUNDLE)
    assert all(v.dtype in (torch.float16, torch.int64) for v in state.values())


def test_training_smoke_run_caches_patches_logs_to_mlflow_and_saves_a_checkpoint(data_root, tmp_path):
    root = copy_bundle(BUNDLE, tmp_path)
    workflow = _workflow(
        root,
        "train.yaml",
        "train",
        data_root=str(data_root),
        datasets=["pbc", "all_idb2"],
        limit=8,
        max_epochs=2,
        val_interval=1,
        batch_size=8,
        samples_per_epoch=16,
        num_workers=0,
        style_mixing=0.5,
    )
    assert len(workflow.parser.get_parsed_content("network").network.style_mixers) == 4
    records = workflow.parser.get_parsed_content("train#records")
    assert len(records) == 16 and {r["dataset"] for r in records} == {"pbc", "all_idb2"}
    assert records[0]["image"].shape == (3, 96, 96) and records[0]["mask"].shape == (1, 96, 96)
    # on real crops the segmentation finds the central white cell in (nearly) every one
    assert sum(r["found"] for r in records) >= 14
    workflow.run()
    workflow.finalize()
    assert len(list((root / "runs" / "patches").glob("*.npz"))) == 4  # two sets x train/val
    state = torch.load(root / "runs" / "checkpoints" / "model.pt", weights_only=True)
    assert state["network._fc.weight"].shape[0] == 9  # the EfficientNet behind the slide reference
    # trained with style mixing, the weights are those of the inference network (no mixer in them)
    assert state.keys() == classification_network(9, 4, colour_norm="slide").state_dict().keys()
    with sqlite3.connect(root / "runs" / "mlflow.db") as db:
        metrics = {k for (k,) in db.execute("select distinct key from metrics")}
        params = dict(db.execute("select key, value from params"))
    assert {"train_loss", "val_accuracy"} <= metrics
    assert params["target_rbc_px"] == "36.0" and len(params["segmentation_sha256"]) == 64
    assert params["colour_norm"] == "slide" and params["style_mixing"] == "0.5"
    assert [p.name for p in (root / "runs" / "mlruns").rglob("model.pt")] == ["model.pt"]


def test_source_batches_config_draws_every_batch_from_one_set(data_root, tmp_path):
    """configs/source_batches.yaml over train.yaml: the loader's batches, each of one set's patches."""
    workflow = _workflow(
        copy_bundle(BUNDLE, tmp_path),
        ["train.yaml", "source_batches.yaml"],
        "train",
        data_root=str(data_root),
        datasets=["pbc", "all_idb2"],
        dataset_share={"pbc": 0.5, "all_idb2": 0.5},
        limit=4,
        batch_size=4,
        samples_per_epoch=40,
        num_workers=0,
    )
    batches = list(workflow.parser.get_parsed_content("train#dataloader"))
    assert len(batches) == 10 and all(len(b["label"]) == 4 for b in batches)
    sets = [set(b["dataset"]) for b in batches]
    assert all(len(s) == 1 for s in sets) and set.union(*sets) == {"pbc", "all_idb2"}
    assert batches[0]["image"].shape == (4, 4, 96, 96)  # RGB and the cell's mask


def test_inference_writes_one_row_per_crop_and_reports_bad_files(data_root, tmp_path, capfd):
    images = tmp_path / "images"
    images.mkdir()
    labels = dict(csv.reader((data_root / "pbc" / "labels.csv").open()))
    chosen = [i for i in labels if labels[i] in ("neutrophil", "eosinophil")][::300][:4]
    for sample_id in chosen:
        shutil.copy(next((data_root / "pbc" / "images").glob(f"{sample_id}.*")), images)
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    out = tmp_path / "out" / "classes.csv"
    workflow = _workflow(BUNDLE, "inference.yaml", "infer", input_dir=str(images), output_file=str(out))
    with pytest.raises(RuntimeError) as info:
        workflow.run()
    assert "1 of 5 images could not be read" in f"{info.value} {info.value.__cause__}"
    assert capfd.readouterr().err.count("broken.jpg: cannot read image") == 1
    rows = list(csv.DictReader(out.open()))
    assert [Path(r["image"]).stem for r in rows] == sorted(chosen)
    assert all(abs(sum(float(r[c]) for c in CELL_CLASSES) - 1) < 1e-3 for r in rows)
    assert sum(r["class"] == labels[Path(r["image"]).stem] for r in rows) >= 3


def test_finetune_takes_one_step_on_a_review_export(data_root, tmp_path):
    """hemseg diagnose, a person's review, hemseg review export, then the fine-tune config on the export."""
    from typer.testing import CliRunner

    from hemseg.cli.main import app
    from hemseg.diagnosis import ImageReview

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("BloodImage_00008", "BloodImage_00013"):
        shutil.copy(data_root / "bccd" / "images" / f"{name}.jpg", photos)
    runner = CliRunner()
    assert runner.invoke(app, ["diagnose", str(photos), "--out", str(tmp_path / "out")]).exit_code == 0
    labels = []
    for name in ("BloodImage_00008", "BloodImage_00013"):
        review = ImageReview(tmp_path / "out", name)
        for cell in review.white_cells():
            review.correct(cell.id, "lymphocyte" if cell.cls == "monocyte" else cell.cls)
            labels.append("lymphocyte" if cell.cls == "monocyte" else cell.cls)
    export = tmp_path / "data" / "reviewed"
    result = runner.invoke(app, ["review", "export", str(tmp_path / "out"), "--to", str(export)])
    assert result.exit_code == 0 and f"{len(labels)} reviewed white cells exported" in result.output
    with open(export / "labels.csv") as table:
        assert sorted(row["label"] for row in csv.DictReader(table)) == sorted(labels)

    root = copy_bundle(BUNDLE, tmp_path)
    workflow = ConfigWorkflow(
        config_file=[str(root / "configs" / "train.yaml"), str(root / "configs" / "finetune.yaml")],
        meta_file=str(root / "configs" / "metadata.json"),
        workflow_type="train",
        bundle_root=str(root),
        segmentation_bundle=str(BUNDLES / "hemseg_segmentation"),
        data_root=str(tmp_path / "data"),
        datasets=["reviewed"],
        rbc_diameter_px={"reviewed": json.loads((export / "dataset.json").read_text())["rbc_diameter_px"]},
        dataset_share={"reviewed": 1.0},
        val_fraction=0.0,
        init_weights=str(root / "models" / "model.pt"),
        max_epochs=1,
        val_interval=2,
        batch_size=2,
        samples_per_epoch=2,
        num_workers=0,
    )
    workflow.initialize()
    records = workflow.parser.get_parsed_content("train#records")
    assert sorted(r["label"] for r in records) == sorted(labels) and all(r["found"] for r in records)
    check_one_training_step(workflow)


def test_stages_three_and_four_continue_with_the_stain_amount_varied(data_root, tmp_path):
    """configs/finetune_stain.yaml over train.yaml and finetune.yaml, and finetune_stain_again.yaml over them."""
    root = copy_bundle(BUNDLE, tmp_path)
    configs = ["train.yaml", "finetune.yaml", "finetune_stain.yaml"]
    defaults = ConfigParser()
    defaults.read_config([str(root / "configs" / c) for c in configs])
    defaults["bundle_root"] = str(root)
    assert defaults.get_parsed_content("init_weights") == str(root / "runs" / "finetune2" / "model.pt")
    # stage 4 (the shipped weights since 2026-12-05): the same recipe again, continuing stage 3's checkpoint
    again = ConfigParser()
    again.read_config([str(root / "configs" / c) for c in [*configs, "finetune_stain_again.yaml"]])
    again["bundle_root"] = str(root)
    assert again.get_parsed_content("init_weights") == str(root / "runs" / "finetune-stain" / "model.pt")
    assert again.get_parsed_content("ckpt_dir") == str(root / "runs" / "finetune-stain-again")
    assert again["stain_amount_prob"] == 0.5 and again["max_epochs"] == 8
    workflow = _workflow(
        root,
        configs,
        "train",
        data_root=str(data_root),
        datasets=["all_idb2"],
        dataset_share={"all_idb2": 1.0},
        limit=8,
        init_weights=str(root / "models" / "model.pt"),
        max_epochs=1,
        val_interval=1,
        batch_size=4,
        samples_per_epoch=8,
        num_workers=0,
    )
    stain = [
        t
        for t in workflow.parser.get_parsed_content("train#preprocessing").transforms
        if "StainAmount" in type(t).__name__
    ]
    assert len(stain) == 1 and stain[0].prob == 0.5
    workflow.run()
    workflow.finalize()
    assert (root / "runs" / "finetune-stain" / "model.pt").is_file()
    params = logged_params(root)
    assert params["stain_amount_prob"] == "0.5"
