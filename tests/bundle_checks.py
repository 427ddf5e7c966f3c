"""Checks every network bundle's tests share: its workflows, its network's shapes, its shipped weights."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import torch
from monai.bundle import ConfigWorkflow, verify_net_in_out

from hemseg.models import file_sha256

BUNDLES = Path(__file__).resolve().parents[1] / "bundles"


def copy_bundle(bundle: Path, tmp_path: Path) -> Path:
    """A copy of ``bundle`` in ``tmp_path/bundle`` without its runs, to train or write into."""
    root = tmp_path / "bundle"
    shutil.copytree(bundle, root, ignore=shutil.ignore_patterns("runs", "eval"))
    return root


def bundle_workflow(root: Path, config: str | list[str], workflow_type: str, **overrides) -> ConfigWorkflow:
    """The bundle at ``root`` as MONAI's ``ConfigWorkflow`` of ``config`` (merged in order), initialised."""
    configs = [config] if isinstance(config, str) else config
    flow = ConfigWorkflow(
        config_file=[str(root / "configs" / c) for c in configs],
        meta_file=str(root / "configs" / "metadata.json"),
        workflow_type=workflow_type,
        bundle_root=str(root),
        **overrides,
    )
    flow.initialize()
    return flow


def check_net_in_out(bundle: Path, **sizes: int) -> None:
    """MONAI's ``verify_net_in_out``: the network of ``inference.yaml`` against ``metadata.json``."""
    verify_net_in_out(
        net_id="network_def",
        meta_file=str(bundle / "configs" / "metadata.json"),
        config_file=str(bundle / "configs" / "inference.yaml"),
        n=2,
        device="cpu",
        **sizes,
    )


def shipped_state(bundle: Path) -> dict[str, torch.Tensor]:
    """The shipped weights, after checking they exist, match their recorded SHA-256 and ship small."""
    meta = json.loads((bundle / "configs" / "metadata.json").read_text())
    model = bundle / "models" / "model.pt"
    assert model.is_file(), "the shipped weights are missing"
    assert file_sha256(model) == meta["hemseg"]["model_sha256"]
    assert model.stat().st_size < 25e6
    return torch.load(model, weights_only=True)


def logged_params(root: Path) -> dict[str, str]:
    """The parameters that a training run of the bundle at ``root`` logged to its MLflow store."""
    with sqlite3.connect(root / "runs" / "mlflow.db") as db:
        return dict(db.execute("select key, value from params"))


def check_one_training_step(workflow: ConfigWorkflow) -> None:
    """Run an initialised training ``workflow`` of one iteration and check that the step changed some weight."""
    network = workflow.parser.get_parsed_content("network")
    before = {k: v.clone() for k, v in network.state_dict().items()}
    workflow.run()
    workflow.finalize()
    assert workflow.parser.get_parsed_content("train#trainer").state.iteration == 1
    changed = [k for k, v in network.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "one step changed no weight"
