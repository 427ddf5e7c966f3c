"""The stain reference: fitted on training patches it marks a source never seen, and the shipped one loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from hemseg.data import RBC_DIAMETER_PX
from hemseg.models import (
    fit_stain_reference,
    patch_records,
    patcher_from_bundle,
    read_stain_reference,
    record_signatures,
)

CLASSIFICATION = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_classification"
PATCHES = json.loads((CLASSIFICATION / "configs" / "metadata.json").read_text())["hemseg"]["patches"]


def test_a_reference_without_pbc_marks_its_cells_and_not_those_it_knows(data_root: Path, tmp_path: Path):
    patcher = patcher_from_bundle(CLASSIFICATION.parent / "hemseg_segmentation", PATCHES)

    def records(dataset: str, side: str, limit: int) -> list[dict]:
        return patch_records(patcher, data_root, [dataset], RBC_DIAMETER_PX, side, tmp_path / "patches", limit=limit)

    # a Gaussian needs its source's spread: a few dozen crops are too few (the shipped reference and
    # benchmarks/stain_familiarity.py fit on every training crop)
    reference = fit_stain_reference(
        records("jtsc_wbc", "train", 120) + records("all_idb2", "train", 99), tmp_path / "ref.json", sharpness_cells=25
    )
    again = read_stain_reference(tmp_path / "ref.json")
    assert set(again.sources) == {"jtsc_wbc", "all_idb2"} and again.threshold == reference.threshold
    assert again.sharpness == reference.sharpness and all(low < high for low, high in again.sharpness.values())

    def unfamiliar(rows: list[dict]) -> float:
        return float(again.unfamiliar(record_signatures(rows)).mean())

    assert unfamiliar(records("pbc", "val", 40)) >= 0.9  # another lab's stain: marked
    assert unfamiliar(records("jtsc_wbc", "val", 40)) <= 0.15  # a lab it was fitted on: mostly left alone


def test_the_shipped_reference_knows_every_source_the_classifier_trained_on():
    reference = read_stain_reference(CLASSIFICATION / "models" / "stain_reference.json")
    datasets = yaml.safe_load((CLASSIFICATION / "configs" / "train.yaml").read_text())["datasets"]
    assert set(reference.sources) == set(datasets)
    assert 4.0 < reference.threshold < 8.0


def test_the_shipped_reference_finds_pbc_cells_sharpened_and_not_as_they_are(data_root: Path, tmp_path: Path):
    import torch

    from hemseg.data.transforms import UnsharpMask
    from hemseg.postproc import stain_signatures, surround_sharpness, unfamiliar_look

    reference = read_stain_reference(CLASSIFICATION / "models" / "stain_reference.json")
    assert set(reference.sharpness) == set(reference.sources)
    patcher = patcher_from_bundle(CLASSIFICATION.parent / "hemseg_segmentation", PATCHES)
    rows = patch_records(patcher, data_root, ["pbc"], RBC_DIAMETER_PX, "val", tmp_path / "patches", limit=60)
    patches = np.stack([np.concatenate([r["image"], r["mask"]]).transpose(1, 2, 0) for r in rows])
    sharpened = patches.copy()  # lab_look.py's sharpest look: an unsharp mask of amount 2, sigma 1.5 px
    for patch in sharpened:
        rgb = torch.from_numpy(patch[..., :3].transpose(2, 0, 1) / 255.0).float()
        patch[..., :3] = np.round(UnsharpMask(2.0, 1.5)(rgb).clamp(0, 1).numpy().transpose(1, 2, 0) * 255)

    def look(cells: np.ndarray) -> dict | None:
        signatures = stain_signatures(cells)
        return unfamiliar_look(
            reference.unfamiliar(signatures).tolist(),
            25,
            0.5,
            reference,
            reference.nearest_sources(signatures),
            surround_sharpness(cells).tolist(),
        )

    assert look(patches) is None  # pbc's own look: its stain and its sharpness are known
    found = look(sharpened)
    assert found["source"] == "pbc" and found["unfamiliar_share"] < 0.1  # the stain check does not see it
    assert found["sharpness"] > found["sharpness_range"][1]
