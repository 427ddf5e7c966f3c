"""Data dicts (MONAI records) built from a dataset, for the pipelines in :mod:`hemseg.data.transforms`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from hemseg.data.classes import CELL_CLASSES, PARTIAL_LABELS, candidate_vector
from hemseg.data.layout import STRUCTURES, Dataset, LayoutError, Sample, find_datasets
from hemseg.data.splits import split_samples


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


def split_segmentation_records(
    data_root: str | Path,
    datasets: Sequence[str],
    rbc_diameter_px: Mapping[str, float],
    side: Literal["train", "val", "all"],
    val_fraction: float = 0.2,
    seed: int = 0,
    repeat: Mapping[str, int] | None = None,
    require: str | None = None,
) -> list[dict]:
    """Segmentation records of several datasets of ``data_root``, one side of the split.

    Args:
        data_root: folder holding the dataset folders.
        datasets: names of the datasets to use.
        rbc_diameter_px: red-cell diameter (px) of each dataset, for scale normalisation.
        side: "train", "val" (see :func:`hemseg.data.split_samples`) or "all".
        val_fraction: validation share of the split.
        seed: seed of the split.
        repeat: how many times to list each record of a dataset (e.g. large fields that yield
            several training patches); 1 by default.
        require: keep only images that have this structure's mask.

    Raises:
        LayoutError: a dataset is missing from ``data_root`` or malformed.
        KeyError: a dataset has no ``rbc_diameter_px`` entry.

    """
    records = []
    for dataset, samples in split_datasets(data_root, datasets, side, val_fraction, seed):
        if require is not None:
            samples = [s for s in samples if require in s.masks]
        records += segmentation_records(dataset, samples, rbc_diameter_px[dataset.name]) * (repeat or {}).get(
            dataset.name, 1
        )
    return records


def split_datasets(
    data_root: str | Path,
    datasets: Sequence[str],
    side: Literal["train", "val", "all"],
    val_fraction: float = 0.2,
    seed: int = 0,
) -> list[tuple[Dataset, list[Sample]]]:
    """The named datasets of ``data_root``, each with its samples on one side of the split.

    Raises:
        LayoutError: a dataset is missing from ``data_root`` or malformed.
    """
    found = {d.name: d for d in find_datasets(data_root)}
    chosen = []
    for name in datasets:
        if name not in found:
            raise LayoutError(f"{Path(data_root) / name}: no such dataset (found {sorted(found)})")
        train, val = split_samples(found[name].samples, val_fraction=val_fraction, seed=seed)
        chosen.append((found[name], {"train": train, "val": val, "all": list(found[name].samples)}[side]))
    return chosen


def class_balanced_weights(
    records: Sequence[Mapping], dataset_share: Mapping[str, float], balance: float | Mapping[str, float] = 1.0
) -> list[float]:
    """Sampling weight of each classification record (for a ``WeightedRandomSampler``).

    Each dataset gets its ``dataset_share`` of the draws, split between the labels it has in
    proportion to each label's record count to the power ``1 - balance``: with ``balance`` 1 equally,
    so rare classes (one basophil in bccd) and small sets (all_idb2) are seen as often as they are
    meant to be; with 0 as often as they occur; 0.5 in between (square root of the counts). A mapping
    gives each dataset its own ``balance`` (e.g. 0 for pseudo-labelled cells, drawn as they occur).

    Raises:
        KeyError: a record's dataset has no share.
    """
    counts: dict[tuple[str, str], int] = {}
    labels: dict[str, set[str]] = {}
    for record in records:
        counts[record["dataset"], record["label"]] = counts.get((record["dataset"], record["label"]), 0) + 1
        labels.setdefault(record["dataset"], set()).add(record["label"])
    of = {d: balance[d] if isinstance(balance, Mapping) else balance for d in labels}
    totals = {d: sum(counts[d, label] ** (1.0 - of[d]) for label in names) for d, names in labels.items()}
    return [
        dataset_share[r["dataset"]] * counts[r["dataset"], r["label"]] ** -of[r["dataset"]] / totals[r["dataset"]]
        for r in records
    ]
