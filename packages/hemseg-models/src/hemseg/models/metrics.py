"""Scores of predicted masks and classes (MONAI metrics), as ``hemseg evaluate`` reports them."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

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

    from hemseg.data import CELL_CLASSES

    allowed = _allowed(labels, classes)
    classes = CELL_CLASSES if classes is None else tuple(classes)
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


def _allowed(labels: Sequence[str], classes: Sequence[str] | None) -> dict[str, set[str]]:
    """The predictions each label accepts: its white-cell candidates (``classes`` None), else itself."""
    from hemseg.data import candidate_classes

    if classes is None:
        return {label: set(candidate_classes(label)) for label in set(labels)}
    return {label: {label} for label in set(labels)}


def group_bootstrap(
    labels: Sequence[str],
    predicted: Sequence[str],
    groups: Sequence[str],
    classes: Sequence[str] | None = None,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """Percentile intervals of accuracy and macro F1 when whole groups of points are drawn again.

    ``groups`` names each point's unit of the split (:attr:`hemseg.data.Sample.group`: a photo, the
    field crops were cut from, or a block of neighbouring photos), so that points that share a
    slide are drawn together: the interval says how much the figures hang on which groups were
    held back. Accuracy and macro F1 are those of :func:`classification_scores` (macro F1 over the
    labels each draw holds). Returns ``{"level", "unit_count", "resamples", "accuracy": [low, high],
    "macro_f1": [low, high]}``.
    """
    allowed = _allowed(labels, classes)
    units, unit_of = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    counts = _group_draws(len(units), resamples, seed)
    weights = counts[:, unit_of]  # (resamples, points): how often each point is drawn
    right = np.array([p in allowed[t] for t, p in zip(labels, predicted, strict=True)], dtype=float)
    f1 = []
    for label in allowed:
        mine = np.array([t == label for t in labels], dtype=float)
        says = np.array([p in allowed[label] for p in predicted], dtype=float)
        hits, called, present = weights @ (right * mine * says), weights @ says, weights @ mine
        precision = np.divide(hits, called, out=np.zeros(resamples), where=called > 0)
        recall = np.divide(weights @ (right * mine), present, out=np.zeros(resamples), where=present > 0)
        total = precision + recall
        score = np.divide(2 * precision * recall, total, out=np.zeros(resamples), where=total > 0)
        f1.append(np.where(present > 0, score, np.nan))
    return {
        "level": level,
        "unit_count": len(units),
        "resamples": resamples,
        "accuracy": _percentiles(weights @ right / weights.sum(axis=1), level),
        "macro_f1": _percentiles(np.nanmean(np.array(f1), axis=0), level),
    }


def group_accuracy(labels: Sequence[str], predicted: Sequence[str], groups: Sequence[str]) -> dict[str, dict]:
    """Points and accuracy of each group of points (e.g. the split's blocks of photos), worst first.

    A prediction is right when it equals the label (single-label classes, such as the red cells').
    """
    found: dict[str, list[int]] = {}
    for label, guess, group in zip(labels, predicted, groups, strict=True):
        found.setdefault(group, [0, 0])
        found[group][0] += 1
        found[group][1] += label == guess
    ranked = sorted(found.items(), key=lambda item: (item[1][1] / item[1][0], item[0]))
    return {group: {"points": n, "accuracy": right / n} for group, (n, right) in ranked}


def shared_cell_scores(
    labels: Sequence[str], predicted: Sequence[str], cells: Sequence[Hashable | None]
) -> dict[str, float | int | None]:
    """How much of the point accuracy the segmented cells allow: points that share a cell with another class.

    ``cells`` names the segmented cell that holds each point (None: none holds it, a wrong answer).
    A cell that holds points of two or more classes gets one answer, so at most one class of its
    points can be right (touching or overlapping cells left joined).

    Returns:
        ``points`` and ``cells``: the points on such cells and their number; ``accuracy``: on those
        points; ``accuracy_elsewhere``: on the other points that a cell holds; ``best_possible_accuracy``:
        over all points, when every cell is called the class most of its points have (None where
        there are no points).
    """
    held: dict[Hashable, list[str]] = {}
    for label, cell in zip(labels, cells, strict=True):
        if cell is not None:
            held.setdefault(cell, []).append(label)
    mixed = {cell for cell, names in held.items() if len(set(names)) > 1}
    right = {True: [0, 0], False: [0, 0]}  # on a mixed cell: [points, right]
    for label, guess, cell in zip(labels, predicted, cells, strict=True):
        if cell is not None:
            right[cell in mixed][0] += 1
            right[cell in mixed][1] += label == guess
    best = sum(max(names.count(name) for name in set(names)) for names in held.values())
    return {
        "points": right[True][0],
        "cells": len(mixed),
        "accuracy": right[True][1] / right[True][0] if right[True][0] else None,
        "accuracy_elsewhere": right[False][1] / right[False][0] if right[False][0] else None,
        "best_possible_accuracy": best / len(labels) if len(labels) else None,
    }


def paired_group_bootstrap(
    before: Mapping[str, Mapping[str, float]],
    after: Mapping[str, Mapping[str, float]],
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """Percentile interval of the accuracy gain from ``before`` to ``after`` on the same groups.

    ``before`` and ``after`` are two :func:`group_accuracy` results (``hemseg evaluate rbc``'s
    ``per_group``) of one dataset, e.g. two weights scored on the same photos; the same groups are
    drawn for both, so what the photos share cancels out and the interval says whether the gain holds
    beyond which groups were held back. Returns ``{"level", "unit_count", "resamples", "gain":
    after's accuracy minus before's, "interval": [low, high], "share_above_zero"}``.

    Raises:
        ValueError: the two results do not hold the same groups with the same points.
    """
    if {g: v["points"] for g, v in before.items()} != {g: v["points"] for g, v in after.items()}:
        raise ValueError("the two results must score the same groups with the same points")
    units = sorted(before)
    points = np.array([before[g]["points"] for g in units], dtype=float)
    gained = np.array([(after[g]["accuracy"] - before[g]["accuracy"]) * before[g]["points"] for g in units])
    counts = _group_draws(len(units), resamples, seed)
    gains = counts @ gained / (counts @ points)
    return {
        "level": level,
        "unit_count": len(units),
        "resamples": resamples,
        "gain": float(gained.sum() / points.sum()),
        "interval": _percentiles(gains, level),
        "share_above_zero": float((gains > 0).mean()),
    }


def _group_draws(units: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, units): how often each of ``units`` groups is drawn in each draw of ``units`` with replacement."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((resamples, units))
    np.add.at(counts, (np.arange(resamples)[:, None], rng.integers(0, units, (resamples, units))), 1)
    return counts


def _percentiles(values: np.ndarray, level: float) -> list[float]:
    """The two-sided central ``level`` percentile interval of ``values``."""
    return np.percentile(values, [50 * (1 - level), 50 * (1 + level)]).tolist()
