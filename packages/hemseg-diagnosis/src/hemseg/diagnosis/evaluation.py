"""How the whole pipeline does on a dataset with boxes or image labels (``hemseg evaluate diagnosis``)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hemseg.diagnosis.pipeline import SmearAnalyser


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


#: A red-cell box is found by a red cell whose centroid lies within this share of the box's side of its centre.
BOX_REACH = 0.35


def boxes_found(boxes: list, centroids: list[tuple[float, float]], reach: float = BOX_REACH) -> int:
    """How many boxes one cell each finds: boxes and cell centroids paired one to one (nearest first).

    A cell finds a box when its centroid lies within ``reach`` times the box's mean side of the box's
    centre; each cell finds one box at most. Two overlapping cells left joined find at most one of
    their two boxes (the joined cell's centroid lies between them), one cell cut in two one box.
    """
    from scipy.optimize import linear_sum_assignment

    if not boxes or not centroids:
        return 0
    centres = np.array([((b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2) for b in boxes])
    distance = np.linalg.norm(centres[:, None, :] - np.asarray(centroids, float)[None, :, :], axis=2)
    within = distance <= reach * np.array([b.diameter for b in boxes])[:, None]
    rows, cols = linear_sum_assignment(np.where(within, distance, 1e9))
    return int(within[rows, cols].sum())


def changed_photo(rgb: np.ndarray, image_transform: Callable | None) -> np.ndarray:
    """An (H, W, 3) uint8 photo passed through a transform of (3, H, W) float32 images in [0, 1]."""
    if image_transform is None:
        return rgb
    image = np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / 255.0
    out = np.clip(np.asarray(image_transform(image), dtype=np.float32), 0.0, 1.0)
    return (out.transpose(1, 2, 0) * 255.0).round().astype(np.uint8)


def evaluate_diagnosis(
    dataset_dir: str | Path,
    analyser: SmearAnalyser,
    split: str = "all",
    rbc_diameter_px: float | None = None,
    image_transform: Callable | None = None,
) -> dict:
    """Run the pipeline on every image of a dataset (or one side of its split) and score what can be checked.

    - VOC boxes (``bccd``): white-cell boxes found (a white cell's centroid inside the box), white
      cells outside every white-cell box, red-cell boxes found (:func:`boxes_found`: one red cell
      each, near the box's centre; counts alone reward joined cells where boxes are missing), red-cell
      and platelet counts against the boxes, and the estimated red-cell diameter against the median
      box side of whole red cells.
    - Image labels ``all`` / ``healthy`` (``all_idb1``): for each flag, the share of images where it
      is raised exactly for ``all``.

    ``rbc_diameter_px`` None estimates the scale per image, as ``hemseg diagnose`` does.
    ``image_transform``, when given, changes each photo (as (3, H, W) in [0, 1]) before the analysis.

    Raises:
        LayoutError: the folder is not a dataset.
    """
    from hemseg.data import read_boxes, read_dataset, read_smear, samples_of_split

    dataset = read_dataset(dataset_dir)
    samples = samples_of_split(dataset, split)
    times, scale_ratios, flag_rows, per_image = [], [], [], []
    wbc_boxes = wbc_found = extra = rbc_boxes = rbc_found = 0
    counts: dict[str, tuple[list[int], list[int]]] = {"rbc": ([], []), "platelet": ([], [])}
    for sample in samples:
        report = analyser.analyse(changed_photo(read_smear(sample.image), image_transform), rbc_diameter_px)
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
            rbc_boxes += len(named["rbc"])
            rbc_found += boxes_found(named["rbc"], [c.centroid for c in report.cells if c.kind == "rbc"])
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
    if rbc_boxes:
        result["rbc_boxes"] = {"boxes": rbc_boxes, "found": rbc_found, "recall": rbc_found / rbc_boxes}
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
