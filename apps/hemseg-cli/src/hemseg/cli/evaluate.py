"""``hemseg evaluate``: score the shipped models on any dataset in the hemseg layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hemseg.cli.files import write_text_atomic

evaluate_app = typer.Typer(help="Score the shipped models on a dataset in the hemseg layout.", no_args_is_help=True)


@evaluate_app.command("segmentation")
def segmentation(
    dataset_dir: Annotated[Path, typer.Argument(help="A dataset folder in the hemseg layout.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON here ('-': stdout).")
    ] = None,
    split: Annotated[str, typer.Option(help="Images to score: all, or one side of the 80/20 split.")] = "all",
    rbc_diameter_px: Annotated[
        float | None, typer.Option(help="Red-cell diameter in the images (px); default: the bundle's table.")
    ] = None,
    bundle: Annotated[Path | None, typer.Option(help="Segmentation bundle folder (default: the shipped one).")] = None,
) -> None:
    """Dice, IoU, precision, recall and pixel accuracy of the predicted masks, per annotated structure."""
    from hemseg.cli.evaluation import evaluate_segmentation

    if split not in ("all", "train", "val"):
        typer.echo(f"hemseg: error: --split must be all, train or val, not {split!r}", err=True)
        raise typer.Exit(2)
    try:
        result = evaluate_segmentation(dataset_dir, split=split, rbc_diameter_px=rbc_diameter_px, bundle=bundle)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        typer.echo(f"hemseg: error: {err}", err=True)
        raise typer.Exit(1) from None
    document = json.dumps(result, indent=2)
    if json_path == Path("-"):
        typer.echo(document)
        return
    lines = [f"{result['dataset']}: {result['images']} images ({split}), {result['ms_per_image']:.1f} ms/image"]
    for structure, scores in result["structures"].items():
        cells = "  ".join(f"{k} {v:.4f}" if v is not None else f"{k} -" for k, v in scores.items() if k != "images")
        lines.append(f"  {structure:<8} {cells}  ({scores['images']} images)")
    typer.echo("\n".join(lines))
    if json_path is not None:
        write_text_atomic(json_path, document + "\n")
