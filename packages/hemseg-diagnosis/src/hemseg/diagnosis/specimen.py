"""From photos to a specimen: one differential per slide over all its fields, with confidence intervals.

A lab reports the differential of a specimen (a slide), counted over as many fields as it takes to
reach 100-200 white cells; one photo rarely holds more than a few. The photos of one specimen are
pooled here: counts summed, each class's share given with its exact binomial (Clopper-Pearson)
95 % interval, the basis of Rümke's table in CLSI H20, and the flags for review decided once per
specimen. Below ``min_wbc`` white cells the differential is marked as resting on too few cells.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hemseg.data.classes import RBC_CLASSES, WHITE_CELL_CLASSES
from hemseg.diagnosis.differential import (
    Differential,
    RedCellShares,
    differential,
    proportion_interval,
    red_cell_shares,
)
from hemseg.diagnosis.flags import Flag, FlagRules, red_cell_findings, review_flags
from hemseg.diagnosis.report import COUNT_CLASSES, SmearReport

#: The note of a specimen with fewer white cells than its rules' ``min_wbc``.
TOO_FEW = "not enough cells for a differential"


@dataclass(frozen=True)
class SpecimenRules:
    """How a specimen's differential is reported (the ``specimen_rules`` of the ``hemseg_diagnose`` bundle).

    Attributes:
        min_wbc: fewer white cells than this: the differential is marked :data:`TOO_FEW` and every
            percentage-based flag says how many cells it rests on (CLSI H20: at least 100, better 200).
        confidence: confidence level of the intervals.
    """

    min_wbc: int
    confidence: float


def specimen_of(paths: Sequence[Path], table: Mapping[str, str] | None = None) -> list[str]:
    """Each photo's specimen: its row in ``table`` (keyed by path, file name or stem), else its folder's name."""
    specimens = []
    for path in paths:
        path = Path(path)
        if table is not None:
            for key in (str(path), path.name, path.stem):
                if key in table:
                    specimens.append(table[key])
                    break
            else:
                raise KeyError(f"{path}: no specimen in the specimens table")
        else:
            specimens.append(path.resolve().parent.name or "specimen")
    return specimens


def read_specimens(path: str | Path) -> dict[str, str]:
    """An ``image,specimen`` CSV as {image: specimen} (image: a path, a file name or a stem).

    Raises:
        ValueError: the header is not ``image,specimen`` or a row has an empty field.
    """
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or [f.strip() for f in reader.fieldnames[:2]] != ["image", "specimen"]:
            raise ValueError(f"{path}: header must be 'image,specimen', got {reader.fieldnames!r}")
        table = {}
        for line, row in enumerate(reader, start=2):
            image, specimen = (row.get("image") or "").strip(), (row.get("specimen") or "").strip()
            if not image or not specimen:
                raise ValueError(f"{path}:{line}: image and specimen must both be given")
            table[image] = specimen
    return table


@dataclass(frozen=True)
class Specimen:
    """One specimen's pooled findings.

    Attributes:
        name: the specimen.
        images: its photos that were analysed.
        differential: the pooled :class:`Differential`.
        intervals: per white-cell class, the (low, high) interval of its share, as fractions.
        blast_interval: the interval of the blast fraction.
        rbc_per_field, platelet_per_field: per analysed photo.
        review_cells: white cells marked for review.
        red_cells: the pooled red-cell morphology (ICSH grades on at least 1,000 red cells, which
            a specimen's fields reach where one field does not).
        flags: the specimen's flags for review.
        held_back: red-cell flags held back for too few red cells
            (:func:`hemseg.diagnosis.held_back_red_cell_flags`).
        note: :data:`TOO_FEW` when the count is below the rules' ``min_wbc``, else empty.
    """

    name: str
    images: list[str]
    differential: Differential
    intervals: dict[str, tuple[float, float]]
    blast_interval: tuple[float, float]
    rbc_per_field: list[int]
    platelet_per_field: list[int]
    review_cells: int
    red_cells: RedCellShares
    flags: list[Flag]
    note: str
    held_back: list[Flag] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready (``OUT/specimens/<name>.json``)."""
        result = self.differential
        return {
            "specimen": self.name,
            "fields": len(self.images),
            "images": self.images,
            "wbc": result.wbc,
            "counts": {c: int(result.counts.get(c, 0)) for c in COUNT_CLASSES},
            "percent": {c: round(result.percent[c], 2) for c in WHITE_CELL_CLASSES},
            "interval_percent": {c: [round(100 * v, 2) for v in self.intervals[c]] for c in WHITE_CELL_CLASSES},
            "blast_fraction": round(result.blast_fraction, 4),
            "blast_fraction_interval": [round(v, 4) for v in self.blast_interval],
            "rbc_per_field": _spread(self.rbc_per_field),
            "platelet_per_field": _spread(self.platelet_per_field),
            "review_cells": self.review_cells,
            "red_cells": self.red_cells.to_dict(),
            "flags": [asdict(f) for f in self.flags],
            "held_back": [asdict(f) for f in self.held_back],
            "note": self.note,
        }


def _spread(values: list[int]) -> dict:
    if not values:
        return {"mean": None, "min": None, "max": None}
    return {"mean": round(statistics.fmean(values), 1), "min": min(values), "max": max(values)}


def pool_specimens(
    reports: Iterable[tuple[str, str, SmearReport]], flags: FlagRules, rules: SpecimenRules
) -> list[Specimen]:
    """Pool (specimen, image, report) triples into one :class:`Specimen` each, in order of first appearance."""
    grouped: dict[str, list[tuple[str, SmearReport]]] = {}
    for specimen, image, report in reports:
        grouped.setdefault(specimen, []).append((image, report))
    specimens = []
    for name, members in grouped.items():
        counts: dict[str, int] = {}
        for _, report in members:
            for cls, count in report.differential.counts.items():
                counts[cls] = counts.get(cls, 0) + count
        result = differential(counts)
        intervals = {
            c: proportion_interval(result.counts.get(c, 0), result.wbc, rules.confidence) for c in WHITE_CELL_CLASSES
        }
        review = sum(report.review_cells for _, report in members)
        red: dict[str, int] = {}
        for _, report in members:
            for cls, count in report.red_cells.counts.items():
                red[cls] = red.get(cls, 0) + count
        red_cells = red_cell_shares(red)
        red_flags, held_back = red_cell_findings(red_cells, flags.red_cells)
        specimens.append(
            Specimen(
                name=name,
                images=[image for image, _ in members],
                differential=result,
                intervals=intervals,
                blast_interval=intervals["blast"],
                rbc_per_field=[report.rbc for _, report in members],
                platelet_per_field=[report.platelet for _, report in members],
                review_cells=review,
                red_cells=red_cells,
                flags=review_flags(result, review, flags, intervals, rules.min_wbc) + red_flags,
                note=TOO_FEW if result.wbc < rules.min_wbc else "",
                held_back=held_back,
            )
        )
    return specimens


#: Columns of ``specimens.csv``.
SPECIMEN_COLUMNS: tuple[str, ...] = (
    "specimen",
    "fields",
    "wbc",
    *COUNT_CLASSES,
    *(f"{c}_percent" for c in WHITE_CELL_CLASSES),
    *(f"{c}_ci_{side}" for c in WHITE_CELL_CLASSES for side in ("low", "high")),
    "blast_fraction",
    "blast_fraction_ci_low",
    "blast_fraction_ci_high",
    "rbc_per_field",
    "rbc_per_field_min",
    "rbc_per_field_max",
    "platelet_per_field",
    "platelet_per_field_min",
    "platelet_per_field_max",
    "rbc_classified",
    *(f"rbc_{c}_percent" for c in RBC_CLASSES),
    "flags",
    "held_back",
    "note",
)


def specimens_csv(specimens: Sequence[Specimen]) -> str:
    """``specimens.csv``: one row per specimen (:data:`SPECIMEN_COLUMNS`; shares and intervals in %)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SPECIMEN_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for specimen in specimens:
        data = specimen.to_dict()
        row = {"specimen": specimen.name, "fields": data["fields"], "wbc": data["wbc"], **data["counts"]}
        for c in WHITE_CELL_CLASSES:
            row[f"{c}_percent"] = data["percent"][c]
            row[f"{c}_ci_low"], row[f"{c}_ci_high"] = data["interval_percent"][c]
        row["blast_fraction"] = data["blast_fraction"]
        row["blast_fraction_ci_low"], row["blast_fraction_ci_high"] = data["blast_fraction_interval"]
        for kind in ("rbc", "platelet"):
            spread = data[f"{kind}_per_field"]
            row[f"{kind}_per_field"], row[f"{kind}_per_field_min"], row[f"{kind}_per_field_max"] = (
                spread["mean"],
                spread["min"],
                spread["max"],
            )
        if specimen.red_cells.classified:
            row["rbc_classified"] = specimen.red_cells.classified
            row.update({f"rbc_{c}_percent": data["red_cells"]["percent"][c] for c in RBC_CLASSES})
        row["flags"] = ";".join(f.name for f in specimen.flags)
        row["held_back"] = ";".join(f.name for f in specimen.held_back)
        row["note"] = specimen.note
        writer.writerow(row)
    return out.getvalue()


def specimen_file_name(name: str) -> str:
    """A file name for a specimen's JSON: characters other than letters, digits, ``.-_`` become ``_``."""
    import re

    return (re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "specimen") + ".json"
