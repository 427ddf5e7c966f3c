"""Deterministic, leak-free train/validation splits.

A sample goes to validation when a seeded hash of its *group* (its source image, or for crops the
smear field they were cut from) falls below the validation fraction. The decision depends on the
group alone, so every image of a group lands on one side, in every dataset that shares the group
(ALL-IDB2 crops and their ALL-IDB1 fields), and adding images never moves existing ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TypeVar

from hemseg.data.layout import Dataset, Sample

S = TypeVar("S", bound=Sample)


def group_score(group: str, seed: int = 0) -> float:
    """Return a uniform number in [0, 1) fixed by ``group`` and ``seed``."""
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_validation(group: str, val_fraction: float = 0.2, seed: int = 0) -> bool:
    """Return whether a group belongs to the validation side."""
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must lie in [0, 1], got {val_fraction}")
    return group_score(group, seed) < val_fraction


def split_samples(samples: Iterable[S], val_fraction: float = 0.2, seed: int = 0) -> tuple[list[S], list[S]]:
    """Split samples into (train, validation) by group; the order of each side is kept.

    Args:
        samples: samples with a ``group``.
        val_fraction: expected share of groups on the validation side (0.2 for an 80/20 split).
        seed: changes which groups are drawn.

    """
    train: list[S] = []
    val: list[S] = []
    for sample in samples:
        (val if is_validation(sample.group, val_fraction, seed) else train).append(sample)
    return train, val


def samples_of_split(dataset: Dataset, split: str, val_fraction: float = 0.2, seed: int = 0) -> list[Sample]:
    """A dataset's samples: ``all``, or the ``train`` or ``val`` side of :func:`split_samples`.

    Raises:
        ValueError: ``split`` is none of the three.
    """
    if split not in ("all", "train", "val"):
        raise ValueError(f"split must be all, train or val, not {split!r}")
    if split == "all":
        return list(dataset.samples)
    train, val = split_samples(dataset.samples, val_fraction, seed)
    return train if split == "train" else val
