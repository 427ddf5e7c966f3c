"""The stain reference of a classifier's training sources: fitted on its training patches, read at inference."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from hemseg.postproc import StainReference, sharpness_range, stain_signatures, surround_sharpness


def _record_patches(records: Sequence[dict]) -> np.ndarray:
    """(N, P, P, 4) uint8 patches of :func:`hemseg.models.patch_records` records (``image`` and ``mask``)."""
    return np.stack([np.concatenate([record["image"], record["mask"]]).transpose(1, 2, 0) for record in records])


def record_signatures(records: Sequence[dict]) -> np.ndarray:
    """(N, 6) stain signatures of :func:`hemseg.models.patch_records` records."""
    return stain_signatures(_record_patches(records))


def fit_stain_reference(
    records: Sequence[dict],
    path: str | Path,
    quantile: float = 0.99,
    sharpness_cells: int | None = None,
    sharpness_quantile: float = 0.995,
    sharpness_margin: float = 0.05,
) -> StainReference:
    """Fit a :class:`hemseg.postproc.StainReference` on patch records and write it to ``path`` (JSON).

    ``records`` are :func:`hemseg.models.patch_records` (with ``dataset`` and ``label``), e.g. a
    classification bundle's training side: one Gaussian per dataset; the threshold is the
    ``quantile`` of the records' own distances. With ``sharpness_cells`` (a specimen's fewest
    cells), each dataset's range of a specimen's median sharpness is fitted too
    (:func:`hemseg.postproc.sharpness_range` with ``sharpness_quantile`` and ``sharpness_margin``).
    """
    from hemseg.data.files import write_text_atomic

    by_source: dict[str, list[dict]] = {}
    for record in records:
        by_source.setdefault(record["dataset"], []).append(record)
    patches = {name: _record_patches(rows) for name, rows in by_source.items()}
    reference = StainReference.fit({name: stain_signatures(rows) for name, rows in patches.items()}, quantile)
    if sharpness_cells:
        ranges = {
            name: sharpness_range(
                surround_sharpness(patches[name]),
                [record["label"] for record in rows],
                sharpness_cells,
                sharpness_quantile,
                sharpness_margin,
            )
            for name, rows in by_source.items()
        }
        reference = replace(reference, sharpness=ranges)
    write_text_atomic(path, json.dumps(reference.to_dict(), indent=1) + "\n")
    return reference


def read_stain_reference(path: str | Path) -> StainReference:
    """The :class:`hemseg.postproc.StainReference` written by :func:`fit_stain_reference`."""
    return StainReference.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
