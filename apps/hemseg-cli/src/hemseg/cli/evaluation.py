"""Evaluation of the segmentation bundle on a dataset folder (used by ``hemseg evaluate``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hemseg.cli.bundles import bundle_dir, inference_parser
from hemseg.cli.segmentation import mask_metrics, mean_ignoring_nan, postprocess

METRICS = ("dice", "iou", "precision", "recall", "accuracy")


def _rbc_diameter(parser, dataset, override: float | None) -> float:
    """``override``, else the dataset's red-cell diameter from the bundle's ``dataset_rbc_diameter_px``."""
    if override is not None:
        return override
    table = parser["dataset_rbc_diameter_px"]
    if dataset.name not in table:
        raise ValueError(f"{dataset.root}: no red-cell diameter known for {dataset.name!r}; pass --rbc-diameter-px")
    return float(table[dataset.name])


def _split_side(dataset, split: str) -> list:
    """The dataset's samples: all, or one side of :func:`hemseg.data.split_samples`."""
    from hemseg.data import split_samples

    if split == "all":
        return list(dataset.samples)
    train, val = split_samples(dataset.samples)
    return train if split == "train" else val


def _loaded(path: str | Path, image_transform: Callable | None):
    """The image as (3, H, W) RGB in [0, 1], passed through ``image_transform`` when one is given."""
    from hemseg.data.transforms import load_rgb

    image = load_rgb(path)
    return image_transform(image) if image_transform else image


def evaluate_segmentation(
    dataset_dir: str | Path,
    split: str = "all",
    rbc_diameter_px: float | None = None,
    bundle: Path | None = None,
    central_cell: bool = False,
    image_transform: Callable | None = None,
) -> dict:
    """Segment every image of a dataset (or one side of its split) and score each annotated structure.

    Masks are thresholded and post-processed exactly as in inference (the bundle's ``mask_rules``)
    and compared with the reference masks at the image's own resolution; per-image scores are
    averaged over the images that have that structure's mask (NaN scores, e.g. Dice of two empty
    masks, are left out). ``ms_per_image`` is the mean time in zooming and the network.

    With ``central_cell`` (for crops whose references annotate only the cell in the middle, as in
    ALL-IDB2), the result also holds ``central_cell``: the same scores of the white cell nearest
    the centre alone (touching cells split as in diagnose) and of the nucleus inside it, so that
    neighbouring cells at the crop's edge, found but not annotated, do not count as errors.

    ``image_transform``, when given, changes each loaded (3, H, W) image in [0, 1] before it is
    segmented (robustness checks: ``benchmarks/robustness.py``); the reference masks stay as they are.

    Raises:
        LayoutError: the folder is not a dataset.
        ValueError: no red-cell diameter is known for the dataset.
    """
    from hemseg.data import read_dataset, read_mask

    dataset = read_dataset(dataset_dir)
    parser = inference_parser(bundle_dir("hemseg_segmentation", bundle))
    structures = list(parser["structures"])
    rbc_diameter_px = _rbc_diameter(parser, dataset, rbc_diameter_px)
    segmenter = parser.get_parsed_content("segmenter")
    rules = parser["mask_rules"]
    samples = _split_side(dataset, split)
    scored = [s for s in dataset.structures if s in structures]
    samples = [s for s in samples if any(k in s.masks for k in scored)]
    scores = {s: {m: [] for m in METRICS} for s in scored}
    central_scored = [s for s in scored if s in ("wbc", "nucleus")] if central_cell else []
    central_scores = {s: {m: [] for m in METRICS} for s in central_scored}
    times = []
    for sample in samples:
        probabilities = segmenter.probabilities(_loaded(sample.image, image_transform), rbc_diameter_px)
        times.append(segmenter.last_network_ms)
        masks = postprocess(probabilities, structures, rules, rbc_diameter_px)
        truths = {s: read_mask(sample.masks[s]) for s in scored if s in sample.masks}
        _add_scores(scores, masks, truths)
        if central_scored:
            _add_scores(central_scores, _central_cell_masks(masks, rbc_diameter_px), truths)
    result = {
        "dataset": dataset.name,
        "images": len(samples),
        "split": split,
        "rbc_diameter_px": rbc_diameter_px,
        "structures": _mean_scores(scores),
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }
    if central_cell:
        result["central_cell"] = _mean_scores(central_scores)
    return result


def _add_scores(scores: dict, masks: dict, truths: dict) -> None:
    """Append one image's metrics to ``scores`` for each scored structure it has a reference mask of."""
    for structure, lists in scores.items():
        if structure in truths:
            for name, value in mask_metrics(masks[structure], truths[structure]).items():
                lists[name].append(value)


def _mean_scores(scores: dict) -> dict:
    """Per structure: each metric's mean over images (NaN left out) and the number of images."""
    return {
        s: {**{m: mean_ignoring_nan(v) for m, v in lists.items()}, "images": len(lists["dice"])}
        for s, lists in scores.items()
    }


def _central_cell_masks(masks: dict, rbc_diameter_px: float) -> dict:
    """The white cell nearest the image centre (touching cells split) and the nucleus inside it."""
    from hemseg.cli.cells import CellPatcher

    cell = CellPatcher.central_cell(CellPatcher.cell_labels(masks["wbc"], rbc_diameter_px))
    return {"wbc": cell, "nucleus": masks["nucleus"] & cell} if "nucleus" in masks else {"wbc": cell}


def evaluate_classification(
    dataset_dir: str | Path,
    split: str = "all",
    rbc_diameter_px: float | None = None,
    bundle: Path | None = None,
    image_transform: Callable | None = None,
) -> dict:
    """Classify the central cell of every single-label crop of a dataset (or one side of its split).

    Each image goes through the steps ``hemseg diagnose`` uses: segmentation, the white cell
    nearest the centre, its patch, the classifier. Images with several labels (or none) are
    skipped and counted; labels that are not cell classes (ALL-IDB1's image-level ``all``) too.
    Scores are those of :func:`hemseg.cli.classification.classification_scores`;
    ``ms_per_image`` is the mean time of segmentation plus classification networks, ``not_found``
    the images where no white cell was segmented (classified on a centred patch).
    ``image_transform`` as in :func:`evaluate_segmentation`.

    Raises:
        LayoutError: the folder is not a dataset.
        ValueError: no red-cell diameter is known for the dataset.
    """
    from hemseg.cli.classification import classification_scores
    from hemseg.data import CELL_CLASSES, PARTIAL_LABELS, read_dataset

    dataset = read_dataset(dataset_dir)
    parser = inference_parser(bundle_dir("hemseg_classification", bundle))
    rbc_diameter_px = _rbc_diameter(parser, dataset, rbc_diameter_px)
    patcher = parser.get_parsed_content("patcher")
    classifier = parser.get_parsed_content("classifier")
    samples = _split_side(dataset, split)
    known = set(CELL_CLASSES) | set(PARTIAL_LABELS)
    kept = [s for s in samples if len(s.labels) == 1 and s.labels[0] in known]
    labels, predicted, confidence, times, not_found = [], [], [], [], 0
    for sample in kept:
        patch, found = patcher.central_patch(_loaded(sample.image, image_transform), rbc_diameter_px)
        probabilities = classifier.probabilities(patch[None])[0]
        times.append(patcher.last_ms + classifier.last_network_ms)
        not_found += not found
        labels.append(sample.labels[0])
        best = int(classifier.decide(probabilities)[0])
        predicted.append(classifier.classes[best])
        confidence.append(float(probabilities[best]))
    return {
        "dataset": dataset.name,
        "images": len(kept),
        "skipped": len(samples) - len(kept),
        "split": split,
        "rbc_diameter_px": rbc_diameter_px,
        **classification_scores(labels, predicted, confidence),
        "not_found": not_found,
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }


def _count_scores(predicted: list[int], reference: list[int]) -> dict:
    """How close per-image counts are to reference counts (images with a reference of 0 left out)."""
    pairs = [(p, r) for p, r in zip(predicted, reference, strict=True) if r > 0]
    errors = [abs(p - r) / r for p, r in pairs]
    return {
        "images": len(pairs),
        "mean_abs_rel_error": sum(errors) / len(errors) if errors else None,
        "within_10pct": sum(e <= 0.10 for e in errors) / len(errors) if errors else None,
        "total_ratio": sum(p for p, _ in pairs) / sum(r for _, r in pairs) if pairs else None,
    }


def _changed(rgb: np.ndarray, image_transform: Callable | None) -> np.ndarray:
    """An (H, W, 3) uint8 photo passed through a transform of (3, H, W) images in [0, 1]."""
    if image_transform is None:
        return rgb
    import torch

    image = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float() / 255.0
    out = torch.as_tensor(image_transform(image)).clamp(0.0, 1.0).numpy()
    return (out.transpose(1, 2, 0) * 255.0).round().astype(np.uint8)


def evaluate_diagnosis(
    dataset_dir: str | Path,
    split: str = "all",
    rbc_diameter_px: float | None = None,
    bundle: Path | None = None,
    image_transform: Callable | None = None,
) -> dict:
    """Run ``hemseg diagnose``'s analysis on every image of a dataset and score what can be checked.

    - VOC boxes (``bccd``): white-cell boxes found (a white cell's centroid inside the box), white
      cells outside every white-cell box, red-cell and platelet counts against the boxes, and the
      estimated red-cell diameter against the median box side of whole red cells.
    - Image labels ``all`` / ``healthy`` (``all_idb1``): for each flag, the share of images where it
      is raised exactly for ``all``.

    ``rbc_diameter_px`` None estimates the scale per image, as ``hemseg diagnose`` does.
    ``image_transform`` as in :func:`evaluate_segmentation`, applied to each photo before the analysis.
    """
    import statistics

    from hemseg.cli.smear import analyser_from_bundles
    from hemseg.data import read_boxes, read_dataset, read_smear

    dataset = read_dataset(dataset_dir)
    analyser = analyser_from_bundles(bundle)
    samples = _split_side(dataset, split)
    times, scale_ratios, flag_rows, per_image = [], [], [], []
    wbc_boxes = wbc_found = extra = 0
    counts: dict[str, tuple[list[int], list[int]]] = {"rbc": ([], []), "platelet": ([], [])}
    for sample in samples:
        report = analyser.analyse(_changed(read_smear(sample.image), image_transform), rbc_diameter_px)
        times.append(report.ms)
        white = [c for c in report.cells if c.kind == "wbc"]
        per_image.append(
            {
                "id": sample.id,
                "labels": list(sample.labels),
                "rbc_diameter_px": round(report.rbc_diameter_px, 1),
                "counts": {k: v for k, v in report.counts().items() if v},
                "flags": [f.name for f in report.flags],
            }
        )
        if sample.boxes is not None:
            boxes = read_boxes(sample.boxes)
            named = {kind: [b for b in boxes if b.name.lower().startswith(kind)] for kind in ("wbc", "rbc", "platelet")}
            inside = [
                [b.xmin <= c.centroid[0] <= b.xmax and b.ymin <= c.centroid[1] <= b.ymax for c in white]
                for b in named["wbc"]
            ]
            wbc_boxes += len(named["wbc"])
            wbc_found += sum(any(row) for row in inside)
            extra += sum(not any(col) for col in zip(*inside, strict=True)) if inside else len(white)
            for kind in counts:
                counts[kind][0].append(report.rbc if kind == "rbc" else report.platelet)
                counts[kind][1].append(len(named[kind]))
            whole = [b.diameter for b in named["rbc"] if not b.truncated]
            if len(whole) >= 3:
                scale_ratios.append(report.rbc_diameter_px / statistics.median(whole))
        if len(sample.labels) == 1 and sample.labels[0] in ("all", "healthy"):
            flag_rows.append((sample.labels[0] == "all", {f.name for f in report.flags}))
    result: dict = {
        "dataset": dataset.name,
        "images": len(samples),
        "split": split,
        "rbc_diameter_px": rbc_diameter_px,
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }
    if wbc_boxes:
        result["wbc_boxes"] = {"boxes": wbc_boxes, "found": wbc_found, "recall": wbc_found / wbc_boxes, "extra": extra}
        result.update({f"{kind}_count": _count_scores(*pair) for kind, pair in counts.items()})
    if scale_ratios:
        result["scale_vs_boxes"] = {
            "images": len(scale_ratios),
            "median_ratio": statistics.median(scale_ratios),
            "within_15pct": sum(abs(r - 1) <= 0.15 for r in scale_ratios) / len(scale_ratios),
        }
    if flag_rows:
        names = ("blasts_present", "blast_fraction")
        result["flags"] = {
            name: {
                "accuracy": sum((name in raised) == sick for sick, raised in flag_rows) / len(flag_rows),
                "raised_on_all": sum(name in raised for sick, raised in flag_rows if sick),
                "raised_on_healthy": sum(name in raised for sick, raised in flag_rows if not sick),
            }
            for name in names
        }
        result["flags"]["images"] = {
            "all": sum(sick for sick, _ in flag_rows),
            "healthy": sum(not sick for sick, _ in flag_rows),
        }
    result["per_image"] = per_image
    return result
