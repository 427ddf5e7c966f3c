"""The stain reference of a classifier's training sources: fitted on its training patches, read at inference."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hemseg.postproc import StainReference, stain_signatures


def record_signatures(records: Sequence[dict]) -> np.ndarray:
    """(N, 6) stain signatures of :func:`hemseg.models.patch_records` records (``image`` and ``mask``)."""
    patches = [np.concatenate([record["image"], record["mask"]]).transpose(1, 2, 0) for record in records]
    return stain_signatures(np.stack(patches))


def fit_stain_reference(records: Sequence[dict], path: str | Path, quantile: float = 0.99) -> StainReference:
    """Fit a :class:`hemseg.postproc.StainReference` on patch records and write it to ``path`` (JSON).

    ``records`` are :func:`hemseg.models.patch_records` (with ``dataset``), e.g. a classification
    bundle's training side: one Gaussian per dataset; the threshold is the ``quantile`` of the
    records' own distances.
    """
    from hemseg.data.files import write_text_atomic

    by_source: dict[str, list[dict]] = {}
    for record in records:
        by_source.setdefault(record["dataset"], []).append(record)
    reference = StainReference.fit({name: record_signatures(rows) for name, rows in by_source.items()}, quantile)
    write_text_atomic(path, json.dumps(reference.to_dict(), indent=1) + "\n")
    return reference


def read_stain_reference(path: str | Path) -> StainReference:
    """The :class:`hemseg.postproc.StainReference` written by :func:`fit_stain_reference`."""
    return StainReference.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
