"""How the shipped networks hold up when a photo's stain, colour, focus, compression or scale change.

    HEMSEG_DATA=../shared/data python benchmarks/robustness.py [--json benchmarks/results/robustness.json]

Each validation image of the crop and field sets is changed in one way (a fixed change, the same
for every image; the reference masks and labels stay) and scored exactly as ``hemseg evaluate
segmentation`` and ``hemseg evaluate classification`` score it: WBC and nucleus Dice, and the
central cell's class accuracy. "Scale" changes the red-cell diameter the pipeline is told, as a
wrong scale estimate would. On the BCCD fields, ``hemseg evaluate diagnosis`` also checks the
whole ``hemseg diagnose`` analysis, which estimates the scale itself: the share of fields whose
estimated red-cell diameter is within 15 % of the red-cell boxes, and the white-cell boxes found.
Prints a Markdown table (the one in docs/benchmarks.md). ``--parts classification`` scores only
the classifier's columns (the others print "-"), for a new classifier behind the same segmentation.
``--changes`` scores only the changes named; with ``--json`` an existing file keeps the other rows.
The blur repeats the photo's edge pixels beyond it (``hemseg.data.transforms.EdgeGaussianSmooth``):
MONAI's own pads with zeros and gives a blurred photo a dark frame.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

import torch

SEGMENTATION_SETS = ("bccd", "jtsc_wbc", "all_idb2")
CLASSIFICATION_SETS = ("jtsc_wbc", "all_idb2", "bccd")
PARTS = ("segmentation", "classification", "diagnosis")


def _gain(red: float, blue: float) -> Callable[[torch.Tensor], torch.Tensor]:
    factors = torch.tensor([red, 1.0, blue]).view(3, 1, 1)
    return lambda image: (image * factors).clamp(0.0, 1.0)


def _noise(sigma: float) -> Callable[[torch.Tensor], torch.Tensor]:
    def add(image: torch.Tensor) -> torch.Tensor:
        generator = torch.Generator().manual_seed(0)
        return (image + sigma * torch.randn(image.shape, generator=generator)).clamp(0.0, 1.0)

    return add


def changes() -> dict[str, tuple[Callable | None, float]]:
    """Name -> (image change or None, factor on the red-cell diameter the pipeline is told)."""
    from monai.transforms import AdjustContrast

    from hemseg.data.transforms import EdgeGaussianSmooth, HEDAdjust, JPEGCompress

    return {
        "none": (None, 1.0),
        "haematoxylin x1.4": (HEDAdjust(scale=(1.4, 1.0, 1.0)), 1.0),
        "haematoxylin x0.7": (HEDAdjust(scale=(0.7, 1.0, 1.0)), 1.0),
        "eosin x1.4": (HEDAdjust(scale=(1.0, 1.4, 1.0)), 1.0),
        "eosin x0.6": (HEDAdjust(scale=(1.0, 0.6, 1.0)), 1.0),
        "warm white balance (R x1.15, B x0.85)": (_gain(1.15, 0.85), 1.0),
        "cool white balance (R x0.85, B x1.15)": (_gain(0.85, 1.15), 1.0),
        "gamma 0.6 (brighter)": (AdjustContrast(0.6), 1.0),
        "gamma 1.6 (darker)": (AdjustContrast(1.6), 1.0),
        "defocus (Gaussian blur, sigma 2 px)": (EdgeGaussianSmooth(sigma=2.0), 1.0),
        "sensor noise (sigma 0.03)": (_noise(0.03), 1.0),
        "JPEG quality 20": (JPEGCompress(20), 1.0),
        "scale told 20 % small": (None, 0.8),
        "scale told 25 % large": (None, 1.25),
    }


def main() -> None:
    """Score every change on the validation splits and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to score")
    parser.add_argument("--changes", nargs="+", choices=list(changes()), help="score only these changes")
    args = parser.parse_args()
    segmentation_sets = SEGMENTATION_SETS if "segmentation" in args.parts else ()
    classification_sets = CLASSIFICATION_SETS if "classification" in args.parts else ()

    from hemseg.data import RBC_DIAMETER_PX
    from hemseg.diagnosis import evaluate_diagnosis
    from hemseg.models import Bundle, bundle_dir, evaluate_classification, evaluate_segmentation, load_analyser

    torch.set_num_threads(args.threads)
    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    segmentation = Bundle(bundle_dir("hemseg_segmentation"))
    segmenter, structures = segmentation.item("segmenter"), segmentation.item("structures")
    mask_rules, split_distance = segmentation.item("mask_rules"), segmentation.item("split_distance")
    classification = Bundle(bundle_dir("hemseg_classification"))
    patcher, classifier = classification.item("patcher"), classification.item("classifier")
    analyser = load_analyser() if "diagnosis" in args.parts else None
    results: dict[str, dict] = (
        json.loads(args.json.read_text()) if args.changes and args.json and args.json.exists() else {}
    )
    header = (
        "| change | "
        + " | ".join(f"`{s}` WBC / nucleus Dice" for s in SEGMENTATION_SETS)
        + " | "
        + " | ".join(f"`{s}` class accuracy" for s in CLASSIFICATION_SETS)
        + " | `bccd` diagnose: scale within 15 % / WBC boxes found |"
    )
    print(header)
    print("|---" * (2 + len(SEGMENTATION_SETS) + len(CLASSIFICATION_SETS)) + "|")
    for name, (change, factor) in changes().items():
        if args.changes and name not in args.changes:
            continue
        row: dict[str, dict] = {}
        for dataset in segmentation_sets:
            px = RBC_DIAMETER_PX[dataset] * factor
            result = evaluate_segmentation(
                root / dataset, segmenter, structures, mask_rules, split_distance, "val", px, image_transform=change
            )
            row[f"segmentation/{dataset}"] = {k: v["dice"] for k, v in result["structures"].items()}
        for dataset in classification_sets:
            px = RBC_DIAMETER_PX[dataset] * factor
            result = evaluate_classification(root / dataset, patcher, classifier, "val", px, image_transform=change)
            row[f"classification/{dataset}"] = {"accuracy": result["accuracy"], "images": result["images"]}
        if factor == 1.0 and "diagnosis" in args.parts:  # diagnose estimates the scale: told-scale rows do not apply
            on_tensor = None if change is None else (lambda image, change=change: change(torch.from_numpy(image)))
            result = evaluate_diagnosis(root / "bccd", analyser, "val", image_transform=on_tensor)
            row["diagnosis/bccd"] = {
                "scale_within_15pct": result["scale_vs_boxes"]["within_15pct"],
                "wbc_boxes_found": result["wbc_boxes"]["found"],
                "wbc_boxes": result["wbc_boxes"]["boxes"],
            }
        results[name] = row
        cells = [
            f"{row[f'segmentation/{d}']['wbc']:.3f} / {row[f'segmentation/{d}']['nucleus']:.3f}"
            if d in segmentation_sets
            else "-"
            for d in SEGMENTATION_SETS
        ]
        cells += [
            f"{row[f'classification/{d}']['accuracy']:.3f}" if d in classification_sets else "-"
            for d in CLASSIFICATION_SETS
        ]
        diagnosis = row.get("diagnosis/bccd")
        cells.append(
            f"{diagnosis['scale_within_15pct']:.0%} / {diagnosis['wbc_boxes_found']} of {diagnosis['wbc_boxes']}"
            if diagnosis
            else ("n/a" if factor != 1.0 else "-")
        )
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
