"""One smear photo's findings (cells, differential, flags) and their files: JSON, CSV, GeoJSON, HTML.

Decision support for review by a qualified person, not a diagnosis: every output says so.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from hemseg.data.classes import RBC_CLASSES, WHITE_CELL_CLASSES
from hemseg.diagnosis.differential import Differential, RedCellShares, differential, red_cell_shares
from hemseg.diagnosis.flags import Flag

if TYPE_CHECKING:
    import numpy as np

#: The notice every report carries.
NOTICE = (
    "Decision support, not a diagnosis: hemseg is not a medical device. Every count, class and flag "
    "is for review by a qualified person."
)
#: A red-cell piece a person's review called no red cell (debris, a platelet clump): not counted.
NOT_RBC = "not_rbc"
#: Nucleated-cell classes with a count column in the summary (platelets have their own column).
COUNT_CLASSES: tuple[str, ...] = (*WHITE_CELL_CLASSES, "erythroblast")
#: Outline colour per class or kind (RGB), used by the overlay and the GeoJSON (:func:`colour_of`).
COLOURS: dict[str, tuple[int, int, int]] = {
    "neutrophil": (0, 114, 178),
    "eosinophil": (230, 159, 0),
    "basophil": (86, 180, 233),
    "lymphocyte": (0, 158, 115),
    "monocyte": (204, 121, 167),
    "immature_granulocyte": (240, 228, 66),
    "erythroblast": (120, 60, 20),
    "platelet": (0, 0, 0),
    "blast": (213, 0, 0),
    "rbc": (255, 255, 255),
}


def colour_of(cls: str, kind: str) -> tuple[int, int, int]:
    """A cell's outline colour: its class's, else its kind's (red cells of every morphology class), else grey."""
    return COLOURS.get(cls, COLOURS.get(kind, (128, 128, 128)))


@dataclass(frozen=True)
class Cell:
    """One cell found in a smear photo.

    Attributes:
        id: number of the cell in its image (1, 2, ...).
        kind: ``wbc`` (nucleated cell, classified), ``rbc`` or ``platelet``.
        cls: class name for white cells (see :data:`hemseg.data.CELL_CLASSES`), the morphology
            class for red cells when a red-cell classifier ran (:data:`hemseg.data.RBC_CLASSES`);
            the kind otherwise.
        probability: classifier probability of ``cls`` (None for cells no classifier saw).
        review: marked for review: the classifier was not confident (probability below the review
            threshold), or the cell's stain is unlike the classifier's training photos.
        bbox: (x_min, y_min, x_max, y_max) in pixels, max exclusive.
        centroid: (x, y) in pixels.
        area: pixels.
        on_border: the cell touches the image edge (it may be cut).
        outline: outline polygon, (x, y) vertices on pixel corners.
        alternative: for classified cells, the most probable class other than ``cls`` (a blast
            passed over below the classifier's blast threshold shows here), else None.
        alternative_probability: its probability (None for cells no classifier saw).
        nucleus: for white cells whose nucleus was segmented, its outline (empty otherwise).
        nucleus_area: that nucleus' pixels (None without one).
        unfamiliar_stain: for white cells, the stain of the cell and its surround is unlike every
            source the classifier was trained on (:class:`hemseg.postproc.StainReference`), so its
            class was learnt from no such photo; such a cell is marked for review.
        stain_source: for white cells, the classifier's training source whose stain is nearest the
            cell's (None without a stain reference, or for a cell too small to measure).
        sharpness: for white cells, how sharp the patch's surround looks
            (:func:`hemseg.postproc.surround_sharpness`; None where not measured). With
            ``stain_source`` it tells a specimen photographed sharper or blurrier than the classifier's
            training photos of its stain (:mod:`hemseg.diagnosis.adaptation`).
    """

    id: int
    kind: str
    cls: str
    probability: float | None
    review: bool
    bbox: tuple[int, int, int, int]
    centroid: tuple[float, float]
    area: int
    on_border: bool
    outline: list[tuple[int, int]] = field(repr=False)
    alternative: str | None = None
    alternative_probability: float | None = None
    nucleus: list[tuple[float, float]] = field(default_factory=list, repr=False)
    nucleus_area: int | None = None
    unfamiliar_stain: bool = False
    stain_source: str | None = None
    sharpness: float | None = None


@dataclass(frozen=True)
class SmearReport:
    """Everything found in one smear photo.

    Attributes:
        width, height: image size in pixels.
        rbc_diameter_px: red-cell diameter used (px).
        scale_source: ``given`` (--rbc-diameter-px), ``um_per_px``, ``estimated`` (from the red
            cells), ``white_cell`` (a single-cell crop with too few red cells: from its central white
            cell) or ``assumed`` (too few red cells to estimate: the default was used).
        cells: every cell found.
        differential: :class:`Differential` of the classified white cells.
        flags: the flags for review (:func:`hemseg.diagnosis.review_flags`).
        ms: wall time of the whole analysis.
        adaptation: when the white cells were classified by a classifier adapted to the look of
            the photo's specimen (:mod:`hemseg.diagnosis.adaptation`): ``specimen``, ``layers``,
            ``white_cells``, ``unfamiliar_share``, ``least_share`` (None: not in the specimen's own
            mix of classes), where the sharpness was the reason ``source``, ``sharpness`` and
            ``sharpness_range``, and where magnifications were tried ``zoom`` (the one kept); with
            ``adapted`` False where the specimen called for it but adapting was off (classes as first
            found, cells marked: :meth:`hemseg.diagnosis.SmearAnalyser.marked`); None otherwise.
        held_back: red-cell flags held back because the photo holds fewer red cells than their
            threshold is defined on (:func:`hemseg.diagnosis.held_back_red_cell_flags`): not flags,
            shown so that a share over a threshold is not read as below it.
        patches: the white cells' classifier patches, in the order of the white cells, while the
            batch runs (never written; None in a report read back).
    """

    width: int
    height: int
    rbc_diameter_px: float
    scale_source: str
    cells: list[Cell]
    differential: Differential
    flags: list[Flag]
    ms: float
    adaptation: Mapping | None = None
    held_back: list[Flag] = field(default_factory=list)
    patches: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def rbc(self) -> int:
        """Red cells counted (pieces a review called :data:`NOT_RBC` are not)."""
        return sum(c.kind == "rbc" and c.cls != NOT_RBC for c in self.cells)

    @property
    def platelet(self) -> int:
        """Platelets: those found by colour plus segmented cells classified as platelets."""
        return sum(c.kind == "platelet" or c.cls == "platelet" for c in self.cells)

    @property
    def red_cells(self) -> RedCellShares:
        """The red cells' morphology classes counted (none classified without a red-cell classifier)."""
        return red_cell_shares([c.cls for c in self.cells if c.kind == "rbc"])

    @property
    def review_cells(self) -> int:
        """White cells marked for review."""
        return sum(c.review for c in self.cells if c.kind == "wbc")

    def counts(self) -> dict[str, int]:
        """Summary counts: ``wbc``, ``rbc``, ``platelet``, then one per :data:`COUNT_CLASSES` class."""
        counts = self.differential.counts
        return {
            "wbc": self.differential.wbc,
            "rbc": self.rbc,
            "platelet": self.platelet,
            **{name: int(counts.get(name, 0)) for name in COUNT_CLASSES},
        }

    def to_dict(self, image: str, provenance: Mapping | None = None) -> dict:
        """Everything as JSON-ready data (``report.json``), with the run's ``provenance`` when given."""
        return {
            "image": image,
            "notice": NOTICE,
            **({"provenance": dict(provenance)} if provenance else {}),
            "width": self.width,
            "height": self.height,
            "rbc_diameter_px": round(self.rbc_diameter_px, 2),
            "scale_source": self.scale_source,
            "counts": self.counts(),
            "differential_percent": {k: round(v, 2) for k, v in self.differential.percent.items()},
            "blast_fraction": round(self.differential.blast_fraction, 4),
            "review_cells": self.review_cells,
            "adaptation": dict(self.adaptation) if self.adaptation else None,
            "red_cells": self.red_cells.to_dict(),
            "flags": [asdict(f) for f in self.flags],
            "held_back": [asdict(f) for f in self.held_back],
            "ms": round(self.ms, 1),
            "cells": [_cell_dict(c) for c in self.cells],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> SmearReport:
        """The report back from its ``report.json`` (cells without their outlines)."""
        cells = [
            Cell(
                id=c["id"],
                kind=c["kind"],
                cls=c["class"],
                probability=c["probability"],
                review=c["review"],
                bbox=tuple(c["bbox"]),
                centroid=tuple(c["centroid"]),
                area=c["area"],
                on_border=c["on_border"],
                outline=[],
                alternative=c["alternative"],
                alternative_probability=c["alternative_probability"],
                nucleus_area=c.get("nucleus_area"),
                unfamiliar_stain=c.get("unfamiliar_stain", False),
                stain_source=c.get("stain_source"),
                sharpness=c.get("sharpness"),
            )
            for c in data["cells"]
        ]
        return cls(
            width=data["width"],
            height=data["height"],
            rbc_diameter_px=data["rbc_diameter_px"],
            scale_source=data["scale_source"],
            cells=cells,
            differential=differential({k: data["counts"][k] for k in COUNT_CLASSES}),
            flags=[Flag(f["name"], f["rule"]) for f in data["flags"]],
            ms=data["ms"],
            adaptation=data.get("adaptation"),
            held_back=[Flag(f["name"], f["rule"]) for f in data.get("held_back", [])],
        )


def _cell_dict(cell: Cell) -> dict:
    return {
        "id": cell.id,
        "kind": cell.kind,
        "class": cell.cls,
        "probability": _rounded(cell.probability),
        "review": cell.review,
        "bbox": list(cell.bbox),
        "centroid": [round(cell.centroid[0], 1), round(cell.centroid[1], 1)],
        "area": cell.area,
        "on_border": cell.on_border,
        "alternative": cell.alternative,
        "alternative_probability": _rounded(cell.alternative_probability),
        "nucleus_area": cell.nucleus_area,
        "unfamiliar_stain": cell.unfamiliar_stain,
        "stain_source": cell.stain_source,
        "sharpness": None if cell.sharpness is None else round(cell.sharpness, 4),
    }


def look_words(adaptation: Mapping) -> str:
    """Why a specimen was adapted, for a sentence: its unfamiliar stain, or its unfamiliar sharpness."""
    cells = f"the {adaptation['white_cells']} white cells of specimen {adaptation['specimen']}"
    if "sharpness" not in adaptation:
        return f"{adaptation['unfamiliar_share']:.0%} of {cells} have a stain unlike the classifier's training photos"
    low, high = adaptation["sharpness_range"]
    side = "sharper" if adaptation["sharpness"] > high else "blurrier"
    return (
        f"{cells[0].upper()}{cells[1:]} look {side} than the classifier's training photos of their stain "
        f"({adaptation['source']}: median sharpness {adaptation['sharpness']:.2f}, outside {low:.2f} to {high:.2f})"
    )


def unadapted_words(adaptation: Mapping) -> str:
    """What was done instead of adapting (``adaptation["adapted"]`` False: no adapter), for a sentence."""
    marked = "every white cell is" if "sharpness" in adaptation else "its white cells of an unfamiliar stain are"
    return f"not classified again adapted to them (adapting is off), so {marked} marked for review"


def _mix_words(adaptation: Mapping) -> str:
    """How an adapted specimen's zoom and class mix were taken, for a sentence (older reports have neither)."""
    words = ""
    if adaptation.get("zoom") is not None:
        words += f", at a magnification of {adaptation['zoom']:g} (where it is least uncertain of them)"
    if adaptation.get("least_share") is not None:
        words += (
            ", and in the specimen's own mix of classes (no class's share below "
            f"{adaptation['least_share']:g} of an equal share)"
        )
    return words


def _rounded(probability: float | None) -> float | None:
    return None if probability is None else round(probability, 4)


#: Columns of ``cells.csv``.
CELL_COLUMNS: tuple[str, ...] = (
    "id", "kind", "class", "probability", "review", "x_min", "y_min", "x_max", "y_max",
    "centroid_x", "centroid_y", "area", "on_border", "alternative", "alternative_probability", "nucleus_area",
    "unfamiliar_stain",
)  # fmt: skip


def _formatted(probability: float | None) -> str:
    return "" if probability is None else f"{probability:.4f}"


def cells_csv(cells: Sequence[Cell]) -> str:
    """``cells.csv``: one row per cell (:data:`CELL_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CELL_COLUMNS)
    for c in cells:
        writer.writerow(
            [c.id, c.kind, c.cls, _formatted(c.probability), int(c.review),
             *c.bbox, f"{c.centroid[0]:.1f}", f"{c.centroid[1]:.1f}", c.area, int(c.on_border),
             c.alternative or "", _formatted(c.alternative_probability),
             "" if c.nucleus_area is None else c.nucleus_area, int(c.unfamiliar_stain)]
        )  # fmt: skip
    return out.getvalue()


def cells_geojson(cells: Sequence[Cell]) -> str:
    """``cells.geojson``: a FeatureCollection of cell outlines as QuPath imports them.

    Each feature is a closed polygon in pixel coordinates, on pixel corners (its area is the cell's
    pixel count), with a ``classification`` (name and colour) and the numeric fields as QuPath
    ``measurements``; white cells whose nucleus was segmented are QuPath cell objects (``objectType:
    cell``) with a ``nucleusGeometry``, the others detections.
    """
    features = []
    for c in cells:
        measurements = {
            "area_px": c.area,
            "centroid_x_px": round(c.centroid[0], 2),
            "centroid_y_px": round(c.centroid[1], 2),
            "probability": _rounded(c.probability),
            "alternative_probability": _rounded(c.alternative_probability),
            "nucleus_area_px": c.nucleus_area,
        }
        feature = {
            "type": "Feature",
            "id": str(c.id),
            "geometry": _polygon(c.outline, c.bbox),
            "properties": {
                "objectType": "cell" if c.nucleus else "detection",
                "classification": {"name": c.cls, "color": list(colour_of(c.cls, c.kind))},
                "measurements": {k: v for k, v in measurements.items() if v is not None},
                **{
                    k: v
                    for k, v in _cell_dict(c).items()
                    if k in ("id", "kind", "class", "review", "on_border", "alternative", "unfamiliar_stain")
                },
            },
        }
        if c.nucleus:
            feature["nucleusGeometry"] = _polygon(c.nucleus, c.bbox)
        features.append(feature)
    return json.dumps({"type": "FeatureCollection", "features": features})


def _polygon(outline: Sequence[tuple[float, float]], bbox: tuple[int, int, int, int]) -> dict:
    """A closed GeoJSON polygon of an outline (the box when the outline has fewer than 3 vertices)."""
    ring = [[x, y] for x, y in outline]
    if len(ring) < 3:
        x0, y0, x1, y1 = bbox
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


#: Columns of ``summary.csv`` filled by a person's review (:mod:`hemseg.diagnosis.review`), empty before.
REVIEW_COLUMNS: tuple[str, ...] = (
    "reviewed_cells", "reviewed_red_cells", "reviewed_wbc", *(f"reviewed_{name}" for name in COUNT_CLASSES),
    "reviewed_platelet", "smudge", "not_wbc", "reviewed_blast_fraction", "reviewed_flags", "reviewed_held_back",
    "reviewers",
)  # fmt: skip
#: Red-cell morphology columns of ``summary.csv``: classified red cells, then count and % per class
#: (empty when no red-cell classifier ran).
RED_CELL_COLUMNS: tuple[str, ...] = (
    "rbc_classified", *(f"rbc_{c}" for c in RBC_CLASSES), *(f"rbc_{c}_percent" for c in RBC_CLASSES),
)  # fmt: skip
#: Columns of ``summary.csv`` (one row per input): the machine's results, the scale and what made
#: them, the image's output folder, then the reviewed results.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "image", "status", "error", "wbc", "rbc", "platelet", *COUNT_CLASSES, "blast_fraction", *RED_CELL_COLUMNS,
    "flags", "held_back", "ms",
    "rbc_diameter_px", "scale_source", "hemseg_version", "models", "date", "folder", *REVIEW_COLUMNS,
)  # fmt: skip


def models_text(provenance: Mapping) -> str:
    """A provenance record's bundles in one line: each name, version and 12 hex digits of its SHA-256."""
    return "; ".join(
        " ".join(str(part) for part in (name, entry["version"], (entry.get("sha256") or "")[:12]) if part)
        for name, entry in provenance.get("bundles", {}).items()
    )


def summary_row(
    image: str,
    report: SmearReport | None = None,
    error: str = "",
    provenance: Mapping | None = None,
    folder: str | None = None,
) -> dict:
    """One ``summary.csv`` row: the report's counts and flags, or an error with empty (None) counts.

    ``provenance`` (``hemseg_version``, ``bundles``, ``date``: see :mod:`hemseg.diagnosis.batch`)
    fills the columns after the scale; ``folder`` names the image's output folder. The review
    columns stay empty (:func:`hemseg.diagnosis.review.reviewed_columns` fills them).
    """
    row: dict = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(image=image, status="error" if report is None else "ok", error=error, folder=folder)
    if report is not None:
        row.update(report.counts())
        row["blast_fraction"] = round(report.differential.blast_fraction, 4)
        red = report.red_cells
        if red.classified:
            row["rbc_classified"] = red.classified
            row.update({f"rbc_{c}": red.counts[c] for c in RBC_CLASSES})
            row.update({f"rbc_{c}_percent": round(red.percent[c], 2) for c in RBC_CLASSES})
        row["flags"] = ";".join(f.name for f in report.flags)
        row["held_back"] = ";".join(f.name for f in report.held_back)
        row["ms"] = round(report.ms)
        row["rbc_diameter_px"] = round(report.rbc_diameter_px, 2)
        row["scale_source"] = report.scale_source
    if provenance:
        row.update(
            hemseg_version=provenance.get("hemseg_version"), models=models_text(provenance), date=provenance.get("date")
        )
    return row


def summary_csv(rows: Sequence[dict]) -> str:
    """``summary.csv`` text from :func:`summary_row` rows."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def html_page(
    entries: Sequence[tuple[dict, SmearReport | None, str | None]],
    provenance: Mapping | None = None,
    specimens: Sequence = (),
) -> str:
    """``report.html``: the specimens' pooled differentials, then per photo its overlay, differential and flags.

    Args:
        entries: (summary row, report or None when the image failed, overlay image source: a
            ``data:`` URI for a page that stands alone, or a path relative to the page).
        provenance: what made the report (hemseg version, bundles with their versions and weights'
            SHA-256, date), shown under the notice.
        specimens: :class:`hemseg.diagnosis.Specimen` records, shown first.
    """
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>hemseg report</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
        ".notice{background:#fff3cd;padding:8px;border:1px solid #e0c060}.flag{color:#a00}"
        "img{max-width:100%}.error{color:#a00}</style></head><body>",
        "<h1>hemseg: blood-smear report</h1>",
        f"<p class='notice'><strong>{e(NOTICE)}</strong></p>",
    ]
    if provenance:
        bundles = "".join(
            f"<li>{e(name)} {e(str(entry['version']))}"
            + (f", weights SHA-256 <code>{e(entry['sha256'])}</code>" if entry.get("sha256") else "")
            + "</li>"
            for name, entry in provenance.get("bundles", {}).items()
        )
        parts.append(
            f"<p class='provenance'>hemseg {e(str(provenance.get('hemseg_version')))}, "
            f"{e(str(provenance.get('date')))}</p><ul>{bundles}</ul>"
        )
    if specimens:
        parts.append("<h2>Specimens</h2>")
        parts += [_specimen_html(specimen) for specimen in specimens]
        parts.append("<h2>Photos</h2>")
    for row, report, overlay in entries:
        parts.append(f"<h3>{e(row['image'])}</h3>")
        if report is None:
            parts.append(f"<p class='error'>Not analysed: {e(row['error'])}</p>")
            continue
        parts.append(
            f"<p>{report.width}&times;{report.height} px; red-cell diameter {report.rbc_diameter_px:.1f} px "
            f"({e(report.scale_source)}); {report.differential.wbc} white cells, {report.rbc} red cells, "
            f"{report.platelet} platelets; {report.review_cells} white cells marked for review.</p>"
        )
        if report.adaptation and report.adaptation.get("adapted", True):
            adapted = report.adaptation
            parts.append(
                f"<p class='flag'>{e(look_words(adapted))}: its white cells were classified with the statistics of "
                f"the classifier's first {adapted['layers']} batch-norm layers re-estimated on them (adapted to this "
                f"{'look' if 'sharpness' in adapted else 'stain'}){_mix_words(adapted)}. Review every class.</p>"
            )
        elif report.adaptation:
            look = report.adaptation
            parts.append(f"<p class='flag'>{e(look_words(look))}: {e(unadapted_words(look))}.</p>")
        if report.scale_source == "assumed":
            parts.append(
                "<p class='flag'>Too few red cells to measure the scale: a red-cell diameter of "
                f"{report.rbc_diameter_px:.0f} px was assumed. Pass --rbc-diameter-px or --um-per-px.</p>"
            )
        elif report.scale_source == "white_cell":
            parts.append(
                "<p class='flag'>Too few red cells to measure the scale: it was taken from the central white cell "
                f"({report.rbc_diameter_px:.0f} px per red cell), so that cell's size says nothing about its class. "
                "Pass --rbc-diameter-px or --um-per-px.</p>"
            )
        if report.flags:
            parts.append("<p><strong>Flags for review:</strong></p><ul>")
            parts += [f"<li class='flag'><strong>{e(f.name)}</strong>: {e(f.rule)}</li>" for f in report.flags]
            parts.append("</ul>")
        else:
            parts.append("<p>No flags for review.</p>")
        parts.append(_held_back_html(report.held_back))
        parts.append("<table><tr><th>class</th><th>count</th><th>% of white cells</th></tr>")
        for name in COUNT_CLASSES:
            count = report.differential.counts.get(name, 0)
            percent = report.differential.percent.get(name)
            shown = "" if percent is None else f"{percent:.1f}"
            parts.append(f"<tr><td>{e(name)}</td><td>{count}</td><td>{shown}</td></tr>")
        parts.append("</table>")
        parts.append(_red_cells_html(report.red_cells))
        if overlay:
            parts.append(f"<p><img src='{e(overlay)}' alt='cell outlines of {e(row['image'])}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _held_back_html(held_back: Sequence[Flag]) -> str:
    """The red-cell flags held back for too few red cells, as a list; empty when there are none."""
    if not held_back:
        return ""
    items = "".join(f"<li><strong>{html.escape(f.name)}</strong>: {html.escape(f.rule)}</li>" for f in held_back)
    return f"<p><strong>Not flagged, too few red cells counted:</strong></p><ul class='held-back'>{items}</ul>"


def _red_cells_html(shares: RedCellShares) -> str:
    """A red-cell morphology table (count and % of classified red cells per class); empty when none were classified."""
    if not shares.classified:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{shares.counts[name]}</td><td>{shares.percent[name]:.1f}</td></tr>"
        for name in RBC_CLASSES
    )
    return (
        f"<p>Red-cell morphology of {shares.classified} red cells (for review on the slide: a red-cell "
        "classifier trained on another microscope's photos can call normal red cells abnormal; see its "
        "model card):</p>"
        f"<table class='red-cells'><tr><th>red-cell class</th><th>count</th><th>% of red cells</th></tr>{rows}</table>"
    )


def _specimen_html(specimen) -> str:
    """One specimen's section of ``report.html``: counts, shares with their intervals, flags, note."""
    e = html.escape
    data = specimen.to_dict()
    rbc, platelets = data["rbc_per_field"], data["platelet_per_field"]
    lines = [
        f"<h3>Specimen {e(specimen.name)}</h3>",
        f"<p>{data['fields']} fields, {data['wbc']} white cells; red cells per field {rbc['mean']} "
        f"({rbc['min']}-{rbc['max']}), platelets per field {platelets['mean']} "
        f"({platelets['min']}-{platelets['max']}); {data['review_cells']} white cells marked for review.</p>",
    ]
    if specimen.note:
        lines.append(f"<p class='flag'><strong>{e(specimen.note)}</strong>: {data['wbc']} white cells counted.</p>")
    if specimen.flags:
        lines.append(
            "<ul>"
            + "".join(f"<li class='flag'><strong>{e(f.name)}</strong>: {e(f.rule)}</li>" for f in specimen.flags)
            + "</ul>"
        )
    else:
        lines.append("<p>No flags for review.</p>")
    lines.append(_held_back_html(specimen.held_back))
    lines.append("<table><tr><th>class</th><th>count</th><th>% of white cells</th><th>95% CI (%)</th></tr>")
    for name in COUNT_CLASSES:
        count = data["counts"][name]
        if name in data["percent"]:
            low, high = data["interval_percent"][name]
            lines.append(
                f"<tr><td>{e(name)}</td><td>{count}</td><td>{data['percent'][name]:.1f}</td>"
                f"<td>{low:.1f}-{high:.1f}</td></tr>"
            )
        else:
            lines.append(f"<tr><td>{e(name)}</td><td>{count}</td><td></td><td></td></tr>")
    lines.append("</table>")
    lines.append(_red_cells_html(specimen.red_cells))
    return "\n".join(lines)
