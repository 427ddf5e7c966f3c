"""``hemseg diagnose``: smear photos in, cell counts, differential, flags for review and reports out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from hemseg.cli.files import write_text_atomic

#: Files written per image, under ``OUT/<image-stem>/``.
IMAGE_FILES = ("report.json", "cells.csv", "cells.geojson", "overlay.png")


def _inputs(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Every image to analyse, or (path, error) for a path that gives none."""
    from hemseg.cli.files import list_images

    for path in paths:
        if path.is_dir():
            try:
                yield from ((image, None) for image in list_images(path))
            except FileNotFoundError:
                yield path, "no images in this folder"
        elif path.exists():
            yield path, None
        else:
            yield path, "no such file or folder"


def _output_names(paths: list[Path]) -> list[str]:
    """Per-image folder names: the image stem, made unique with ``-2``, ``-3`` ... when stems repeat."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        stem = path.stem or "image"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


def _write_png_atomic(path: Path, rgb) -> None:
    from PIL import Image

    from hemseg.models.files import replacing

    with replacing(path) as tmp:
        Image.fromarray(rgb).save(tmp, format="PNG")


def write_image_outputs(folder: Path, image_name: str, rgb, report) -> None:
    """Write ``report.json``, ``cells.csv``, ``cells.geojson`` and ``overlay.png`` of one image."""
    from hemseg.diagnosis import COLOURS, cells_csv, cells_geojson
    from hemseg.postproc import draw_outlines

    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "report.json", json.dumps(report.to_dict(image_name), indent=1) + "\n")
    write_text_atomic(folder / "cells.csv", cells_csv(report.cells))
    write_text_atomic(folder / "cells.geojson", cells_geojson(report.cells) + "\n")
    thickness = max(1, round(max(rgb.shape[:2]) / 400))
    order = sorted(report.cells, key=lambda c: c.kind == "wbc")  # white cells drawn last, on top
    outlines = [(c.outline, COLOURS.get(c.cls, (128, 128, 128))) for c in order]
    _write_png_atomic(folder / "overlay.png", draw_outlines(rgb, outlines, thickness))


def diagnose(
    inputs: Annotated[list[Path], typer.Argument(help="Smear photos and/or folders of them.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Folder for the reports.")],
    rbc_diameter_px: Annotated[
        float | None, typer.Option(help="Red-cell diameter in the photos (px); default: estimated per photo.")
    ] = None,
    um_per_px: Annotated[
        float | None, typer.Option(help="Pixel size (µm); the red-cell diameter is taken as 7.5 µm.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary rows as JSON on stdout.")] = False,
    bundle: Annotated[
        Path | None, typer.Option(help="Classification bundle folder (default: the shipped one).")
    ] = None,
    onnx: Annotated[bool, typer.Option(help="Run the networks through ONNX Runtime when installed.")] = True,
) -> None:
    """Count, classify and flag the cells of blood-smear photos; write reports for review.

    Writes OUT/summary.csv (one row per input), OUT/report.html, and per image OUT/<stem>/ with
    report.json, cells.csv, cells.geojson and overlay.png. Decision support, not a diagnosis.
    Exit code 1 when any input failed (each failure: one line on stderr, an error row).
    """
    from hemseg.cli.smear import RBC_DIAMETER_UM, analyser_from_bundles
    from hemseg.data import SmearImageError, read_smear
    from hemseg.diagnosis import html_page, summary_csv, summary_row

    if rbc_diameter_px is not None and um_per_px is not None:
        typer.echo("hemseg: error: give --rbc-diameter-px or --um-per-px, not both", err=True)
        raise typer.Exit(2)
    for name, value in (("--rbc-diameter-px", rbc_diameter_px), ("--um-per-px", um_per_px)):
        if value is not None and not value > 0:
            typer.echo(f"hemseg: error: {name} must be positive, not {value}", err=True)
            raise typer.Exit(2)
    scale, source = rbc_diameter_px, "given" if rbc_diameter_px else None
    if um_per_px is not None:
        scale, source = RBC_DIAMETER_UM / um_per_px, "um_per_px"

    todo = list(_inputs(inputs))
    names = _output_names([path for path, _ in todo])
    out.mkdir(parents=True, exist_ok=True)
    try:
        analyser = analyser_from_bundles(bundle, onnx=onnx) if any(e is None for _, e in todo) else None
    except (OSError, ValueError, RuntimeError) as err:
        typer.echo(f"hemseg: error: cannot load the models: {err}", err=True)
        raise typer.Exit(1) from None
    rows, entries = [], []
    with typer.progressbar(
        list(zip(todo, names, strict=True)), label="diagnose", file=sys.stderr, hidden=len(todo) < 2
    ) as progress:
        for (path, error), name in progress:
            report = None
            if error is None:
                try:
                    rgb = read_smear(path)
                    report = analyser.analyse(rgb, scale, source)
                    write_image_outputs(out / name, path.name, rgb, report)
                except SmearImageError as err:
                    error = str(err)
                except Exception as err:  # one bad image must not stop the others
                    error = f"analysis failed ({type(err).__name__}: {err})".splitlines()[0]
                    report = None
            if error is not None:
                newline = "\n" if len(todo) > 1 and sys.stderr.isatty() else ""  # past the progress bar
                typer.echo(f"{newline}hemseg: error: {path}: {error}", err=True)
                for stale in IMAGE_FILES:  # no report of an earlier run beside an error row
                    (out / name / stale).unlink(missing_ok=True)
            row = summary_row(str(path), report, error or "")
            rows.append(row)
            entries.append((row, report, f"{name}/overlay.png" if report else None))
    write_text_atomic(out / "summary.csv", summary_csv(rows))
    write_text_atomic(out / "report.html", html_page(entries))
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
    failed = sum(row["status"] == "error" for row in rows)
    typer.echo(f"hemseg: {len(rows) - failed} of {len(rows)} images analysed; reports in {out}", err=True)
    if failed:
        raise typer.Exit(1)
