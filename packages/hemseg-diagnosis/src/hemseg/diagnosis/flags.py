"""Flags for review raised from a differential, each with the rule that raised it.

Decision support: a flag asks a qualified person to look at the smear; it is not a diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hemseg.diagnosis.differential import Differential


@dataclass(frozen=True)
class Flag:
    """One reason for review.

    Attributes:
        name: short identifier (``blasts_present``, ``blast_fraction``, ``abnormal_differential``, ...).
        rule: the rule that raised it, in words, with the measured value.
    """

    name: str
    rule: str


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the flags (the ``flag_rules`` of the ``hemseg_diagnose`` bundle's config).

    Attributes:
        min_blasts: blasts at or above this count raise ``blasts_present``.
        blast_fraction: a blast fraction at or above this raises ``blast_fraction`` (WHO: 20 %).
        min_wbc_for_differential: fewer white cells than this give no ``abnormal_differential``
            flag (a differential of a handful of cells says little).
        reference_percent: reference interval (%) per white-cell class (a lab should use its own).
        max_review_share: a share of low-confidence cells above this raises ``uncertain_cells``.
    """

    min_blasts: int
    blast_fraction: float
    min_wbc_for_differential: int
    reference_percent: Mapping[str, tuple[float, float]]
    max_review_share: float


def review_flags(
    result: Differential,
    review_cells: int,
    rules: FlagRules,
    intervals: Mapping[str, tuple[float, float]] | None = None,
    min_wbc: int = 0,
) -> list[Flag]:
    """Flags for review of one differential (``review_cells``: white cells marked low-confidence).

    A pooled differential (a specimen, :mod:`hemseg.diagnosis.specimen`) gives each class's
    confidence ``intervals`` (fractions), shown beside its share, and ``min_wbc``: with fewer white
    cells every percentage-based flag says how many cells it rests on.
    """
    few = f" (on {result.wbc} white cells, fewer than {min_wbc})" if result.wbc < min_wbc else ""

    def interval(name: str, label: str) -> str:
        if intervals is None:
            return ""
        low, high = intervals[name]
        return f" ({label} {100 * low:.1f}-{100 * high:.1f}%)"

    flags = []
    blasts = result.counts.get("blast", 0)
    if blasts >= rules.min_blasts:
        flags.append(Flag("blasts_present", f"blasts {blasts} >= {rules.min_blasts}"))
    if result.wbc and result.blast_fraction >= rules.blast_fraction:
        flags.append(
            Flag(
                "blast_fraction",
                f"blast fraction {result.blast_fraction:.1%}{interval('blast', '95% CI')} "
                f">= {rules.blast_fraction:.0%}{few}",
            )
        )
    if result.wbc >= rules.min_wbc_for_differential:
        outside = [
            f"{name} {result.percent.get(name, 0.0):.1f}%{interval(name, 'CI')} outside {low:g}-{high:g}%"
            for name, (low, high) in rules.reference_percent.items()
            if not low <= result.percent.get(name, 0.0) <= high
        ]
        if outside:
            flags.append(Flag("abnormal_differential", "; ".join(outside) + few))
    if result.wbc and review_cells / result.wbc > rules.max_review_share:
        flags.append(
            Flag(
                "uncertain_cells",
                f"{review_cells} of {result.wbc} white cells low-confidence > {rules.max_review_share:.0%}",
            )
        )
    return flags
