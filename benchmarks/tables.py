"""Tables 1 and 2 of docs/benchmarks.md and the Dice-vs-ms plot, from the measured result files.

    python benchmarks/tables.py [--results benchmarks/results] [--docs docs]

Reads (all written by the commands named in docs/benchmarks.md):

- ``speed.json``: ``benchmarks/networks.py --json`` (ms per 256x256 window, FLOPs, limit);
- ``segmentation/<backbone>-<dataset>.json`` and ``segmentation/<backbone>-train.json``:
  ``scripts/compare-architectures.sh`` (``hemseg evaluate segmentation --split val`` of each
  architecture trained with the same protocol, and its training time); ``shipped-<dataset>.json``:
  the shipped model (``scripts/evaluate-segmentation.sh``; ``shipped-train.json``: its training run,
  bundles/hemseg_segmentation/docs/README.md);
- ``classification/<dataset>.json``: ``scripts/evaluate-classification.sh`` (the shipped classifier);
- ``loso_segmentation/<recipe>/<source>-<dataset>.json``: ``scripts/leave-one-source-out-segmentation.sh``
  (each masked source scored whole by a model trained without it); ``loso_classification/<recipe>/<source>.json``:
  ``scripts/leave-one-source-out-classification.sh`` (each labelled source classified likewise).

Writes ``benchmarks_speed.inc``, ``benchmarks_segmentation.inc``, ``benchmarks_classifier.inc``,
``benchmarks_loso_segmentation.inc``, ``benchmarks_loso_replicates.inc`` (recipes run with several seeds:
``loso_segmentation/<recipe>_seed<N>``), ``benchmarks_loso_classification.inc`` and
``_static/architectures.png`` under ``--docs``;
docs/benchmarks.md includes them.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import statistics
from pathlib import Path

#: Datasets with masks, in the order of the tables.
DATASETS = ("bccd", "jtsc_wbc", "all_idb2", "all_idb1")
#: Datasets of labelled single-cell crops, the 8-class set first.
CLASSIFICATION_DATASETS = ("pbc", "all_idb2", "jtsc_wbc", "bccd")
#: Masked sources of the leave-one-source-out protocol and the datasets each one is scored on.
LOSO_SOURCES = {"bccd": ("bccd",), "jtsc_wbc": ("jtsc_wbc",), "all_idb": ("all_idb2", "all_idb1")}
#: The paper's figures (EfficientNet-B0 + U-Net, its own data, a GPU).
PAPER_DICE, PAPER_MS = 0.89, 28.0


@functools.cache
def _read(path: Path) -> dict:
    """A results file, read once per run (several tables read the same leave-one-out scores)."""
    return json.loads(path.read_text(encoding="utf-8"))


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def speed_table(speed: dict) -> str:
    """Markdown: ms per 256x256 window of each architecture in three runtimes, against the FLOP limit."""
    lines = [
        f"Machine: {speed['machine']}, {speed['threads']} threads, torch {speed['torch']}; median of "
        f"{speed['runs']} runs; measured fp32 matmul peak {speed['peak_gflops']:.1f} GFLOP/s.",
        "",
        "| architecture | backbone | params (M) | GFLOP | eager ms | channels_last ms | ONNX Runtime ms "
        "| limit ms | limit / best |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in speed["networks"]:
        lines.append(
            f"| {n['architecture']} | `{n['backbone']}` | {n['params_m']:.1f} | {n['gflop']:.2f} "
            f"| {n['eager_ms']:.1f} | {n['channels_last_ms']:.1f} | {n['onnx_ms']:.1f} | {n['limit_ms']:.1f} "
            f"| {n['fraction_of_limit']:.0%} |"
        )
    return "\n".join(lines) + "\n"


def segmentation_rows(results: Path, speed: dict) -> list[dict]:
    """One row per trained model: mean WBC / nucleus scores over the datasets, best ms, training time."""
    rows = []
    models = [(n["architecture"], n["backbone"], n["backbone"]) for n in speed["networks"]]
    models.append(("EfficientNet-B0 + U-Net, shipped", "efficientnet-b0", "shipped"))
    for label, backbone, stem in models:
        scores = {d: results / "segmentation" / f"{stem}-{d}.json" for d in DATASETS}
        if not all(path.exists() for path in scores.values()):
            continue
        scores = {d: _read(path)["structures"] for d, path in scores.items()}
        net = next(n for n in speed["networks"] if n["backbone"] == backbone)
        train = results / "segmentation" / f"{stem}-train.json"
        row = {
            "label": label,
            "shipped": stem == "shipped",
            "backbone": backbone,
            "per_dataset": scores,
            "best_ms": min(net["eager_ms"], net["channels_last_ms"], net["onnx_ms"]),
            "train": _read(train),
        }
        for structure in ("wbc", "nucleus"):
            for metric in ("dice", "iou", "accuracy"):
                values = [s[structure][metric] for s in scores.values() if s.get(structure, {}).get(metric)]
                row[f"{structure}_{metric}"] = statistics.mean(values) if values else None
        rows.append(row)
    return rows


def segmentation_table(rows: list[dict]) -> str:
    """Markdown: Table 1 (means over the datasets) and the per-dataset Dice behind it."""
    lines = [
        "| architecture | WBC Dice | WBC IoU | WBC pixel acc. | nucleus Dice | nucleus IoU | best ms / 256² "
        "| epochs | training |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        # paused_s: time the training process was stopped (SIGSTOP) while other measurements ran
        epochs, minutes = r["train"]["epochs"], (r["train"]["train_s"] - r["train"].get("paused_s", 0)) / 60
        lines.append(
            f"| {r['label']} | {_score(r['wbc_dice'])} | {_score(r['wbc_iou'])} | {_score(r['wbc_accuracy'])} "
            f"| {_score(r['nucleus_dice'])} | {_score(r['nucleus_iou'])} | {r['best_ms']:.1f} | {epochs} "
            f"| {minutes:.0f} min |"
        )
    lines += ["", "Dice per validation set (WBC / nucleus; `all_idb1` has no nucleus masks):", ""]
    lines.append("| architecture | " + " | ".join(f"`{d}`" for d in DATASETS) + " |")
    lines.append("|---|" + "---|" * len(DATASETS))
    for r in rows:
        cells = []
        for d in DATASETS:
            s = r["per_dataset"][d]
            nucleus = s.get("nucleus", {}).get("dice")
            cells.append(_score(s["wbc"]["dice"]) + ("" if nucleus is None else f" / {_score(nucleus)}"))
        lines.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def classifier_table(results: Path) -> str:
    """Markdown: Table 2, per-class precision, recall, F1 and one-vs-rest accuracy per validation set."""
    lines = []
    for dataset in CLASSIFICATION_DATASETS:
        r = _read(results / "classification" / f"{dataset}.json")
        lines += [
            f"**`{dataset}`** ({r['images']} validation images; accuracy {r['accuracy']:.3f}, "
            f"macro F1 {r['macro_f1']:.3f}, expected calibration error {r['ece']:.3f}):",
            "",
            "| class | precision | recall | F1 | accuracy (one vs rest) | support |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['accuracy']:.3f} "
            f"| {c['support']} |"
            for name, c in r["per_class"].items()
        ]
        lines.append("")
    return "\n".join(lines)


def _cell_scores(result: dict) -> dict:
    """Per-structure scores of one evaluation: the central cell's on crops (only it is annotated), else all cells."""
    return result.get("central_cell") or result["structures"]


def _loso_source_means(folder: Path) -> dict[str, tuple[float, float | None]]:
    """Mean WBC and nucleus Dice of each left-out source a recipe's folder has every score of."""
    means = {}
    for source, datasets in LOSO_SOURCES.items():
        files = [folder / f"{source}-{d}.json" for d in datasets]
        if all(f.exists() for f in files):
            scores = [_cell_scores(_read(f)) for f in files]
            nucleus = [s["nucleus"]["dice"] for s in scores if "nucleus" in s]
            means[source] = (
                statistics.mean(s["wbc"]["dice"] for s in scores),
                statistics.mean(nucleus) if nucleus else None,
            )
    return means


def _recipe_means(means: dict[str, tuple[float, float | None]]) -> tuple[float, float] | None:
    """Mean WBC and nucleus Dice over the sources (``_loso_source_means``), or None where an arm is missing."""
    if len(means) < len(LOSO_SOURCES):
        return None
    nucleus = [n for _, n in means.values() if n is not None]
    return statistics.mean(w for w, _ in means.values()), statistics.mean(nucleus)


def loso_segmentation_table(results: Path) -> str:
    """Markdown: Dice of each source scored by a model trained without it, per recipe, beside the shipped model's."""
    lines = [
        "| recipe | left out → scored on | WBC Dice | nucleus Dice | WBC precision / recall | training |",
        "|---|---|---|---|---|---|",
    ]
    for folder in sorted(p for p in (results / "loso_segmentation").glob("*") if p.is_dir()):
        for source, datasets in LOSO_SOURCES.items():
            files = [folder / f"{source}-{d}.json" for d in datasets]
            if not all(f.exists() for f in files):
                continue
            train = _read(folder / f"{source}-train.json")
            for dataset, file in zip(datasets, files, strict=True):
                scores = _cell_scores(_read(file))
                wbc, nucleus = scores["wbc"], scores.get("nucleus")
                lines.append(
                    f"| {folder.name} | {source} → `{dataset}` | {wbc['dice']:.3f} "
                    f"| {_score(nucleus and nucleus['dice'])} | {wbc['precision']:.3f} / {wbc['recall']:.3f} "
                    f"| {train['epochs']} epochs, {train['train_s'] / 60:.0f} min |"
                )
        means = _recipe_means(_loso_source_means(folder))
        if means:
            lines.append(
                f"| **{folder.name}** | **mean of the {len(LOSO_SOURCES)} sources** | **{means[0]:.3f}** "
                f"| **{means[1]:.3f}** | | |"
            )
    shipped = [(d, results / "segmentation" / f"shipped-{d}.json") for d in DATASETS]
    lines += [
        "",
        "In-domain, for comparison: the shipped model (trained on all sources) on their validation splits:",
        "",
    ]
    lines += ["| dataset | WBC Dice | nucleus Dice |", "|---|---|---|"]
    for dataset, path in shipped:
        scores = _cell_scores(_read(path))
        lines.append(f"| `{dataset}` | {scores['wbc']['dice']:.3f} | {_score(scores.get('nucleus', {}).get('dice'))} |")
    return "\n".join(lines) + "\n"


def _spread(values: list[float]) -> str:
    """Mean of replicate figures with their range."""
    return f"{statistics.mean(values):.3f} ({min(values):.3f} to {max(values):.3f})"


def loso_replicates_table(results: Path) -> str:
    """Markdown: mean (range) over the seeds of each recipe run with several seeds.

    Folders ``<recipe>`` (seed 0) and ``<recipe>_seed<N>``; only seeds with every arm count. Columns: WBC
    Dice of each left-out source, then the means over the sources.
    """
    folders = {p.name: p for p in (results / "loso_segmentation").glob("*") if p.is_dir()}
    sources = " | ".join(f"WBC Dice, `{s}` left out" for s in LOSO_SOURCES)
    lines = [
        f"| recipe | seeds | {sources} | mean WBC Dice | mean nucleus Dice |",
        "|---|---|" + "---|" * (len(LOSO_SOURCES) + 2),
    ]
    for recipe in sorted(folders):
        seeds = {0: folders[recipe]} | {
            int(match[1]): folder
            for name, folder in folders.items()
            if (match := re.fullmatch(rf"{re.escape(recipe)}_seed(\d+)", name))
        }
        per_source = {seed: _loso_source_means(folder) for seed, folder in sorted(seeds.items())}
        complete = {seed: m for seed, m in per_source.items() if _recipe_means(m)}
        if len(complete) < 2:
            continue
        means = [_recipe_means(m) for m in complete.values()]
        by_source = " | ".join(_spread([m[s][0] for m in complete.values()]) for s in LOSO_SOURCES)
        lines.append(
            f"| {recipe} | {', '.join(map(str, complete))} | {by_source} "
            f"| **{_spread([m[0] for m in means])}** | **{_spread([m[1] for m in means])}** |"
        )
    return "\n".join(lines) + "\n"


#: Classes every labelled white-cell source has (the leave-one-source-out classification mean).
COMMON_CLASSES = ("neutrophil", "eosinophil", "basophil", "lymphocyte", "monocyte")
#: Labelled sources of the classification protocol, in the order of its table.
LOSO_CLASSIFICATION = ("pbc", "jtsc_wbc", "bccd", "all_idb2")


def _common_classes(result: dict) -> tuple[float | None, tuple[float, str] | None]:
    """Accuracy over the crops of the 5 common classes, and the lowest recall of them (with its class)."""
    common = {c: v for c, v in result["per_class"].items() if c in COMMON_CLASSES and v["support"]}
    cells = sum(v["support"] for v in common.values())
    accuracy = sum(v["recall"] * v["support"] for v in common.values()) / cells if cells else None
    return accuracy, min((v["recall"], c) for c, v in common.items()) if common else None


def _lowest(lowest: tuple[float, str] | None) -> str:
    return "n/a" if lowest is None else f"{lowest[0]:.3f} ({lowest[1]})"


def loso_classification_table(results: Path) -> str:
    """Markdown: each labelled source classified by a model trained without it, per recipe."""
    lines = [
        "| recipe | left out | crops | accuracy | accuracy, 5 common classes | lowest recall of them | ECE "
        "| marked for review: in all (low probability) | adapted to the lab (the default): 5 common classes "
        "/ lowest recall / ECE "
        "| training |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for folder in sorted(p for p in (results / "loso_classification").glob("*") if p.is_dir()):
        common_accuracy, adapted_accuracy = [], []
        for source in LOSO_CLASSIFICATION:
            if not (folder / f"{source}.json").exists():
                continue
            r, train = _read(folder / f"{source}.json"), _read(folder / f"{source}-train.json")
            accuracy, lowest = _common_classes(r)
            if accuracy is not None:
                common_accuracy.append(accuracy)
            adapted = "not scored"
            if (folder / f"{source}-adapted.json").exists():
                a = _read(folder / f"{source}-adapted.json")
                a_accuracy, a_lowest = _common_classes(a)
                if a_accuracy is not None:
                    adapted_accuracy.append(a_accuracy)
                adapted = f"{_score(a_accuracy)} / {_lowest(a_lowest)} / {a['ece']:.3f}"
                adapted += "" if a["adapted_layers"] else " (not adapted)"
                adapted += " (class mix)" if "class_mix" in a else ""
                adapted += f" (zoom {a['zoom']:g})" if "zoom" in a else ""
            # results scored before the stain check hold only the low-probability share
            low = r.get("low_confidence_share", r["review_share"])
            marked = f"{r['review_share']:.1%} ({low:.1%})" if "low_confidence_share" in r else f"n/a ({low:.1%})"
            lines.append(
                f"| {folder.name} | `{source}` | {r['images']} | {r['accuracy']:.3f} | {_score(accuracy)} "
                f"| {_lowest(lowest)} | {r['ece']:.3f} | {marked} | {adapted} "
                f"| {train['epochs']} epochs of {train['samples_per_epoch']} draws"
                f"{' continuing a checkpoint' if '--init_weights' in train['args'] else ''}, "
                f"{train['train_s'] / 60:.0f} min |"
            )
        if common_accuracy:
            adapted_mean = f"**{statistics.mean(adapted_accuracy):.3f}**" if adapted_accuracy else ""
            lines.append(
                f"| **{folder.name}** | **mean, 5 common classes ({len(common_accuracy)} of 3 sources)** | | "
                f"| **{statistics.mean(common_accuracy):.3f}** | | | | {adapted_mean} | |"
            )
    return "\n".join(lines) + "\n"


def dice_vs_ms_plot(rows: list[dict], path: Path) -> None:
    """PNG: mean WBC Dice against the best ms per 256x256 window, one point per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    fig, ax = plt.subplots(figsize=(7.0, 4.4), dpi=120)
    for r in rows:
        ax.scatter(r["best_ms"], r["wbc_dice"], marker="*" if r["shipped"] else "o", s=140 if r["shipped"] else 50)
        text = f"{r['label']} ({r['train']['epochs']} epochs)"
        ax.annotate(text, (r["best_ms"], r["wbc_dice"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.scatter(
        PAPER_MS,
        PAPER_DICE,
        marker="s",
        facecolors="none",
        edgecolors="grey",
        label="paper: B0 + U-Net, a GPU, its data",
    )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(ScalarFormatter())
    ax.tick_params(axis="x", which="minor", labelsize=7)
    left, right = ax.get_xlim()
    ax.set_xlim(left, right * 1.8)
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom - 0.01, top + 0.01)
    ax.set_xlabel("best ms per 256x256 window, 2 CPU threads (log scale)")
    ax.set_ylabel("mean WBC Dice, 4 validation sets")
    ax.set_title("Segmentation: quality vs CPU time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    """Render every table and the plot from the result files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--docs", type=Path, default=Path(__file__).parent.parent / "docs")
    args = parser.parse_args()
    speed = _read(args.results / "speed.json")
    rows = segmentation_rows(args.results, speed)
    outputs = {
        "benchmarks_speed.inc": speed_table(speed),
        "benchmarks_segmentation.inc": segmentation_table(rows),
        "benchmarks_classifier.inc": classifier_table(args.results),
        "benchmarks_loso_segmentation.inc": loso_segmentation_table(args.results),
        "benchmarks_loso_replicates.inc": loso_replicates_table(args.results),
        "benchmarks_loso_classification.inc": loso_classification_table(args.results),
    }
    for name, text in outputs.items():
        (args.docs / name).write_text(text, encoding="utf-8")
        print(text)
    dice_vs_ms_plot(rows, args.docs / "_static" / "architectures.png")


if __name__ == "__main__":
    main()
