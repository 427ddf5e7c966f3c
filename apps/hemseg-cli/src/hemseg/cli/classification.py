"""Classifying single-cell crops with the classification bundle and scoring the classes."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hemseg.cli.cells import CellPatcher


def classify_folder(
    patcher: CellPatcher,
    classifier,
    input_dir: str | Path,
    output_file: str | Path,
    rbc_diameter_px: float,
    review_below: float,
) -> int:
    """Write one CSV row per image of ``input_dir``: the class of the white cell nearest its centre.

    Columns: ``image``, ``class``, ``probability``, ``review`` (top probability below
    ``review_below``, or no white cell found), ``found``, then one probability column per class.
    An unreadable image gets a one-line error on stderr and no row; the others are still classified,
    then :class:`RuntimeError` reports how many failed. The CSV is written to a temporary name
    and renamed.

    Returns:
        The number of images classified.
    """
    from hemseg.cli.files import list_images, read_image_or_report
    from hemseg.models.files import replacing

    images = list_images(input_dir)
    output_file = Path(output_file)
    output_file.parent.mkdir(parents=True, exist_ok=True)
    classes = list(classifier.classes)
    failed = 0
    with replacing(output_file) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "class", "probability", "review", "found", *classes])
        for path in images:
            image = read_image_or_report(path)
            if image is None:
                failed += 1
                continue
            patch, found = patcher.central_patch(image, rbc_diameter_px)
            probabilities = classifier.probabilities(patch[None])[0]
            best = int(classifier.decide(probabilities)[0])
            review = (not found) or probabilities[best] < review_below
            writer.writerow(
                [path.name, classes[best], f"{probabilities[best]:.4f}", int(review), int(found)]
                + [f"{p:.4f}" for p in probabilities]
            )
    if failed:
        raise RuntimeError(f"{input_dir}: {failed} of {len(images)} images could not be read")
    return len(images)


def classification_scores(
    labels: Sequence[str], predicted: Sequence[str], confidence: Sequence[float], num_bins: int = 10
) -> dict:
    """Accuracy, per-label precision/recall/F1, macro F1, confusion matrix and calibration error.

    A prediction is right when the label allows it (:func:`hemseg.data.candidate_classes`: a
    ``non_blast`` label accepts any class but ``blast``). Per label ``L``: a prediction "is L" when
    ``L`` allows it; precision = right "is L" predictions / all "is L" predictions, recall = right
    predictions of images labelled ``L`` / their number, accuracy = share of all images where "is L"
    and "labelled L" agree (one vs rest). ``ece`` is the expected calibration error
    of the top-class probability (MONAI ``CalibrationErrorMetric``, ``num_bins`` equal bins).
    Confusion rows are the labels present, columns every predicted class seen or allowed.
    """
    import torch
    from monai.metrics import CalibrationErrorMetric

    from hemseg.data import CELL_CLASSES, candidate_classes

    allowed = {label: set(candidate_classes(label)) for label in set(labels)}
    right = np.array([p in allowed[t] for t, p in zip(labels, predicted, strict=True)], dtype=bool)
    per_class = {}
    for label in sorted(
        allowed, key=lambda c: (c not in CELL_CLASSES, CELL_CLASSES.index(c) if c in CELL_CLASSES else 0)
    ):
        mine = np.array([t == label for t in labels])
        says = np.array([p in allowed[label] for p in predicted])
        precision = float((right & mine & says).sum() / says.sum()) if says.any() else 0.0
        recall = float((right & mine).sum() / mine.sum())
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "accuracy": float((mine == says).mean()),
            "support": int(mine.sum()),
        }
    rows = list(per_class)
    columns = [c for c in CELL_CLASSES if c in set(predicted) or any(c in allowed[r] for r in rows)]
    matrix = [
        [sum(1 for t, p in zip(labels, predicted, strict=True) if t == r and p == c) for c in columns] for r in rows
    ]
    ece = float("nan")
    if len(labels):
        metric = CalibrationErrorMetric(num_bins=num_bins, calibration_reduction="expected")
        metric(
            torch.as_tensor(np.asarray(confidence, np.float32))[None, None],
            torch.as_tensor(right.astype(np.float32))[None, None],
        )
        ece = float(metric.aggregate())
    return {
        "accuracy": float(right.mean()) if len(right) else float("nan"),
        "macro_f1": float(np.mean([v["f1"] for v in per_class.values()])) if per_class else float("nan"),
        "ece": ece,
        "per_class": per_class,
        "confusion": {"labels": rows, "predicted": columns, "matrix": matrix},
    }
