"""``hemseg data``: look at datasets in the hemseg layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hemseg.data.files import write_text_atomic

data_app = typer.Typer(help="Inspect datasets in the hemseg layout.", no_args_is_help=True)


def _join(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def _format(summary: dict) -> str:
    labels = _join(summary["labels"])
    extra = [f"{summary[k]} {k.replace('_', '-')}" for k in ("multi_label", "unlabelled") if summary[k]]
    lines = [
        f"{summary['name']}: {summary['images']} images, {summary['groups']} source groups",
        f"  structures  {', '.join(summary['structures']) or '-'}",
        f"  masks       {_join(summary['masks'])}",
        f"  labels      {labels}" + (f"; {', '.join(extra)}" if extra else ""),
    ]
    if summary["boxes"]:
        lines.append(f"  boxes       {_join(summary['boxes'])} (in {summary['box_files']} files)")
    split = summary["split"]
    lines.append(f"  split       train {split['train']} / val {split['val']} (seed {split['seed']})")
    if "sizes_px" in summary:
        lines.append(f"  sizes (px)  {_join(summary['sizes_px'])}  (median diameters)")
    for label, figures in summary.get("nuclei", {}).items():
        lines.append(
            f"  nuclei      {label}: {figures['nucleus_share']:.3f} of the cell, solidity "
            f"{figures['nucleus_solidity']:.3f} ({figures['cells']} cells; medians)"
        )
    return "\n".join(lines)


@data_app.command("summary")
def summary(
    data_dir: Annotated[Path, typer.Argument(help="A dataset folder, or a folder of dataset folders.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the summary as JSON to this file ('-': stdout only).")
    ] = None,
    sizes: Annotated[bool, typer.Option("--sizes", help="Measure median cell diameters from masks/boxes.")] = False,
    nuclei: Annotated[
        bool,
        typer.Option("--nuclei", help="Measure how the nucleus masks are drawn: share of the cell, solidity."),
    ] = False,
    val_fraction: Annotated[float, typer.Option(min=0.0, max=1.0, help="Validation share of the split.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
) -> None:
    """Print each dataset's counts: images, masks per structure, labels, boxes, split (cell sizes, nuclei)."""
    from hemseg.data import LayoutError, find_datasets, measure_cell_sizes, measure_nuclei, split_samples, summarize

    try:
        datasets = find_datasets(data_dir)
        summaries = []
        for dataset in datasets:
            entry = summarize(dataset)
            train, val = split_samples(dataset.samples, val_fraction=val_fraction, seed=seed)
            entry["split"] = {"train": len(train), "val": len(val), "seed": seed, "val_fraction": val_fraction}
            if sizes:
                entry["sizes_px"] = measure_cell_sizes(dataset)
            if nuclei and "nucleus" in dataset.structures:
                entry["nuclei"] = measure_nuclei(dataset)
            summaries.append(entry)
    except LayoutError as err:
        typer.echo(f"hemseg: error: {err}", err=True)
        raise typer.Exit(1) from None
    document = json.dumps({"datasets": summaries}, indent=2)
    if json_path == Path("-"):
        typer.echo(document)
        return
    typer.echo("\n".join(_format(s) for s in summaries))
    if json_path is not None:
        write_text_atomic(json_path, document + "\n")
