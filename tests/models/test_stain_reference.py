"""The stain reference: fitted on training patches it marks a source never seen, and the shipped one loads."""

from __future__ import annotations

import json
from pathlib import Path

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
        records("jtsc_wbc", "train", 120) + records("all_idb2", "train", 99), tmp_path / "ref.json"
    )
    again = read_stain_reference(tmp_path / "ref.json")
    assert set(again.sources) == {"jtsc_wbc", "all_idb2"} and again.threshold == reference.threshold

    def unfamiliar(rows: list[dict]) -> float:
        return float(again.unfamiliar(record_signatures(rows)).mean())

    assert unfamiliar(records("pbc", "val", 40)) >= 0.9  # another lab's stain: marked
    assert unfamiliar(records("jtsc_wbc", "val", 40)) <= 0.15  # a lab it was fitted on: mostly left alone


def test_the_shipped_reference_knows_every_source_the_classifier_trained_on():
    reference = read_stain_reference(CLASSIFICATION / "models" / "stain_reference.json")
    datasets = yaml.safe_load((CLASSIFICATION / "configs" / "train.yaml").read_text())["datasets"]
    assert set(reference.sources) == set(datasets)
    assert 4.0 < reference.threshold < 8.0
