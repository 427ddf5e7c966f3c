"""The classifier's patches: cached by the segmentation settings, and cut only with the weights it was trained on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from hemseg.models import WeightsError, patch_records, patcher_from_bundle

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"
SEGMENTATION = BUNDLES / "hemseg_segmentation"
PATCHES = json.loads((BUNDLES / "hemseg_classification" / "configs" / "metadata.json").read_text())["hemseg"]["patches"]


def test_patch_cache_is_named_by_the_segmentation_settings(data_root: Path, tmp_path: Path):
    changed = tmp_path / "hemseg_segmentation"
    shutil.copytree(SEGMENTATION, changed, ignore=shutil.ignore_patterns("runs", "eval"))
    config = yaml.safe_load((changed / "configs" / "inference.yaml").read_text())
    config["slide_red_green"] = [0.5, 2.0]
    (changed / "configs" / "inference.yaml").write_text(yaml.safe_dump(config))
    cache = tmp_path / "patches"

    def cached(bundle: Path) -> set[str]:
        patcher = patcher_from_bundle(bundle, PATCHES)
        records = patch_records(patcher, data_root, ["jtsc_wbc"], {"jtsc_wbc": 48.0}, "val", cache, limit=2)
        assert len(records) == 2 and all(r["image"].shape == (3, 96, 96) for r in records)
        return {p.name for p in cache.iterdir()}

    shipped = cached(SEGMENTATION)
    assert cached(SEGMENTATION) == shipped and len(shipped) == 1  # same settings: the cache is reused
    assert len(cached(changed) - shipped) == 1  # another white-balance range: patches cut anew


def test_patches_are_refused_from_other_segmentation_weights():
    other = {**PATCHES, "segmentation_sha256": "0" * 64}
    with pytest.raises(WeightsError, match="differ from those the classifier was trained on"):
        patcher_from_bundle(SEGMENTATION, other)
    patcher = patcher_from_bundle(SEGMENTATION, PATCHES)
    assert (patcher.patch_size, patcher.target_rbc_px, patcher.segmenter.roi_size) == (96, 36.0, 256)
    assert patcher.segmentation_sha256 == PATCHES["segmentation_sha256"]
