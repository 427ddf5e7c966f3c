"""The segmentation bundle runs through MONAI's ConfigWorkflow on real data."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
import torch
from bundle_checks import bundle_workflow, check_net_in_out, copy_bundle, logged_params, shipped_state
from servers import free_port, serves

from hemseg.models import WeightsError, file_sha256

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_segmentation"


def test_network_input_output_matches_metadata():
    check_net_in_out(BUNDLE, any=32)


def test_shipped_weights_match_their_recorded_sha256():
    state = shipped_state(BUNDLE)
    kept = {k: v for k, v in state.items() if v.dtype == torch.float32}  # beyond fp16's range: kept fp32
    assert all(v.dtype in (torch.float16, torch.int64) for k, v in state.items() if k not in kept)
    assert all(v.abs().max() > torch.finfo(torch.float16).max for v in kept.values())
    assert sum(v.numel() for v in kept.values()) < 1000


def _smoke_train(
    root: Path, data_root: Path, datasets: list[str], images: tuple[int, int], configs=("train.yaml",), **overrides
) -> None:
    """Train the bundle copy at ``root`` on the first (train, val) ``images`` of ``datasets``."""
    records = "$hemseg_data.split_segmentation_records(@data_root, @datasets, @rbc_diameter_px, '{}', 0.2, 0)[:{}]"
    workflow = bundle_workflow(
        root,
        list(configs),
        "train",
        data_root=str(data_root),
        datasets=datasets,
        val_interval=1,
        batch_size=4,
        num_workers=0,
        **{"train#records": records.format("train", images[0]), "validate#records": records.format("val", images[1])},
        **overrides,
    )
    workflow.run()
    workflow.finalize()


def test_training_smoke_run_logs_to_mlflow_and_saves_a_checkpoint(data_root, tmp_path):
    root = copy_bundle(BUNDLE, tmp_path)
    _smoke_train(root, data_root, ["jtsc_wbc", "all_idb2"], (16, 4), max_epochs=2)
    checkpoint = root / "runs" / "checkpoints" / "model.pt"
    state = torch.load(checkpoint, weights_only=True)
    assert "encoder._conv_stem.weight" in state
    with sqlite3.connect(root / "runs" / "mlflow.db") as db:
        metrics = {k for (k,) in db.execute("select distinct key from metrics")}
        params = dict(db.execute("select key, value from params"))
    assert {"train_loss", "val_mean_dice"} <= metrics
    assert params["target_rbc_px"] == "48.0"
    assert [p.name for p in (root / "runs" / "mlruns").rglob("model.pt")] == ["model.pt"]  # the model, logged
    # training writes its checkpoints under runs/, never over the shipped weights
    assert file_sha256(root / "models" / "model.pt") == file_sha256(BUNDLE / "models" / "model.pt")
    # the documented MLflow UI (the [train] extra) shows the run
    store = f"sqlite:///{root / 'runs' / 'mlflow.db'}"
    mlflow = Path(sys.executable).parent / "mlflow"
    command = [str(mlflow), "ui", "--backend-store-uri", store, "--workers", "1", "--port", str(port := free_port())]
    serves(command, f"http://127.0.0.1:{port}/", b"MLflow", root)


@pytest.mark.parametrize("backbone", ["basic-unet", "hemseg-vgg16", "hemseg-resnet34"])
def test_baseline_architectures_train_from_the_same_config(data_root, tmp_path, backbone):
    root = copy_bundle(BUNDLE, tmp_path)
    _smoke_train(root, data_root, ["jtsc_wbc"], (4, 2), max_epochs=1, backbone=backbone)
    with sqlite3.connect(root / "runs" / "mlflow.db") as db:
        params = dict(db.execute("select key, value from params"))
        metrics = {k for (k,) in db.execute("select distinct key from metrics")}
    assert params["backbone"] == backbone and "val_mean_dice" in metrics
    assert (root / "runs" / "checkpoints" / "model.pt").is_file()


def test_finetuning_starts_from_the_named_weights_only(data_root, tmp_path):
    root = copy_bundle(BUNDLE, tmp_path)
    configs = ("train.yaml", "finetune.yaml")
    start = root / "start.pt"
    shutil.copy(BUNDLE / "models" / "model.pt", start)
    named = dict(init_checkpoint=str(start), init_sha256=file_sha256(start))  # any file, named by its digest
    _smoke_train(root, data_root, ["jtsc_wbc"], (4, 2), configs, max_epochs=1, **named)
    params = logged_params(root)
    assert params["colour_strength"] == "2.0" and params["learning_rate"] == "0.0005"
    start.write_bytes(start.read_bytes()[:-1] + b"x")  # any other file is refused before training
    with pytest.raises(RuntimeError) as refused:
        _smoke_train(root, data_root, ["jtsc_wbc"], (4, 2), configs, max_epochs=1, **named)
    assert isinstance(refused.value.__cause__, WeightsError) and "SHA-256" in str(refused.value.__cause__)


def test_inference_writes_masks_per_image_and_reports_bad_files(data_root, tmp_path, capfd):
    import numpy as np
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    ids = ["001", "002", "003"]
    for sample_id in ids:
        shutil.copy(data_root / "jtsc_wbc" / "images" / f"{sample_id}.png", images)
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    out = tmp_path / "out"
    workflow = bundle_workflow(
        BUNDLE, "inference.yaml", "infer", input_dir=str(images), output_dir=str(out), rbc_diameter_px=48.0
    )
    with pytest.raises(RuntimeError) as info:
        workflow.run()
    assert "1 of 4 images could not be read" in f"{info.value} {info.value.__cause__}"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{i}_{s}.png" for i in ids for s in ("nucleus", "rbc", "wbc")
    )
    assert capfd.readouterr().err.count("broken.png: cannot read image") == 1
    for sample_id in ids:
        pred = np.asarray(Image.open(out / f"{sample_id}_wbc.png")) > 0
        truth = np.asarray(Image.open(data_root / "jtsc_wbc" / "masks" / "wbc" / f"{sample_id}.png")) > 0
        assert 2 * (pred & truth).sum() / (pred.sum() + truth.sum()) > 0.9


def test_self_training_on_pseudo_labels_of_photos_nobody_annotated(data_root, tmp_path):
    import numpy as np
    from PIL import Image

    from hemseg.data import read_dataset

    root = copy_bundle(BUNDLE, tmp_path)
    # jtsc_wbc stands in for the unannotated photos, so the pseudo-labels can be checked against its masks
    pseudo = tmp_path / "pseudo"
    overrides = {"dataset_dir": str(data_root / "jtsc_wbc"), "output_dir": str(pseudo / "jtsc_wbc"), "per_label": 1}
    bundle_workflow(root, ["inference.yaml", "pseudo_labels.yaml"], "infer", **overrides).run()
    dataset = read_dataset(pseudo / "jtsc_wbc")
    assert len(dataset.samples) == 5 and dataset.structures == ("wbc", "nucleus")  # one photo per label
    for sample in dataset.samples:
        mask = np.asarray(Image.open(sample.masks["wbc"]))
        truth = np.asarray(Image.open(data_root / "jtsc_wbc" / "masks" / "wbc" / f"{sample.id}.png")) > 0
        assert set(np.unique(mask)) <= {0, 128, 255}
        assert (mask == 128).mean() < 0.1  # few doubtful pixels
        assert truth[mask == 255].mean() > 0.95  # confident white cell lies in the expert's
    records = "$hemseg_data.split_segmentation_records(@data_root, @datasets, @rbc_diameter_px, '{}', 0.2, 0)[:{}]"
    workflow = bundle_workflow(
        root,
        ["train.yaml", "self_training.yaml"],
        "train",
        data_root=str(data_root),
        datasets=["all_idb2"],
        pseudo_root=str(pseudo),
        pseudo_datasets=["jtsc_wbc"],
        max_epochs=1,
        batch_size=3,
        num_workers=0,
        **{"train#records": f"{records.format('train', 4)} + @extra_records"},
        **{"validate#records": records.format("val", 2)},
    )
    workflow.run()
    workflow.finalize()
    assert workflow.trainer.state.iteration == 3  # 4 labelled + 5 pseudo-labelled patches, 3 a batch
    params = logged_params(root)
    assert params["pseudo_datasets"] == "['jtsc_wbc']"
