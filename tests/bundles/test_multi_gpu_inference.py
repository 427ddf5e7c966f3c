"""The hemseg_diagnose bundle's multi_gpu_inference override under torchrun (gloo, 2 CPU processes)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from hemseg.cli.main import app
from hemseg.diagnosis import synthetic_smear

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_diagnose"


def _rows(out: Path) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k not in ("ms", "date")} for r in csv.DictReader((out / "summary.csv").open())
    ]


def test_two_ranks_merge_the_summary_of_one_process(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(5):
        Image.fromarray(synthetic_smear(seed=seed)[0]).save(photos / f"field{seed}.png")
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    single = tmp_path / "single"
    CliRunner().invoke(app, ["diagnose", str(photos), "--out", str(single)])
    sharded = tmp_path / "sharded"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2",
        "-m", "monai.bundle", "run",
        "--config_file", "['configs/inference.yaml','configs/multi_gpu_inference.yaml']",
        "--bundle_root", ".", "--input_dir", str(photos), "--output_dir", str(sharded),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=BUNDLE, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert _rows(sharded) == _rows(single) and len(_rows(sharded)) == 6
    assert (sharded / "specimens.csv").read_text() == (single / "specimens.csv").read_text()
    assert (sharded / "field3" / "cells.csv").read_text() == (single / "field3" / "cells.csv").read_text()
    assert (sharded / "report.html").read_text().count("src='data:image/jpeg;base64,") == 5  # overlays embedded
    assert done.stderr.count("broken.png: not an image") == 1  # reported once, by rank 0
