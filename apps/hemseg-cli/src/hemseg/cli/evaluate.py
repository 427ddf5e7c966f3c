"""``hemseg evaluate``: score the shipped models on any dataset in the hemseg layout."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from hemseg.data.files import write_text_atomic

evaluate_app = typer.Typer(help="Score the shipped models on a dataset in the hemseg layout.", no_args_is_help=True)

DatasetDir = Annotated[Path, typer.Argument(help="A dataset folder in the hemseg layout.")]
JsonPath = Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here ('-': stdout).")]
Split = Annotated[str, typer.Option(help="Images to score: all, or one side of the 80/20 split.")]
RbcDiameter = Annotated[
    str | None,
    typer.Option(
        help="Red-cell diameter in the images (px), 'auto' to estimate it per image, or 'shared': one scale "
        "for all, the median of their own estimates (one analyser's crops); default: the dataset's entry "
        "in hemseg.data.RBC_DIAMETER_PX, else shared."
    ),
]
# hemseg evaluate rbc: each field's own red cells, so no shared scale
FieldRbcDiameter = Annotated[
    str | None,
    typer.Option(
        help="Red-cell diameter in the images (px), or 'auto' to estimate it per image; "
        "default: the dataset's entry in hemseg.data.RBC_DIAMETER_PX, else auto."
    ),
]


def _scale(value: str | None, shared: bool = True) -> float | str | None:
    """``--rbc-diameter-px``: None, ``auto``, ``shared`` (where ``shared`` allows it) or a positive number."""
    if value is None or value == "auto" or (shared and value == "shared"):
        return value
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        words = "a positive number, 'auto' or 'shared'" if shared else "a positive number or 'auto'"
        typer.echo(f"hemseg: error: --rbc-diameter-px must be {words}, not {value!r}", err=True)
        raise typer.Exit(2)
    return number


def _evaluate(evaluate: Callable[[], dict], split: str) -> dict:
    if split not in ("all", "train", "val"):
        typer.echo(f"hemseg: error: --split must be all, train or val, not {split!r}", err=True)
        raise typer.Exit(2)
    try:
        return evaluate()
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        typer.echo(f"hemseg: error: {err}", err=True)
        raise typer.Exit(1) from None


def _report(result: dict, lines: list[str], json_path: Path | None) -> None:
    document = json.dumps(result, indent=2)
    if json_path == Path("-"):
        typer.echo(document)
        return
    typer.echo("\n".join(lines))
    if json_path is not None:
        write_text_atomic(json_path, document + "\n")


def _interval_line(result: dict) -> list[str]:
    """The bootstrap interval of accuracy and macro F1, when the result has one."""
    if "interval" not in result:
        return []
    found = result["interval"]
    (a_low, a_high), (f_low, f_high) = found["accuracy"], found["macro_f1"]
    return [
        f"  {found['level']:.0%} interval, {found['unit_count']} groups of the split drawn again: "
        f"accuracy {a_low:.3f}-{a_high:.3f}  macro F1 {f_low:.3f}-{f_high:.3f}"
    ]


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _scale_line(result: dict) -> str:
    value = result["rbc_diameter_px"]
    median = f", median {result['rbc_diameter_px_median']:.1f} px" if "rbc_diameter_px_median" in result else ""
    readings = f" of {result['scale_readings']} images' readings" if result.get("scale_readings") else ""
    return f"  red-cell diameter: {value} ({result['scale_source']}{median}{readings})"


def _network_evaluation(
    evaluate: Callable[..., dict],
    name: str,
    bundle: Path | None,
    items: tuple[str, ...],
    dataset_dir: Path,
    split: str,
    rbc_diameter_px: str | None,
    keyword_items: tuple[str, ...] = (),
    **options: object,
) -> dict:
    """Score network bundle ``name``: ``evaluate(dataset_dir, *items, ..., **keyword_items)``, errors as one line."""
    from hemseg.models import Bundle, bundle_dir

    scale = _scale(rbc_diameter_px)

    def run() -> dict:
        network = Bundle(bundle_dir(name, bundle))
        rules = Bundle(bundle_dir("hemseg_diagnose")).item("scale")  # for --rbc-diameter-px auto
        arguments = [network.item(key) for key in items]
        keywords = {key: network.item(key) for key in keyword_items}
        return evaluate(dataset_dir, *arguments, split=split, rbc_diameter_px=scale, scale=rules, **keywords, **options)

    return _evaluate(run, split)


@evaluate_app.command("segmentation")
def segmentation(
    dataset_dir: DatasetDir,
    json_path: JsonPath = None,
    split: Split = "all",
    rbc_diameter_px: RbcDiameter = None,
    bundle: Annotated[Path | None, typer.Option(help="Segmentation bundle folder (default: the shipped one).")] = None,
    central_cell: Annotated[
        bool,
        typer.Option(
            "--central-cell",
            help="Also score the white cell nearest the centre alone (crops whose masks annotate only that cell).",
        ),
    ] = False,
) -> None:
    """Dice, IoU, precision, recall and pixel accuracy of the predicted masks, per annotated structure."""
    from hemseg.models import evaluate_segmentation

    items = ("segmenter", "structures", "mask_rules", "split_distance")
    result = _network_evaluation(
        evaluate_segmentation,
        "hemseg_segmentation",
        bundle,
        items,
        dataset_dir,
        split,
        rbc_diameter_px,
        central_cell=central_cell,
    )
    lines = [
        f"{result['dataset']}: {result['images']} images ({split}), {result['ms_per_image']:.1f} ms/image",
        _scale_line(result),
    ]
    for scope, title in (("structures", ""), ("central_cell", " (central cell)")):
        for structure, scores in result.get(scope, {}).items():
            cells = "  ".join(f"{k} {v:.4f}" if v is not None else f"{k} -" for k, v in scores.items() if k != "images")
            lines.append(f"  {structure:<8} {cells}  ({scores['images']} images){title}")
    for label, structures in result["per_label"].items():
        cells = "  ".join(
            f"{s} Dice {_figure(v['dice'])} (precision {_figure(v['precision'])}, recall {_figure(v['recall'])})"
            for s, v in structures.items()
        )
        images = max(v["images"] for v in structures.values())
        lines.append(f"  {label:<20} {cells}  ({images} images)")
    _report(result, lines, json_path)


@evaluate_app.command("classification")
def classification(
    dataset_dir: DatasetDir,
    json_path: JsonPath = None,
    split: Split = "all",
    rbc_diameter_px: RbcDiameter = None,
    bundle: Annotated[
        Path | None, typer.Option(help="Classification bundle folder (default: the shipped one).")
    ] = None,
    adapt: Annotated[
        bool,
        typer.Option(
            "--adapt/--no-adapt",
            help="Treat the crops as one lab's, as hemseg diagnose treats a specimen: where most have a stain "
            "unlike the training sources', or they are sharper or blurrier than the training photos of their "
            "stain, re-estimate the network's first normalisation statistics on them before classifying.",
        ),
    ] = True,
) -> None:
    """Accuracy, per-class precision/recall/F1, confusion and calibration of the central cell's class."""
    from hemseg.models import evaluate_classification

    items = ("patcher", "classifier")
    # the look check (which crops call for adapting, and mark every one where the sharpness is the reason)
    # runs either way; --no-adapt leaves the classifier as learnt
    adapting = ("adapt_layers", "adapt_least_share", "adapt_zooms") if adapt else ()
    checking = ("adapt_unfamiliar_share", "adapt_min_cells")
    result = _network_evaluation(
        evaluate_classification,
        "hemseg_classification",
        bundle,
        items,
        dataset_dir,
        split,
        rbc_diameter_px,
        keyword_items=("review_below", "stain_reference", *checking, *adapting),
    )
    unfamiliar = f", {result['unfamiliar_share']:.1%} for their stain" if "unfamiliar_share" in result else ""
    lines = [
        f"{result['dataset']}: {result['images']} images ({split}), {result['skipped']} skipped, "
        f"{result['ms_per_image']:.1f} ms/image",
        _scale_line(result),
        f"  accuracy {result['accuracy']:.4f}  macro F1 {result['macro_f1']:.4f}  ECE {result['ece']:.4f}  "
        f"marked for review {result['review_share']:.1%} ({result['low_confidence_share']:.1%} for a low "
        f"probability{unfamiliar})",
        *_interval_line(result),
    ]
    if "adapted_layers" in result:
        layers = result["adapted_layers"]
        lines.append(
            f"  statistics of the first {layers} normalisation layers re-estimated on these crops"
            if layers
            else "  statistics as learnt (too few crops, or too few of an unfamiliar look, to re-estimate them)"
        )
    if "unfamiliar_sharpness" in result:
        found = result["unfamiliar_sharpness"]
        low, high = found["sharpness_range"]
        lines.append(
            f"  {'because' if 'adapted_layers' in result else 'every crop marked for review (not adapted):'} their "
            f"median sharpness, {found['sharpness']:.2f}, lies outside {low:.2f} to {high:.2f}, "
            f"the range of the training photos of their stain ({found['source']})"
        )
    if "zoom" in result:
        lines.append(f"  at a magnification of {result['zoom']:g}, where the network is least uncertain of them")
    if "class_mix" in result:
        mix = ", ".join(f"{name} {share:.0%}" for name, share in result["class_mix"].items())
        lines.append(f"  and taken in their own mix of classes: {mix}")
    for label, scores in result["per_class"].items():
        lines.append(
            f"  {label:<21} precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  "
            f"F1 {scores['f1']:.4f}  ({scores['support']})"
        )
    _report(result, lines, json_path)


@evaluate_app.command("diagnosis")
def diagnosis(
    dataset_dir: DatasetDir,
    json_path: JsonPath = None,
    split: Split = "all",
    rbc_diameter_px: Annotated[
        float | None, typer.Option(help="Red-cell diameter in the images (px); default: estimated per image.")
    ] = None,
    bundle: Annotated[
        Path | None, typer.Option(help="hemseg_diagnose bundle folder (default: the shipped one).")
    ] = None,
) -> None:
    """Check hemseg diagnose on a dataset: white-cell boxes found, counts vs boxes, flags vs image labels."""
    from hemseg.diagnosis import evaluate_diagnosis
    from hemseg.models import load_analyser

    result = _evaluate(
        lambda: evaluate_diagnosis(dataset_dir, load_analyser(bundle), split=split, rbc_diameter_px=rbc_diameter_px),
        split,
    )
    lines = [f"{result['dataset']}: {result['images']} images ({split}), {result['ms_per_image']:.0f} ms/image"]
    # per_image: JSON only
    for key in ("wbc_boxes", "rbc_boxes", "rbc_count", "platelet_count", "scale_vs_boxes", "flags"):
        if key in result:
            lines.append(f"  {key}: {json.dumps(result[key])}")
    _report(result, lines, json_path)


@evaluate_app.command("rbc")
def rbc(
    dataset_dir: DatasetDir,
    json_path: JsonPath = None,
    split: Split = "all",
    rbc_diameter_px: FieldRbcDiameter = None,
    bundle: Annotated[
        Path | None, typer.Option(help="Red-cell classification bundle folder (default: the shipped one).")
    ] = None,
    onnx: Annotated[bool, typer.Option(help="Run the networks through ONNX Runtime when installed.")] = True,
) -> None:
    """Accuracy, macro F1, per-class scores and confusion of the red cells that points.csv marks."""
    from hemseg.models import (
        Bundle,
        bundle_dir,
        cache_dir,
        check_patches,
        evaluate_red_cells,
        has_onnxruntime,
        load_analyser,
    )

    scale = _scale(rbc_diameter_px, shared=False)

    def run() -> dict:
        network = Bundle(bundle_dir("hemseg_rbc_classification", bundle))
        check_patches(network.item("patches"), Bundle(bundle_dir("hemseg_segmentation")))
        if onnx and has_onnxruntime():  # as hemseg diagnose runs it: the same scores, about 3x faster
            network.run_on_onnx(cache_dir() / "onnx", int(network.item("patch_size")), 4)
        return evaluate_red_cells(
            dataset_dir,
            load_analyser(onnx=onnx).find_cells,
            network.item("classifier"),
            float(network.item("target_rbc_px")),
            int(network.item("patch_size")),
            split=split,
            rbc_diameter_px=scale,
        )

    result = _evaluate(run, split)
    lines = [
        f"{result['dataset']}: {result['points']} points in {result['images']} images ({split}), "
        f"{result['matched']} on a segmented red cell, {result['skipped_points']} unclassified skipped, "
        f"{result['ms_per_image']:.0f} ms/image",
        f"  red-cell diameter: {result['rbc_diameter_px']}",
        f"  accuracy {result['accuracy']:.4f}  macro F1 {result['macro_f1']:.4f}  ECE {result['ece']:.4f}",
        *_interval_line(result),
    ]
    if result["per_group"]:
        worst = list(result["per_group"].items())[:3]
        lines.append("  lowest accuracy: " + ", ".join(f"{g} {v['accuracy']:.3f} ({v['points']})" for g, v in worst))
    if (shared := result["shared_cells"])["points"]:
        lines.append(
            f"  {shared['points']} points on {shared['cells']} red cells that hold points of another class: "
            f"accuracy {shared['accuracy']:.4f} (elsewhere {shared['accuracy_elsewhere']:.4f}); "
            f"these cells allow at most {shared['best_possible_accuracy']:.4f}"
        )
    for label, scores in result["per_class"].items():
        lines.append(
            f"  {label:<12} precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  "
            f"F1 {scores['f1']:.4f}  ({scores['support']})"
        )
    _report(result, lines, json_path)
