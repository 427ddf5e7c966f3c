"""Flags for review raised from a differential and the red cells' morphology, each with the rule that raised it.

Decision support: a flag asks a qualified person to look at the smear; it is not a diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hemseg.diagnosis.differential import Differential, RedCellShares, proportion_interval


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
class RedCellFlag:
    """One red-cell morphology flag: the share of some classes of red cells at or above a threshold.

    Attributes:
        classes: the red-cell classes counted together (e.g. ``elliptocyte`` and ``ovalocyte``).
        percent: the flag is raised when their share of the classified red cells reaches this (%).
        guidance: where the threshold comes from, in words (shown in the flag's rule).
        min_rbc: the count of red cells the threshold is defined on (ICSH: schistocytes as a share of
            at least 1,000 red cells). On fewer classified red cells the flag is raised only when the
            whole interval of the share (exact binomial, :attr:`RedCellFlagRules.confidence`) lies at or
            above ``percent``, and its rule says so. 0: the share alone decides.
    """

    classes: tuple[str, ...]
    percent: float
    guidance: str
    min_rbc: int = 0


@dataclass(frozen=True)
class RedCellFlagRules:
    """The red-cell morphology flags (``flag_rules#red_cells`` of the ``hemseg_diagnose`` bundle).

    Attributes:
        min_rbc: fewer classified red cells than this raise no red-cell flag (a share of a handful
            of cells says little; ICSH grades on at least 1,000 red cells: pool a specimen's fields).
        flags: flag name -> :class:`RedCellFlag`.
        confidence: confidence level of the interval that decides a flag on fewer red cells than
            its own ``min_rbc``.
    """

    min_rbc: int
    flags: Mapping[str, RedCellFlag]
    confidence: float = 0.95


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
        red_cells: the red-cell morphology flags (:class:`RedCellFlagRules`; None: none).
    """

    min_blasts: int
    blast_fraction: float
    min_wbc_for_differential: int
    reference_percent: Mapping[str, tuple[float, float]]
    max_review_share: float
    red_cells: RedCellFlagRules | None = None

    @classmethod
    def from_dict(cls, data: Mapping) -> FlagRules:
        """The rules back from their :func:`dataclasses.asdict` form (as ``report.json``'s provenance keeps them)."""
        data = dict(data)
        data["reference_percent"] = {k: tuple(v) for k, v in data["reference_percent"].items()}
        red = data.get("red_cells")
        if red is not None:
            flags = {name: RedCellFlag(**{**f, "classes": tuple(f["classes"])}) for name, f in red["flags"].items()}
            data["red_cells"] = RedCellFlagRules(**{**red, "flags": flags})
        return cls(**data)


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


def red_cell_flags(shares: RedCellShares, rules: RedCellFlagRules | None) -> list[Flag]:
    """Flags for review of red-cell morphology: each rule whose classes' share reaches its threshold.

    Nothing is raised below ``rules.min_rbc`` classified red cells, or without rules. A flag whose
    threshold is defined on more red cells than were classified (:attr:`RedCellFlag.min_rbc`) is
    raised only when the lower end of its share's interval reaches the threshold.
    """
    return red_cell_findings(shares, rules)[0]


def held_back_red_cell_flags(shares: RedCellShares, rules: RedCellFlagRules | None) -> list[Flag]:
    """The red-cell flags held back for too few red cells, each with its measure and what to do.

    A rule whose classes' share reaches its threshold on fewer classified red cells than the rule
    is defined on (:attr:`RedCellFlag.min_rbc`, e.g. schistocytes on one photo), while the lower
    end of the share's interval stays below the threshold, raises no flag; it is returned here, so
    that a report can say that the share is over the threshold but rests on too few red cells,
    rather than leave it to be read as checked and found below.
    """
    return red_cell_findings(shares, rules)[1]


def red_cell_findings(shares: RedCellShares, rules: RedCellFlagRules | None) -> tuple[list[Flag], list[Flag]]:
    """:func:`red_cell_flags` and :func:`held_back_red_cell_flags` in one pass over the rules."""
    if rules is None or shares.classified < rules.min_rbc:
        return [], []
    flags, held_back = [], []
    for name, flag in rules.flags.items():
        count = sum(shares.counts.get(c, 0) for c in flag.classes)
        percent = 100.0 * count / shares.classified
        measured = f"{' + '.join(flag.classes)} {count} of {shares.classified} red cells = {percent:.1f}%"
        if shares.classified >= flag.min_rbc:
            if percent >= flag.percent:
                flags.append(Flag(name, f"{measured} >= {flag.percent:g}% ({flag.guidance})"))
            continue
        low, high = proportion_interval(count, shares.classified, rules.confidence)
        interval = f"{rules.confidence:.0%} CI {100 * low:.1f}-{100 * high:.1f}%"
        if 100.0 * low >= flag.percent:
            flags.append(
                Flag(
                    name,
                    f"{measured} ({interval}, on fewer than {flag.min_rbc} red cells) >= {flag.percent:g}% "
                    f"({flag.guidance})",
                )
            )
        elif percent >= flag.percent:
            held_back.append(
                Flag(
                    name,
                    f"{measured} ({interval}) >= {flag.percent:g}%, on fewer than the {flag.min_rbc} red cells "
                    f"the threshold is defined on: not flagged; pool the specimen's photos to count "
                    f"{flag.min_rbc} ({flag.guidance})",
                )
            )
    return flags, held_back
