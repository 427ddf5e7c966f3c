"""A person's review of a ``hemseg diagnose`` output: corrections of cells, their findings, the export.

A technologist confirms or reclassifies each white cell of a photo, and each red cell's morphology
class where the analysis classified red cells (``hemseg review``). Every
correction goes at once to ``OUT/<stem>/review.json`` (written whole, then renamed); the counts,
differential, blast fraction and flags are recomputed from the corrected classes by the same code
as the machine's (:func:`hemseg.diagnosis.pipeline.findings`), and written beside the machine's in
``report.json`` (``review``) and ``summary.csv`` (:data:`hemseg.diagnosis.REVIEW_COLUMNS`).
Besides the classifier's classes a cell can be ``not_wbc`` (left out of every count) or ``smudge``
(counted apart, left out of the differential). :func:`export_reviews` turns the reviewed white cells
into a dataset in the hemseg layout that the classification bundle's configs read, and
:func:`export_red_cell_reviews` the reviewed red cells into one that the red-cell bundle's read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hemseg.data.files import replacing, write_text_atomic
from hemseg.data.smear_image import SmearImageError, read_smear
from hemseg.diagnosis.flags import FlagRules
from hemseg.diagnosis.pipeline import findings
from hemseg.diagnosis.report import COUNT_CLASSES, NOT_RBC, SUMMARY_COLUMNS, Cell, SmearReport

#: A segmented object that is no white cell: left out of every count.
NOT_WBC = "not_wbc"
#: A smudged or broken cell that cannot be classified: counted apart, left out of the differential.
SMUDGE = "smudge"
#: Where an image's corrections are kept, in its output folder.
REVIEW_FILE = "review.json"
#: Red-cell diameter (px) of the crops that :func:`export_reviews` writes (its ``dataset.json`` says so).
EXPORT_RBC_PX = 48.0


class ReviewError(ValueError):
    """A review that cannot be opened or a correction that cannot be made (the message is one line)."""


@dataclass(frozen=True)
class Correction:
    """A person's decision on one cell (a white cell, or a red cell's morphology).

    Attributes:
        cell: the cell's id in ``report.json``.
        original: the machine's class.
        label: the class given (equal to ``original`` when confirmed); for white cells also
            :data:`NOT_WBC` or :data:`SMUDGE`, for red cells :data:`hemseg.diagnosis.NOT_RBC`.
        time: when, ISO 8601 UTC.
        reviewer: who, when given.
    """

    cell: int
    original: str
    label: str
    time: str
    reviewer: str | None = None


def apply_review(report: SmearReport, corrections: Sequence[Correction], rules: FlagRules) -> SmearReport:
    """The report as reviewed: each corrected cell's class replaced (the latest correction wins), findings recomputed.

    Reviewed cells are no longer marked for review, so the ``uncertain_cells`` rule counts only the
    low-confidence cells nobody has looked at yet. Reclassified red cells change the red-cell shares
    and their flags.
    """
    latest = {c.cell: c for c in corrections}
    cells = [
        replace(cell, cls=latest[cell.id].label, review=False)
        if cell.kind in ("wbc", "rbc") and cell.id in latest
        else cell
        for cell in report.cells
    ]
    result, flags, held_back = findings(cells, rules)
    return replace(report, cells=cells, differential=result, flags=flags, held_back=held_back)


def review_summary(reviewed: SmearReport, corrections: Sequence[Correction]) -> dict:
    """The ``review`` block of ``report.json``: the reviewed findings and who made them.

    ``reviewed_cells`` counts white cells, ``reviewed_red_cells`` red cells; ``red_cells`` holds the
    reviewed red-cell shares.
    """
    latest = {c.cell: c for c in corrections}
    labels = [cell.cls for cell in reviewed.cells if cell.kind == "wbc"]
    red_ids = {cell.id for cell in reviewed.cells if cell.kind == "rbc"}
    return {
        "reviewed_cells": sum(cell not in red_ids for cell in latest),
        "reviewed_red_cells": sum(cell in red_ids for cell in latest),
        "corrected": sum(c.label != c.original for c in latest.values()),
        "reviewers": sorted({c.reviewer for c in latest.values() if c.reviewer}),
        "counts": {**reviewed.counts(), SMUDGE: labels.count(SMUDGE), NOT_WBC: labels.count(NOT_WBC)},
        "differential_percent": {k: round(v, 2) for k, v in reviewed.differential.percent.items()},
        "blast_fraction": round(reviewed.differential.blast_fraction, 4),
        "review_cells": reviewed.review_cells,
        "red_cells": reviewed.red_cells.to_dict(),
        "flags": [asdict(f) for f in reviewed.flags],
        "held_back": [asdict(f) for f in reviewed.held_back],
    }


def reviewed_columns(summary: Mapping) -> dict:
    """The :data:`hemseg.diagnosis.REVIEW_COLUMNS` of ``summary.csv`` from a :func:`review_summary` block."""
    counts = summary["counts"]
    return {
        "reviewed_cells": summary["reviewed_cells"],
        "reviewed_red_cells": summary["reviewed_red_cells"],
        "reviewed_wbc": counts["wbc"],
        **{f"reviewed_{name}": counts[name] for name in COUNT_CLASSES},
        "reviewed_platelet": counts["platelet"],
        "smudge": counts[SMUDGE],
        "not_wbc": counts[NOT_WBC],
        "reviewed_blast_fraction": summary["blast_fraction"],
        "reviewed_flags": ";".join(f["name"] for f in summary["flags"]),
        "reviewed_held_back": ";".join(f["name"] for f in summary.get("held_back", [])),
        "reviewers": ";".join(summary["reviewers"]),
    }


class ImageReview:
    """The review of one image folder of a diagnose output.

    Args:
        out: the diagnose output folder.
        name: the image's folder under ``out``.

    Raises:
        ReviewError: no complete report there, one made before reviews were possible, or a
            ``review.json`` made on another analysis of the photo.
    """

    def __init__(self, out: str | Path, name: str) -> None:
        self.out, self.name = Path(out), name
        self.folder = self.out / name
        path = self.folder / "report.json"
        try:
            self.data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ReviewError(f"{path}: no readable report ({type(err).__name__})") from None
        provenance = self.data.get("provenance", {})
        if "flag_rules" not in provenance or "classes" not in provenance:
            raise ReviewError(f"{path}: made by an older hemseg without its flag rules; run hemseg diagnose again")
        self.rules = FlagRules.from_dict(provenance["flag_rules"])
        self.labels: tuple[str, ...] = (*provenance["classes"], NOT_WBC, SMUDGE)
        #: a red cell's classes and :data:`NOT_RBC` (empty where the analysis did not classify red cells)
        red = tuple(provenance.get("red_cell_classes", ()))
        self.red_labels: tuple[str, ...] = (*red, NOT_RBC) if red else ()
        self.report = SmearReport.from_dict(self.data)
        self.corrections = self._read_corrections()

    @property
    def settings_sha256(self) -> str | None:
        """The analysis this review belongs to (``report.json``'s provenance)."""
        return self.data.get("provenance", {}).get("settings_sha256")

    def _read_corrections(self) -> list[Correction]:
        path = self.folder / REVIEW_FILE
        if not path.is_file():
            return []
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            corrections = [Correction(**c) for c in stored["corrections"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ReviewError(f"{path}: unreadable ({type(err).__name__})") from None
        if stored.get("settings_sha256") != self.settings_sha256:
            raise ReviewError(f"{path}: made on another analysis of this photo (settings differ from report.json)")
        return corrections

    def white_cells(self) -> list[Cell]:
        """The white cells in review order: those marked for review first, least confident first, then by id."""
        white = [c for c in self.report.cells if c.kind == "wbc"]
        return sorted(white, key=lambda c: (not c.review, c.probability if c.review else 0.0, c.id))

    def red_cells(self) -> list[Cell]:
        """The classified red cells in review order: least confident first, then by id."""
        red = [c for c in self.report.cells if c.kind == "rbc" and c.probability is not None]
        return sorted(red, key=lambda c: (c.probability, c.id))

    def latest(self) -> dict[int, Correction]:
        """The latest correction of each reviewed cell."""
        return {c.cell: c for c in self.corrections}

    def reviewed(self) -> SmearReport:
        """The report with the corrections applied (:func:`apply_review`)."""
        return apply_review(self.report, self.corrections, self.rules)

    def summary(self) -> dict:
        """The reviewed findings (:func:`review_summary`)."""
        return review_summary(self.reviewed(), self.corrections)

    def correct(self, cell_id: int, label: str, reviewer: str | None = None) -> dict:
        """Record a decision on a white cell or a classified red cell, write it through, return the findings.

        ``review.json`` is written first (whole, then renamed), then ``report.json``'s ``review``
        block and this image's ``summary.csv`` row.

        Raises:
            KeyError: no white cell or classified red cell ``cell_id`` in this image.
            ReviewError: ``label`` is not a class of this review for that kind of cell.
        """
        cell = next((c for c in self.report.cells if c.id == cell_id), None)
        if cell is None or not (cell.kind == "wbc" or (cell.kind == "rbc" and cell.cls in self.red_labels)):
            raise KeyError(f"{self.name}: no white cell or classified red cell {cell_id}")
        labels = self.labels if cell.kind == "wbc" else self.red_labels
        if label not in labels:
            raise ReviewError(f"unknown class {label!r}; known: {', '.join(labels)}")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.corrections.append(Correction(cell_id, cell.cls, label, now, reviewer or None))
        stored = {"settings_sha256": self.settings_sha256, "corrections": [asdict(c) for c in self.corrections]}
        write_text_atomic(self.folder / REVIEW_FILE, json.dumps(stored, indent=1) + "\n")
        return self.write_findings()

    def write_findings(self) -> dict:
        """Write the reviewed findings into ``report.json`` and ``summary.csv``; return them."""
        summary = self.summary()
        self.data["review"] = summary
        write_text_atomic(self.folder / "report.json", json.dumps(self.data, indent=1) + "\n")
        update_summary(self.out, self.name, reviewed_columns(summary))
        return summary


def update_summary(out: Path, name: str, columns: Mapping) -> None:
    """Set the review columns of the ``summary.csv`` row of image folder ``name`` (rewritten whole)."""
    path = out / "summary.csv"
    try:
        rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    except OSError:
        return
    for row in rows:
        if row.get("folder") == name:
            row.update(columns)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_COLUMNS, restval="", extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, text.getvalue())


def image_folders(out: str | Path) -> list[str]:
    """The image folders of a diagnose output (those holding a ``report.json``), sorted."""
    out = Path(out)
    if not (out / "summary.csv").is_file():
        raise ReviewError(f"{out}: not a hemseg diagnose output (no summary.csv)")
    return sorted(p.parent.name for p in out.glob("*/report.json"))


def export_reviews(outs: Sequence[str | Path], to: str | Path) -> int:
    """Write the reviewed white cells of diagnose outputs as a dataset in the hemseg layout; return how many.

    Every cell a person confirmed or reclassified into one of the classifier's classes becomes
    ``images/<id>.png`` (its crop, resized so that red cells measure :data:`EXPORT_RBC_PX` pixels)
    with its label in ``labels.csv``; ``dataset.json``, written last, names the outputs it came
    from and the red-cell diameter. Cells called ``not_wbc`` or ``smudge`` are left out.

    Raises:
        ReviewError: ``to`` exists and is not empty, or an output cannot be read.
    """
    from PIL import Image

    to = Path(to)
    if to.exists() and any(to.iterdir()):
        raise ReviewError(f"{to}: exists and is not empty")
    labels: list[tuple[str, str]] = []
    used: set[str] = set()
    sources = []
    for out in map(Path, outs):
        sources.append(str(out.resolve()))
        for name in image_folders(out):
            if not (out / name / REVIEW_FILE).is_file():
                continue
            review = ImageReview(out, name)
            scale = EXPORT_RBC_PX / review.report.rbc_diameter_px
            white = {c.id for c in review.report.cells if c.kind == "wbc"}
            for cell_id, correction in sorted(review.latest().items()):
                if cell_id not in white or correction.label in (NOT_WBC, SMUDGE):  # red cells: their own export
                    continue
                with Image.open(out / name / "cells" / f"{cell_id}.png") as crop:
                    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
                    resized = np.asarray(crop.convert("RGB").resize(size, Image.Resampling.LANCZOS))
                sample = f"{out.resolve().name}-{name}-{cell_id}"
                while sample in used:
                    sample += "_"
                used.add(sample)
                with replacing(to / "images" / f"{sample}.png") as tmp:
                    Image.fromarray(resized).save(tmp, format="PNG")
                labels.append((sample, correction.label))
    write_text_atomic(to / "labels.csv", "id,label\n" + "".join(f"{i},{label}\n" for i, label in labels))
    info = {
        "name": to.name,
        "kind": "single-cell crops of reviewed white cells (hemseg review export)",
        "source": sources,
        "license": "that of the source photos",
        "structures": {},
        "labels": "cell class as confirmed or corrected by a person",
        "rbc_diameter_px": EXPORT_RBC_PX,
    }
    write_text_atomic(to / "dataset.json", json.dumps(info, indent=1) + "\n")
    return len(labels)


def export_red_cell_reviews(outs: Sequence[str | Path], photos: Sequence[str | Path], to: str | Path) -> int:
    """Write the reviewed red cells of diagnose outputs as photos with points (``chula_rbc``'s layout); return how many.

    Each photo with red cells that a person confirmed or reclassified (not :data:`NOT_RBC`) becomes
    ``images/<out>-<stem>.png``: the photo itself, found by its name in one of the ``photos``
    folders (a diagnose output keeps no clean copy of it) and resized so that red cells measure
    :data:`EXPORT_RBC_PX` pixels. ``points.csv`` holds one row per reviewed red cell (its centre and
    its class), so the red-cell bundle pairs each point with the cell that the pipeline finds there,
    as it does with ``chula_rbc``'s. ``dataset.json``, written last, names the outputs and the
    red-cell diameter. The other red cells of a photo carry no point, as in ``chula_rbc``.

    Raises:
        ReviewError: ``to`` exists and is not empty, an output cannot be read, or a reviewed photo
            is in none of the ``photos`` folders (checked before anything is written).
    """
    from PIL import Image

    to = Path(to)
    if to.exists() and any(to.iterdir()):
        raise ReviewError(f"{to}: exists and is not empty")
    chosen = []  # (sample id, photo, review, its reviewed red cells)
    for out in map(Path, outs):
        for name in image_folders(out):
            if not (out / name / REVIEW_FILE).is_file():
                continue
            review = ImageReview(out, name)
            red = {c.id: c for c in review.report.cells if c.kind == "rbc"}
            reviewed = [
                (red[i], c.label) for i, c in sorted(review.latest().items()) if i in red and c.label != NOT_RBC
            ]
            if not reviewed:
                continue
            image = review.data["image"]
            photo = next((Path(f) / image for f in photos if (Path(f) / image).is_file()), None)
            if photo is None:
                raise ReviewError(f"{out / name}: its photo {image} is in none of {', '.join(map(str, photos))}")
            _photo_of(photo, review)  # every photo checked before any is written
            sample = f"{out.resolve().name}-{name}"
            while sample in {c[0] for c in chosen}:
                sample += "_"
            chosen.append((sample, photo, review, reviewed))
    rows, sources = [], sorted({str(Path(out).resolve()) for out in outs})
    for sample, photo, review, reviewed in chosen:
        rgb = _photo_of(photo, review)
        scale = EXPORT_RBC_PX / review.report.rbc_diameter_px
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        with replacing(to / "images" / f"{sample}.png") as tmp:
            Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS).save(tmp, format="PNG")
        for cell, label in reviewed:
            x, y = ((c + 0.5) * scale - 0.5 for c in cell.centroid)
            rows.append(f"{sample},{x:.1f},{y:.1f},{label}\n")
    write_text_atomic(to / "points.csv", "id,x,y,label\n" + "".join(rows))
    info = {
        "name": to.name,
        "kind": "whole photos with reviewed red cells marked by points (hemseg review export)",
        "source": sources,
        "license": "that of the source photos",
        "structures": {},
        "annotations": "points.csv: one point per red cell a person confirmed or reclassified, with its "
        "morphology class; the other red cells carry none",
        "rbc_diameter_px": EXPORT_RBC_PX,
    }
    write_text_atomic(to / "dataset.json", json.dumps(info, indent=1) + "\n")
    return len(rows)


def _photo_of(photo: Path, review: ImageReview) -> np.ndarray:
    """The (H, W, 3) photo that ``review``'s analysis read; :class:`ReviewError` if unreadable or of another size."""
    try:
        rgb = read_smear(photo)
    except SmearImageError as err:
        raise ReviewError(f"{photo}: {err}") from None
    if rgb.shape[:2] != (review.report.height, review.report.width):
        raise ReviewError(f"{photo}: not the photo {review.out / review.name} analysed (another size)")
    return rgb
