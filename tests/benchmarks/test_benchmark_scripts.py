"""Smoke run of the benchmark scripts (the full runs regenerate docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_network_speed_of_one_architecture(tmp_path):
    _run("benchmarks/networks.py", "--runs", "1", "--backbones", "basic-unet", "--json", str(tmp_path / "speed.json"))
    speed = json.loads((tmp_path / "speed.json").read_text())
    (unet,) = speed["networks"]
    assert unet["backbone"] == "basic-unet"
    assert unet["gflop"] == pytest.approx(9.97, abs=0.01)  # FLOPs are counted, not timed
    assert unet["limit_ms"] == pytest.approx(unet["gflop"] / speed["peak_gflops"] * 1000)
    best = min(unet["eager_ms"], unet["channels_last_ms"], unet["onnx_ms"])
    assert unet["fraction_of_limit"] == pytest.approx(unet["limit_ms"] / best)


def test_tables_and_plot_from_the_committed_results(tmp_path):
    results = REPO / "benchmarks" / "results"
    _run("benchmarks/tables.py", "--results", str(results), "--docs", str(tmp_path))
    speed = json.loads((results / "speed.json").read_text())
    segmentation = (tmp_path / "benchmarks_segmentation.inc").read_text()
    speed_table = (tmp_path / "benchmarks_speed.inc").read_text()
    trained = {path.name.removesuffix("-train.json") for path in (results / "segmentation").glob("*-train.json")}
    for network in speed["networks"]:
        assert f"| {network['architecture']} | `{network['backbone']}` |" in speed_table
        assert (f"| {network['architecture']} |" in segmentation) == (network["backbone"] in trained)
    shipped = json.loads((results / "segmentation" / "shipped-bccd.json").read_text())
    assert f"{shipped['structures']['wbc']['dice']:.3f}" in segmentation
    pbc = json.loads((results / "classification" / "pbc.json").read_text())
    classifier = (tmp_path / "benchmarks_classifier.inc").read_text()
    assert f"accuracy {pbc['accuracy']:.3f}" in classifier
    assert classifier.count("| platelet |") == 1
    assert (tmp_path / "_static" / "architectures.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # leave one source out: each source's Dice (crops: the central cell's), then the mean of the three
    loso = (tmp_path / "benchmarks_loso_segmentation.inc").read_text()
    folder = results / "loso_segmentation" / "baseline"
    central = json.loads((folder / "jtsc_wbc-jtsc_wbc.json").read_text())["central_cell"]["wbc"]["dice"]
    assert f"| baseline | jtsc_wbc → `jtsc_wbc` | {central:.3f} |" in loso
    dice = [
        json.loads((folder / f"{name}.json").read_text())
        for name in ("bccd-bccd", "all_idb-all_idb2", "all_idb-all_idb1")
    ]
    idb = (dice[1]["central_cell"]["wbc"]["dice"] + dice[2]["structures"]["wbc"]["dice"]) / 2
    mean = (dice[0]["structures"]["wbc"]["dice"] + central + idb) / 3
    assert f"| **baseline** | **mean of the 3 sources** | **{mean:.3f}** |" in loso


def test_robustness_changes_keep_the_image_valid_and_change_it():
    """benchmarks/robustness.py's changes: (3, H, W) in [0, 1] in and out, each one a real change."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("robustness", REPO / "benchmarks" / "robustness.py")
    robustness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(robustness)
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0)) * 0.7 + 0.15
    for name, (change, factor) in robustness.changes().items():
        if change is None:
            assert (name == "none") == (factor == 1.0), name
            continue
        out = torch.as_tensor(change(image.clone()))
        assert out.shape == image.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0, name
        assert float((out - image).abs().mean()) > 0.005, name
