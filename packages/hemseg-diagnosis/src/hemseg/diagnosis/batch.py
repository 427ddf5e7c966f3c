"""Photos in, reports out: the batch that ``hemseg diagnose`` and the ``hemseg_diagnose`` bundle run.

Every input gets a row in ``OUT/summary.csv`` and a section in ``OUT/report.html``; each photo that
can be analysed gets ``OUT/<stem>/`` with ``report.json``, ``cells.csv``, ``cells.geojson`` and
``overlay.png``. Every file is written to a temporary name and renamed; a photo that cannot be
read or analysed gets a one-line error and an error row, and the others go on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from hemseg.data.files import replacing, write_text_atomic
from hemseg.diagnosis.pipeline import SmearAnalyser
from hemseg.diagnosis.report import SmearReport

#: Files written per image, under ``OUT/<image-stem>/``.
IMAGE_FILES = ("report.json", "cells.csv", "cells.geojson", "overlay.png")


def hemseg_version() -> str:
    """The installed hemseg version (that of the ``hemseg-diagnosis`` distribution)."""
    try:
        return version("hemseg-diagnosis")
    except PackageNotFoundError:
        return "unknown"


def image_inputs(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str | None]]:
    """Every image to analyse, or (path, reason) for a path that gives none (folders: their images, sorted)."""
    from hemseg.data.layout import IMAGE_SUFFIXES

    for path in map(Path, paths):
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if images:
                yield from ((image, None) for image in images)
            else:
                yield path, "no images in this folder"
        elif path.exists():
            yield path, None
        else:
            yield path, "no such file or folder"


def output_names(paths: Iterable[Path]) -> list[str]:
    """Per-image folder names: the image stem, made unique with ``-2``, ``-3`` ... when stems repeat."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        stem = path.stem or "image"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


def write_image_outputs(
    folder: Path, image_name: str, rgb, report: SmearReport, provenance: Mapping | None = None
) -> None:
    """Write ``report.json``, ``cells.csv``, ``cells.geojson`` and ``overlay.png`` of one image."""
    from PIL import Image

    from hemseg.diagnosis.report import COLOURS, cells_csv, cells_geojson
    from hemseg.postproc import draw_outlines

    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "report.json", json.dumps(report.to_dict(image_name, provenance), indent=1) + "\n")
    write_text_atomic(folder / "cells.csv", cells_csv(report.cells))
    write_text_atomic(folder / "cells.geojson", cells_geojson(report.cells) + "\n")
    thickness = max(1, round(max(rgb.shape[:2]) / 400))
    order = sorted(report.cells, key=lambda c: c.kind == "wbc")  # white cells drawn last, on top
    outlines = [(c.outline, COLOURS.get(c.cls, (128, 128, 128))) for c in order]
    with replacing(folder / "overlay.png") as tmp:
        Image.fromarray(draw_outlines(rgb, outlines, thickness)).save(tmp, format="PNG")


def print_error(path: Path, error: str) -> None:
    """The default error report: one line on stderr."""
    print(f"hemseg: error: {path}: {error}", file=sys.stderr)


def diagnose_images(
    analyser: SmearAnalyser,
    inputs: Iterable[str | Path],
    out: str | Path,
    rbc_px: float | None = None,
    scale_source: str | None = None,
    on_error: Callable[[Path, str], None] = print_error,
    on_done: Callable[[Path], None] | None = None,
    specimens: Mapping[str, str] | None = None,
) -> list[dict]:
    """Analyse photos and folders of photos; write every report under ``out``.

    Args:
        analyser: the pipeline (e.g. the ``hemseg_diagnose`` bundle's ``analyser``).
        inputs: photos and folders of photos.
        out: the output folder.
        rbc_px: red-cell diameter of every photo (None: estimated per photo).
        scale_source: where ``rbc_px`` comes from (``given``, ``um_per_px``).
        on_error: called with each input that failed and the one-line reason.
        on_done: called after each input (progress).
        specimens: {image: specimen} (keys: path, file name or stem; :func:`hemseg.diagnosis.specimen.read_specimens`);
            None: every photo's folder is its specimen. With the analyser's ``specimen_rules``, the
            photos of each specimen are pooled into ``OUT/specimens.csv``, ``OUT/specimens/<name>.json``
            and the top of ``report.html`` (:mod:`hemseg.diagnosis.specimen`).

    Returns:
        The :func:`hemseg.diagnosis.summary_row` rows, one per input, as in ``summary.csv``.
    """
    from hemseg.data import SmearImageError, read_smear
    from hemseg.diagnosis.report import html_page, summary_csv, summary_row
    from hemseg.diagnosis.specimen import specimen_of

    out = Path(out)
    todo = list(image_inputs(inputs))
    names = output_names([path for path, _ in todo])
    specimen_names = specimen_of([path for path, _ in todo], specimens)
    out.mkdir(parents=True, exist_ok=True)
    provenance = {
        "hemseg_version": hemseg_version(),
        "bundles": analyser.provenance.get("bundles", {}),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    rows, entries, analysed = [], [], []
    for (path, error), name, specimen in zip(todo, names, specimen_names, strict=True):
        report = None
        if error is None:
            try:
                rgb = read_smear(path)
                report = analyser.analyse(rgb, rbc_px, scale_source)
                write_image_outputs(out / name, path.name, rgb, report, provenance)
            except SmearImageError as err:
                error = str(err)
            except Exception as err:  # one bad image must not stop the others
                error = f"analysis failed ({type(err).__name__}: {err})".splitlines()[0]
                report = None
        if error is not None:
            on_error(path, error)
            for stale in IMAGE_FILES:  # no report of an earlier run beside an error row
                (out / name / stale).unlink(missing_ok=True)
        row = summary_row(str(path), report, error or "", provenance)
        if report is not None:
            analysed.append((specimen, str(path), report))
        rows.append(row)
        entries.append((row, report, f"{name}/overlay.png" if report else None))
        if on_done is not None:
            on_done(path)
    pooled = write_specimens(out, analysed, analyser) if analyser.specimen_rules is not None else []
    write_text_atomic(out / "summary.csv", summary_csv(rows))
    write_text_atomic(out / "report.html", html_page(entries, provenance, pooled))
    return rows


def write_specimens(out: Path, analysed: list[tuple[str, str, SmearReport]], analyser: SmearAnalyser) -> list:
    """Pool the analysed photos per specimen; write ``specimens.csv`` and ``specimens/<name>.json``."""
    from hemseg.diagnosis.specimen import pool_specimens, specimen_file_name, specimens_csv

    pooled = pool_specimens(analysed, analyser.flag_rules, analyser.specimen_rules)
    used: set[str] = set()
    for specimen in pooled:
        name = specimen_file_name(specimen.name)
        while name in used:  # two specimens whose names differ only in characters not kept
            name = name.removesuffix(".json") + "_.json"
        used.add(name)
        write_text_atomic(out / "specimens" / name, json.dumps(specimen.to_dict(), indent=1) + "\n")
    write_text_atomic(out / "specimens.csv", specimens_csv(pooled))
    return pooled
