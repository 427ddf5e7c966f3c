"""The bundles' multi_gpu_train overrides run under torchrun (DDP; gloo on CPU, 2 processes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"
# what torchrun reports for a rank ended by SIGABRT, as in "terminate called without an active exception"
ABORTED = "Signal 6 (SIGABRT) received by PID"
SEG_RECORDS = "$hemseg_data.split_segmentation_records(@data_root, ['jtsc_wbc'], @rbc_diameter_px, '{}', 0.2, 0)[:{}]"

OVERRIDES = {
    "hemseg_segmentation": [
        f"--train#records={SEG_RECORDS.format('train', 8)}",
        f"--validate#records={SEG_RECORDS.format('val', 2)}",
        "--batch_size=2",
    ],
    "hemseg_classification": [
        "--datasets=['all_idb2']",
        "--limit=8",
        "--samples_per_epoch=16",
        "--batch_size=4",
        f"--segmentation_bundle={BUNDLES / 'hemseg_segmentation'}",
    ],
    "hemseg_rbc_classification": [
        "--limit=1",
        "--samples_per_epoch=16",
        "--batch_size=4",
        f"--segmentation_bundle={BUNDLES / 'hemseg_segmentation'}",
        f"--diagnose_bundle={BUNDLES / 'hemseg_diagnose'}",
    ],
}


@pytest.mark.parametrize("bundle", sorted(OVERRIDES))
def test_two_process_ddp_training_writes_one_checkpoint(data_root, tmp_path, bundle):
    root = tmp_path / bundle
    shutil.copytree(BUNDLES / bundle, root, ignore=shutil.ignore_patterns("runs", "eval"))
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc_per_node=2",
        "-m", "monai.bundle", "run",
        "--config_file", "['configs/train.yaml','configs/multi_gpu_train.yaml']",
        "--bundle_root", ".", "--data_root", str(data_root.resolve()),
        "--max_epochs=1", "--val_interval=1", "--num_workers=0",
        *OVERRIDES[bundle],
    ]  # fmt: skip
    # faulthandler: a rank that aborts prints every thread's Python stack (and whether the interpreter
    # was finalizing), so that a failure says where it happened
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and ABORTED in done.stderr:
        # a rank of the CPU (gloo) run aborted twice in CI (2026-12-04 and 2026-12-07, "terminate called
        # without an active exception"), never in 36 runs of this command here: a fault of the bundle
        # fails the second run too, a rare abort does not; the first run's stack goes to the warnings summary
        warnings.warn(f"{bundle}: a rank aborted, run again; its stderr ends: {done.stderr[-2000:]}", stacklevel=1)
        shutil.rmtree(root / "runs", ignore_errors=True)
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    state = torch.load(root / "runs" / "checkpoints" / "model.pt", weights_only=True)
    key = "encoder._conv_stem.weight" if bundle == "hemseg_segmentation" else "network._conv_stem.weight"
    assert key in state  # the DDP wrapper is taken off when the checkpoint is saved
