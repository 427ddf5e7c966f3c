"""Training records of the classifier: each crop's central-cell patch, cut once and cached on disk."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def patch_records(
    patcher,
    data_root: str | Path,
    datasets: Sequence[str],
    rbc_diameter_px: Mapping[str, float],
    side: str,
    cache_dir: str | Path,
    val_fraction: float = 0.2,
    seed: int = 0,
    limit: int | None = None,
) -> list[dict]:
    """Classification records of several datasets with each image's central-cell patch, cached on disk.

    ``patcher`` is a :class:`hemseg.postproc.CellPatcher`. Records hold ``image`` (3, P, P) and
    ``mask`` (1, P, P) uint8, ``target`` (allowed classes), ``label``, ``id``, ``dataset`` and
    ``found`` (a white cell was segmented). Patches of a dataset and side are computed once and kept
    in ``cache_dir`` under a name that changes with the segmentation weights and inference settings,
    the patch scale and size, the split and ``limit`` (first images per dataset).

    Raises:
        LayoutError: a dataset is missing or malformed.
    """
    from hemseg.data import classification_records, split_datasets
    from hemseg.data.files import replacing
    from hemseg.data.transforms import load_rgb

    records = []
    for dataset, samples in split_datasets(data_root, datasets, side, val_fraction, seed):
        name = dataset.name
        items = classification_records(dataset, samples, rbc_diameter_px[name])[:limit]
        key = json.dumps(
            [
                patcher.segmentation_sha256,
                patcher.segmentation_settings,
                patcher.target_rbc_px,
                patcher.patch_size,
                rbc_diameter_px[name],
                side,
                val_fraction,
                seed,
                limit,
            ]
        )
        cache = Path(cache_dir) / f"{name}-{side}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
        if cache.is_file():
            stored = np.load(cache)
            patches, hits = stored["patches"], stored["found"]
        else:
            patches = np.zeros((len(items), patcher.patch_size, patcher.patch_size, 4), np.uint8)
            hits = np.zeros(len(items), bool)
            for i, item in enumerate(items):
                patches[i], hits[i] = patcher.central_patch(load_rgb(item["image"]), item["rbc_diameter_px"])
                if (i + 1) % 500 == 0:
                    print(f"hemseg: {name} {side}: {i + 1}/{len(items)} patches", file=sys.stderr)
            cache.parent.mkdir(parents=True, exist_ok=True)
            with replacing(cache) as tmp, open(tmp, "wb") as handle:  # unique temp name: DDP ranks write too
                np.savez(handle, patches=patches, found=hits)
        for item, patch, hit in zip(items, patches, hits, strict=True):
            records.append(
                {
                    **item,
                    "image": np.ascontiguousarray(np.moveaxis(patch[..., :3], -1, 0)),
                    "mask": np.ascontiguousarray(patch[None, ..., 3]),
                    "found": bool(hit),
                }
            )
    return records
