"""Cell counts -> white-cell differential (%), blast fraction, red-cell morphology shares; binomial intervals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hemseg.data.classes import RBC_CLASSES, WHITE_CELL_CLASSES


@dataclass(frozen=True)
class Differential:
    """A white-cell differential.

    Attributes:
        counts: cells per class, every class seen (white or not).
        wbc: number of white cells (classes in :data:`hemseg.data.WHITE_CELL_CLASSES`).
        percent: share of each white-cell class among white cells, in %, 0 when ``wbc`` is 0.
        blast_fraction: blasts / white cells (0 when there are no white cells).

    """

    counts: dict[str, int]
    wbc: int
    percent: dict[str, float]
    blast_fraction: float


def differential(cells: Iterable[str] | Mapping[str, int]) -> Differential:
    """Build the differential from one class name per cell, or from counts per class.

    Raises:
        ValueError: a count is negative.

    """
    if isinstance(cells, Mapping):
        counts = {str(k): int(v) for k, v in cells.items()}
    else:
        counts = {}
        for name in cells:
            counts[name] = counts.get(name, 0) + 1
    negative = [k for k, v in counts.items() if v < 0]
    if negative:
        raise ValueError(f"negative counts for {negative}")
    wbc = sum(counts.get(c, 0) for c in WHITE_CELL_CLASSES)
    percent = {c: (100.0 * counts.get(c, 0) / wbc if wbc else 0.0) for c in WHITE_CELL_CLASSES}
    blast_fraction = counts.get("blast", 0) / wbc if wbc else 0.0
    return Differential(counts=counts, wbc=wbc, percent=percent, blast_fraction=blast_fraction)


@dataclass(frozen=True)
class RedCellShares:
    """The morphology of a photo's (or a specimen's) red cells.

    Attributes:
        counts: red cells per class of :data:`hemseg.data.RBC_CLASSES` (every class, 0 when unseen).
        classified: red cells with a morphology class (0 when no red-cell classifier ran).
        percent: each class's share of ``classified``, in % (0 when ``classified`` is 0).
    """

    counts: dict[str, int]
    classified: int
    percent: dict[str, float]

    def to_dict(self) -> dict:
        """JSON-ready: ``classified``, ``counts`` and ``percent`` (rounded; None when none were classified)."""
        percent = {c: round(v, 2) for c, v in self.percent.items()} if self.classified else None
        return {"classified": self.classified, "counts": self.counts, "percent": percent}


def red_cell_shares(cells: Iterable[str] | Mapping[str, int]) -> RedCellShares:
    """Count red cells per morphology class, from one class name per red cell or from counts per class.

    Names outside :data:`hemseg.data.RBC_CLASSES` (a red cell no classifier saw is just ``rbc``) are
    not counted.
    """
    counts = dict.fromkeys(RBC_CLASSES, 0)
    pairs = cells.items() if isinstance(cells, Mapping) else ((name, 1) for name in cells)
    for name, count in pairs:
        if name in counts:
            counts[name] += int(count)
    classified = sum(counts.values())
    percent = {c: (100.0 * counts[c] / classified if classified else 0.0) for c in RBC_CLASSES}
    return RedCellShares(counts=counts, classified=classified, percent=percent)


def proportion_interval(count: int, total: int, confidence: float) -> tuple[float, float]:
    """Exact binomial (Clopper-Pearson) interval of ``count`` of ``total``, as fractions (scipy).

    ``(0.0, 1.0)`` when ``total`` is 0: nothing is known.
    """
    if total == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    interval = binomtest(count, total).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)
