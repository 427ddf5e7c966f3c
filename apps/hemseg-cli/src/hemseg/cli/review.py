"""``hemseg review``: confirm or reclassify the cells of a diagnose output in the browser; export them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def review(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="OUT (a hemseg diagnose output folder) to review; or 'export' and the OUT folders to export.",
            show_default=False,
        ),
    ],
    to: Annotated[Path | None, typer.Option("--to", help="export: folder for the dataset (new or empty).")] = None,
    red_to: Annotated[
        Path | None,
        typer.Option(
            "--red-to", help="export: folder for the reviewed red cells' dataset (new or empty).", show_default=False
        ),
    ] = None,
    photos: Annotated[
        list[Path] | None,
        typer.Option(
            "--photos",
            help="export --red-to: a folder holding the photos that were analysed (repeatable).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; give another than 127.0.0.1 only on a trusted network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    reviewer: Annotated[str | None, typer.Option(help="Reviewer name recorded with each decision.")] = None,
) -> None:
    """Review a diagnose output in the browser: `hemseg review OUT`; export it: `hemseg review export OUT... --to DIR`.

    The review starts a local web app (printing its address): the images of OUT with their counts
    and flags; per image, the photo with the cell outlines and a gallery of its white cells, those
    marked for review first. Keys: 1-9 the classes, 0 not a white cell, s smudge (counted apart, out
    of the differential), Enter confirms, arrows move. Every decision is saved at once to
    OUT/<stem>/review.json, and report.json and summary.csv gain the reviewed counts beside the
    machine's. export writes the reviewed white cells as a dataset (images/, labels.csv,
    dataset.json) that the classification bundle's configs read; with --red-to and --photos, the
    reviewed red cells too, as photos with points (images/, points.csv, dataset.json) that the
    red-cell bundle's configs read. Decision support, not a diagnosis.
    """
    from hemseg.diagnosis import ReviewError, export_red_cell_reviews, export_reviews

    try:
        if paths[0] == Path("export"):
            if to is None or len(paths) < 2 or (red_to is None) != (not photos):
                typer.echo(
                    "hemseg: error: export needs the OUT folders and --to DIR (--red-to with --photos)", err=True
                )
                raise typer.Exit(2)
            if red_to is not None and to.exists() and any(to.iterdir()):  # before the red cells are written
                raise ReviewError(f"{to}: exists and is not empty")
            if red_to is not None:  # first: it checks that every photo is there before writing anything
                count = export_red_cell_reviews(paths[1:], photos, red_to)
                typer.echo(f"hemseg: {count} reviewed red cells exported to {red_to}")
            count = export_reviews(paths[1:], to)
            typer.echo(f"hemseg: {count} reviewed white cells exported to {to}")
            return
        if len(paths) != 1 or to is not None or red_to is not None:
            typer.echo("hemseg: error: review takes one OUT folder (--to and --red-to are for export)", err=True)
            raise typer.Exit(2)
        from hemseg.review import serve

        serve(paths[0], host, port, reviewer, announce=lambda url: typer.echo(f"hemseg: reviewing {paths[0]} at {url}"))
    except ReviewError as err:
        typer.echo(f"hemseg: error: {err}", err=True)
        raise typer.Exit(1) from None
