"""Scores of predicted masks and classes (MONAI metrics), as ``hemseg evaluate`` reports them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


def mask_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Dice, IoU, precision, recall and pixel accuracy of one binary mask (MONAI metrics).

    Scores with no defined value (e.g. Dice when both masks are empty) are NaN.
    """
    from monai.metrics import ConfusionMatrixMetric, DiceMetric, MeanIoU

    y_pred = torch.as_tensor(pred, dtype=torch.float32)[None, None]
    y = torch.as_tensor(truth, dtype=torch.float32)[None, None]
    dice = DiceMetric(include_background=True, ignore_empty=True)(y_pred, y)
    iou = MeanIoU(include_background=True, ignore_empty=True)(y_pred, y)
    confusion = ConfusionMatrixMetric(include_background=True, metric_name=("precision", "recall", "accuracy"))
    confusion(y_pred, y)
    precision, recall, accuracy = (float(t) for t in confusion.aggregate(reduction="none"))
    return {"dice": float(dice), "iou": float(iou), "precision": precision, "recall": recall, "accuracy": accuracy}


def mean_ignoring_nan(values: Sequence[float]) -> float | None:
    """Mean of the values that are not NaN (None when there are none)."""
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else None


def classification_scores(
    labels: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    num_bins: int = 10,
    classes: Sequence[str] | None = None,
) -> dict:
    """Accuracy, per-label precision/recall/F1, macro F1, confusion matrix and calibration error.

    A prediction is right when the label allows it (:func:`hemseg.data.candidate_classes`: a
    ``non_blast`` label accepts any class but ``blast``). Per label ``L``: a prediction "is L" when
    ``L`` allows it; precision = right "is L" predictions / all "is L" predictions, recall = right
    predictions of images labelled ``L`` / their number, accuracy = share of all images where "is L"
    and "labelled L" agree (one vs rest). ``ece`` is the expected calibration error
    of the top-class probability (MONAI ``CalibrationErrorMetric``, ``num_bins`` equal bins).
    Confusion rows are the labels present, columns every predicted class seen or allowed, in the
    order of ``classes`` (default :data:`hemseg.data.CELL_CLASSES`; other classes, such as the red
    cells', name no partial labels), then any other prediction seen (e.g. ``unmatched``).
    """
    from monai.metrics import CalibrationErrorMetric

    from hemseg.data import CELL_CLASSES, candidate_classes

    if classes is None:
        classes = CELL_CLASSES
        allowed = {label: set(candidate_classes(label)) for label in set(labels)}
    else:
        classes = tuple(classes)
        allowed = {label: {label} for label in set(labels)}
    right = np.array([p in allowed[t] for t, p in zip(labels, predicted, strict=True)], dtype=bool)
    per_class = {}
    for label in sorted(allowed, key=lambda c: (c not in classes, classes.index(c) if c in classes else 0)):
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
    columns = [c for c in classes if c in set(predicted) or any(c in allowed[r] for r in rows)]
    columns += sorted(set(predicted) - set(classes))
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
