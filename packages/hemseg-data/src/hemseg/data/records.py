"""Data dicts (MONAI records) built from a dataset, for the pipelines in :mod:`hemseg.data.transforms`."""

from __future__ import annotations

from collections.abc import Iterable

from hemseg.data.classes import CELL_CLASSES, PARTIAL_LABELS, candidate_vector
from hemseg.data.layout import STRUCTURES, Dataset, Sample


def segmentation_records(
    dataset: Dataset,
    samples: Iterable[Sample] | None = None,
    rbc_diameter_px: float | None = None,
    structures: tuple[str, ...] = STRUCTURES,
) -> list[dict]:
    """One record per sample: ``image`` path, ``label`` (structure -> mask path, None when unknown).

    A structure is unknown for an image when the dataset does not annotate it or this image has no
    such mask. ``rbc_diameter_px`` is the dataset's red-cell diameter (for scale normalisation).
    """
    records = []
    for sample in dataset.samples if samples is None else samples:
        label = {s: str(sample.masks[s]) if s in sample.masks else None for s in structures}
        records.append(
            {
                "image": str(sample.image),
                "label": label,
                "rbc_diameter_px": rbc_diameter_px,
                "id": sample.id,
                "dataset": dataset.name,
            }
        )
    return records


def classification_records(
    dataset: Dataset,
    samples: Iterable[Sample] | None = None,
    rbc_diameter_px: float | None = None,
) -> list[dict]:
    """One record per single-label sample whose label is a cell class or a partial label.

    Records hold ``image``, ``target`` (a vector of allowed classes, see
    :func:`hemseg.data.classes.candidate_vector`), ``label``, ``rbc_diameter_px``, ``id``, ``dataset``.
    Images with several labels, none, or an image-level label are left out.
    """
    known = set(CELL_CLASSES) | set(PARTIAL_LABELS)
    records = []
    for sample in dataset.samples if samples is None else samples:
        if len(sample.labels) != 1 or sample.labels[0] not in known:
            continue
        records.append(
            {
                "image": str(sample.image),
                "target": candidate_vector(sample.labels[0]),
                "label": sample.labels[0],
                "rbc_diameter_px": rbc_diameter_px,
                "id": sample.id,
                "dataset": dataset.name,
            }
        )
    return records
