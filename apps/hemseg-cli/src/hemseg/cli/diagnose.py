"""``hemseg diagnose``: smear photos in, cell counts, differential, flags for review and reports out."""

from __future__ import annotations

import functools
import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

#: Signals that stop a run after the photos under way (exit code 128 + the signal: 130, 143).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _load_analyser(bundle: Path | None, onnx: bool, red_cells: bool, adapt: bool):
    """The ``hemseg_diagnose`` bundle's analyser; imports torch and MONAI (seconds), here or in a worker."""
    from hemseg.models import load_analyser

    return load_analyser(bundle, onnx, red_cell_morphology=red_cells, **({} if adapt else {"adapter": None}))


def diagnose(
    inputs: Annotated[list[Path], typer.Argument(help="Smear photos and/or folders of them.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Folder for the reports.")],
    rbc_diameter_px: Annotated[
        float | None, typer.Option(help="Red-cell diameter in the photos (px); default: estimated per photo.")
    ] = None,
    um_per_px: Annotated[
        float | None, typer.Option(help="Pixel size (µm); the red-cell diameter is the bundle's (7.5 µm).")
    ] = None,
    shared_scale: Annotated[
        bool,
        typer.Option(
            "--shared-scale",
            help="Measure every photo's scale first, then analyse each specimen's photos at their median "
            "(one slide's photos on one analyser or microscope, e.g. single-cell crops).",
        ),
    ] = False,
    specimens: Annotated[
        Path | None,
        typer.Option(help="CSV 'image,specimen' naming each photo's specimen; default: the photo's folder."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes analysing photos at once (each loads the networks once).")
    ] = 1,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Keep photos of OUT already finished with the same models and settings."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary rows as JSON on stdout.")] = False,
    bundle: Annotated[
        Path | None, typer.Option(help="hemseg_diagnose bundle folder (default: the shipped one).")
    ] = None,
    onnx: Annotated[bool, typer.Option(help="Run the networks through ONNX Runtime when installed.")] = True,
    red_cells: Annotated[
        bool, typer.Option(help="Classify each red cell's morphology (12 classes) and raise red-cell flags.")
    ] = True,
    adapt: Annotated[
        bool,
        typer.Option(
            help="Classify again, adapted to their look, the white cells of a specimen whose stain is mostly "
            "unlike the training photos', or whose photos are sharper or blurrier than those of its stain "
            "(--no-adapt: its classes stay, its look is reported and its cells of an unfamiliar look are "
            "marked for review)."
        ),
    ] = True,
) -> None:
    """Count, classify and flag the cells of blood-smear photos; write reports for review.

    Writes OUT/summary.csv (one row per input), OUT/report.html (one file), per image OUT/<stem>/
    with report.json, cells.csv, cells.geojson, overlay.png and cells/<id>.png (white-cell crops
    for hemseg review), and per specimen (the photos of one slide,
    pooled) OUT/specimens.csv and OUT/specimens/<name>.json. Decision support, not a diagnosis.
    summary.csv and log.jsonl grow as each photo finishes; SIGINT / SIGTERM stop after the photos
    under way, with the summary and report.html written (exit 130 / 143); --resume finishes the rest.
    A specimen of enough white cells (25), most with a stain unlike the classifier's training photos
    or photographed sharper or blurrier than those of its stain, has its white cells classified again
    with the classifier adapted to its look (--no-adapt: not; its cells of an unfamiliar look are marked for review).
    Exit code 1 when any input failed (each failure: one line on stderr, an error row).
    """
    from hemseg.diagnosis import diagnose_images, read_specimens
    from hemseg.diagnosis.batch import crop_photos, image_inputs, start_workers, use_threads, worker_threads
    from hemseg.diagnosis.report import look_words, unadapted_words
    from hemseg.diagnosis.specimen import specimen_of

    if sum((rbc_diameter_px is not None, um_per_px is not None, shared_scale)) > 1:
        typer.echo("hemseg: error: give one of --rbc-diameter-px, --um-per-px and --shared-scale", err=True)
        raise typer.Exit(2)
    for name, value in (("--rbc-diameter-px", rbc_diameter_px), ("--um-per-px", um_per_px)):
        if value is not None and not value > 0:
            typer.echo(f"hemseg: error: {name} must be positive, not {value}", err=True)
            raise typer.Exit(2)
    table = None
    if specimens is not None:
        try:
            table = read_specimens(specimens)
        except (OSError, ValueError) as err:
            typer.echo(f"hemseg: error: cannot read the specimens: {err}", err=True)
            raise typer.Exit(2) from None
    paths = [path for path, _ in image_inputs(inputs)]
    try:
        groups = sorted(set(specimen_of(paths, table)))
    except KeyError as err:
        typer.echo(f"hemseg: error: {err.args[0]} ({specimens})", err=True)
        raise typer.Exit(2) from None
    how = f"from {specimens}" if table is not None else "one per folder"
    typer.echo(
        f"hemseg: {len(groups)} specimen(s), {how}: {', '.join(groups[:5])}{' ...' * (len(groups) > 5)}", err=True
    )
    factory = functools.partial(_load_analyser, bundle, onnx, red_cells, adapt)
    pool = None
    if workers > 1:  # this process is one of them, with its share of the threads
        use_threads(worker_threads(workers))
        # started before this process imports the networks' libraries, so that they import theirs meanwhile
        pool = start_workers(factory, workers)
    try:
        analyser = factory()
    except (OSError, ValueError, RuntimeError) as err:
        typer.echo(f"hemseg: error: cannot load the models: {err}", err=True)
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        raise typer.Exit(1) from None
    scale, source = rbc_diameter_px, "given" if rbc_diameter_px else None
    if um_per_px is not None:
        scale, source = analyser.rbc_diameter_um / um_per_px, "um_per_px"
    if scale is None and not shared_scale and len(crops := crop_photos(analyser, paths)) > 1:
        typer.echo(
            f"hemseg: {len(crops)} of {len(paths)} photos are single-cell crops, whose scale is read photo by photo "
            "from a few red cells; --shared-scale (each folder one analyser's crops) or --rbc-diameter-px is surer",
            err=True,
        )

    def report_adapted(specimen: str, adaptation: dict) -> None:
        if not adaptation.get("adapted", True):
            typer.echo(f"hemseg: {look_words(adaptation)}; {unadapted_words(adaptation)}", err=True)
            return
        zoom = adaptation.get("zoom")
        typer.echo(
            f"hemseg: {look_words(adaptation)}; classified again with the "
            f"classifier adapted to them (statistics of its first {adaptation['layers']} batch-norm layers"
            f"{'' if zoom is None else f', at a magnification of {zoom:g}'}"
            f"{'' if adaptation.get('least_share') is None else ', and its own mix of classes'})",
            err=True,
        )

    def report_error(path: Path, error: str) -> None:
        newline = "\n" if len(paths) > 1 and sys.stderr.isatty() else ""  # past the progress bar
        typer.echo(f"{newline}hemseg: error: {path}: {error}", err=True)

    received: list[int] = []
    handlers = {number: signal.signal(number, lambda n, _: received.append(n)) for number in STOP_SIGNALS}
    try:
        with typer.progressbar(length=len(paths), label="diagnose", file=sys.stderr, hidden=len(paths) < 2) as bar:
            rows = diagnose_images(
                analyser,
                paths,
                out,
                resume=resume,
                workers=workers,
                analyser_factory=factory,
                pool=pool,
                should_stop=lambda: bool(received),
                rbc_px=scale,
                scale_source=source,
                shared=shared_scale,
                on_error=report_error,
                on_adapted=report_adapted,
                on_done=lambda _: bar.update(1),
                specimens=table,
            )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    if received:
        typer.echo(
            f"hemseg: stopped ({signal.Signals(received[0]).name}) after {len(rows)} of {len(paths)} images; "
            f"reports in {out}; --resume finishes the rest",
            err=True,
        )
        raise typer.Exit(128 + received[0])
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
    failed = sum(row["status"] == "error" for row in rows)
    typer.echo(f"hemseg: {len(rows) - failed} of {len(rows)} images analysed; reports in {out}", err=True)
    if failed:
        raise typer.Exit(1)
