"""Cached classifier patches are cut anew when the segmentation settings change."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from hemseg.cli.cells import patch_records, patcher_from_bundle

SEGMENTATION = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_segmentation"


def test_patch_cache_is_named_by_the_segmentation_settings(data_root: Path, tmp_path: Path):
    changed = tmp_path / "hemseg_segmentation"
    shutil.copytree(SEGMENTATION, changed, ignore=shutil.ignore_patterns("runs", "eval"))
    config = yaml.safe_load((changed / "configs" / "inference.yaml").read_text())
    config["slide_red_green"] = [0.5, 2.0]
    (changed / "configs" / "inference.yaml").write_text(yaml.safe_dump(config))
    cache = tmp_path / "patches"

    def cached(bundle: Path) -> set[str]:
        patcher = patcher_from_bundle(bundle, 36.0, 96, 256)
        records = patch_records(patcher, data_root, ["jtsc_wbc"], {"jtsc_wbc": 48.0}, "val", cache, limit=2)
        assert len(records) == 2 and all(r["image"].shape == (3, 96, 96) for r in records)
        return {p.name for p in cache.iterdir()}

    shipped = cached(SEGMENTATION)
    assert cached(SEGMENTATION) == shipped and len(shipped) == 1  # same settings: the cache is reused
    assert len(cached(changed) - shipped) == 1  # another white-balance range: patches cut anew
