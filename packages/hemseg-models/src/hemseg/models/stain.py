"""The stain reference of a classifier's training sources: fitted on its training patches, read at inference."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def fit_stain_reference(records: Sequence[dict], path: str | Path, quantile: float = 0.99):
    """Fit a :class:`hemseg.postproc.StainReference` on patch records and write it to ``path`` (JSON).

    ``records`` are :func:`hemseg.models.patch_records` (``image`` (3, P, P), ``mask`` (1, P, P),
    ``dataset``), e.g. a classification bundle's training side: one Gaussian per dataset; the
    threshold is the ``quantile`` of the records' own distances.
    """
    from hemseg.data.files import write_text_atomic
    from hemseg.postproc import StainReference, stain_signatures

    by_source: dict[str, list[np.ndarray]] = {}
    for record in records:
        patch = np.concatenate([record["image"], record["mask"]]).transpose(1, 2, 0)
        by_source.setdefault(record["dataset"], []).append(patch)
    reference = StainReference.fit(
        {name: stain_signatures(np.stack(patches)) for name, patches in by_source.items()}, quantile
    )
    write_text_atomic(path, json.dumps(reference.to_dict(), indent=1) + "\n")
    return reference


def read_stain_reference(path: str | Path):
    """The :class:`hemseg.postproc.StainReference` written by :func:`fit_stain_reference`."""
    from hemseg.postproc import StainReference

    return StainReference.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
