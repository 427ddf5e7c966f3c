"""The hemseg_diagnose bundle's multi_gpu_inference override in 2 CPU processes (gloo): under torchrun,
and started one by one, meeting in a file (the rendezvous of machines that share a folder)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from hemseg.cli.main import app
from hemseg.diagnosis import synthetic_smear

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_diagnose"


def _rows(out: Path) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k not in ("ms", "date")} for r in csv.DictReader((out / "summary.csv").open())
    ]


RUN = ["-m", "monai.bundle", "run", "--config_file", "['configs/inference.yaml','configs/multi_gpu_inference.yaml']"]


def _ranks(launcher: str, photos: Path, out: Path, rendezvous: Path, *extra: str) -> tuple[int, str]:
    """Run the override in 2 processes: (the worst exit code, their stderr)."""
    args = ["--bundle_root", ".", "--input_dir", str(photos), "--output_dir", str(out), *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if launcher == "torchrun":
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2"]
        done = subprocess.run(
            [*torchrun, *RUN, *args], cwd=BUNDLE, env=env, capture_output=True, text=True, timeout=600
        )
        return done.returncode, done.stderr
    command = [sys.executable, *RUN, *args, "--init_method", f"file://{rendezvous}"]
    ranks = [
        subprocess.Popen(command, cwd=BUNDLE, env={**env, **rank_env}, stderr=subprocess.PIPE, text=True)
        for rank_env in ({"RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank)} for rank in range(2))
    ]
    errors = [rank.communicate(timeout=600)[1] for rank in ranks]
    return max(rank.returncode for rank in ranks), "".join(errors)


@pytest.mark.parametrize("launcher", ["torchrun", "file"])
def test_two_ranks_merge_the_summary_of_one_process(tmp_path, launcher):
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(5):
        Image.fromarray(synthetic_smear(seed=seed)[0]).save(photos / f"field{seed}.png")
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    single = tmp_path / "single"
    CliRunner().invoke(app, ["diagnose", str(photos), "--out", str(single)])
    sharded = tmp_path / "sharded"
    code, stderr = _ranks(launcher, photos, sharded, tmp_path / "rendezvous")
    assert code == 0, stderr[-3000:]
    assert _rows(sharded) == _rows(single) and len(_rows(sharded)) == 6
    assert (sharded / "specimens.csv").read_text() == (single / "specimens.csv").read_text()
    assert (sharded / "field3" / "cells.csv").read_text() == (single / "field3" / "cells.csv").read_text()
    assert (sharded / "report.html").read_text().count("src='data:image/jpeg;base64,") == 5  # overlays embedded
    assert stderr.count("broken.png: not an image") == 1  # reported once, by rank 0


def test_two_ranks_share_each_specimens_scale_as_one_process(tmp_path):
    """--shared-scale under torchrun: each rank reads half the photos, every specimen gets one process's median."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed, rbc_px in enumerate((40, 40, 40, 64, 64)):
        Image.fromarray(synthetic_smear(rbc_px=rbc_px, seed=seed)[0]).save(photos / f"field{seed}.png")
    table = tmp_path / "specimens.csv"
    table.write_text("image,specimen\n" + "".join(f"field{i},{'a' if i < 3 else 'b'}\n" for i in range(5)))
    single = tmp_path / "single"
    done = CliRunner().invoke(
        app, ["diagnose", str(photos), "--out", str(single), "--shared-scale", "--specimens", str(table)]
    )
    assert done.exit_code == 0, done.output
    sharded = tmp_path / "sharded"
    code, stderr = _ranks(
        "torchrun", photos, sharded, tmp_path / "rendezvous", "--shared_scale", "true", "--specimens_csv", str(table)
    )
    assert code == 0, stderr[-3000:]
    rows = _rows(sharded)
    assert rows == _rows(single)
    scales = {r["image"][-10:-4]: (float(r["rbc_diameter_px"]), r["scale_source"]) for r in rows}
    assert {source for _, source in scales.values()} == {"shared"}
    assert len({scales[f"field{i}"] for i in range(3)}) == 1 and len({scales[f"field{i}"] for i in (3, 4)}) == 1
    assert scales["field3"][0] > 1.3 * scales["field0"][0]  # two specimens, two scales
