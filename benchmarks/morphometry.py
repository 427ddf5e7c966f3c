r"""What a person reads in a cell, measured, as a second opinion beside the classifier on a lab never seen.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/morphometry.py \
        stain_seed1/jtsc_wbc stain_seed1/bccd stain/pbc \
        --json benchmarks/results/loso_classification/morphometry.json

For each leave-one-out arm ``RECIPE/SOURCE`` (a checkpoint of
``scripts/leave-one-source-out-classification.sh``): every cached patch of the three labelled sources
of the 5 common classes (``pbc``, ``jtsc_wbc``, ``bccd``) is measured
(:func:`hemseg.postproc.cell_morphometry`: size, nucleus shape and lobes, cytoplasm colour and grain)
and put on its own source's scale (:func:`hemseg.postproc.specimen_normalised`, the reference being
all of that source's cells: no labels). A gradient-boosted classifier (scikit-learn's
``HistGradientBoostingClassifier``, classes balanced) learns the 5 common classes from the two other
sources' measures and classifies the left-out source's. Beside it, the arm's network as ``hemseg
evaluate classification`` adapts it to an unfamiliar lab (first 4 batch-norm layers re-estimated on
the source's patches, then its own mix of classes, least share 0.5; no test-time averaging, no blast
rule), and the two fused: the network's probabilities times the measures' raised to ``--weight``, then
the mix. Accuracy on the 5 common classes, each class's recall and the ECE of each; and each source's
median cell area per class (patch pixels at the red-cell scale the patches are cut at).

``--specimens K`` also scores the fusion per specimen, as ``hemseg diagnose`` would have to: K draws of
100 of the left-out source's cells, each measured on its own cells' scale and re-weighted by its own
mix (the network's statistics stay those re-estimated on the whole source). A specimen's scale is its
own typical cell, so a specimen of mostly one class is where it could mislead: K lymphocyte-rich
draws too (:data:`RICH_LYMPHOCYTES` of the 100, or all the source has), with the lymphocytes' recall.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from bn_adaptation import left_out_patches
from specimen_mix import mixed
from tables import COMMON_CLASSES

SOURCES = ("pbc", "jtsc_wbc", "bccd")
SPECIMEN_SIZE = 100
#: The least share of a specimen's mix of classes, as the classification bundle's ``adapt_least_share``.
LEAST_SHARE = 0.5
#: Lymphocytes of a lymphocyte-rich specimen (or all the source has), the rest of its 100 cells drawn from the others.
RICH_LYMPHOCYTES = 60


def common_class_scores(probabilities: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> dict:
    """Accuracy on the 5 common classes, their recalls and the ECE of the top probability."""
    from hemseg.models import classification_scores

    common = np.isin(labels, COMMON_CLASSES)
    top = probabilities[common]
    scores = classification_scores(list(labels[common]), list(classes[top.argmax(axis=1)]), list(top.max(axis=1)))
    return {
        "accuracy_5_common_classes": round(scores["accuracy"], 4),
        "ece": round(scores["ece"], 4),
        "recall": {k: round(v["recall"], 3) for k, v in scores["per_class"].items()},
    }


def _on_classes(model, measures: np.ndarray, classes: list[str]) -> np.ndarray:
    """The measures model's probabilities spread over the network's classes (a floor of 1e-3 each)."""
    found = model.predict_proba(measures)
    out = np.full((len(measures), len(classes)), 1e-3)
    for column, name in enumerate(model.classes_):
        out[:, classes.index(name)] += found[:, column]
    return out / out.sum(axis=1, keepdims=True)


def specimen_draws(labels: np.ndarray, count: int, rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    """``count`` specimens of :data:`SPECIMEN_SIZE` cells (indices into ``labels``) of each kind.

    ``smear``: drawn at random; ``lymphocyte_rich``: :data:`RICH_LYMPHOCYTES` lymphocytes (or all
    there are), the rest drawn from the other cells.
    """
    lymphocytes = np.flatnonzero(labels == "lymphocyte")
    others = np.flatnonzero(labels != "lymphocyte")
    rich = min(RICH_LYMPHOCYTES, len(lymphocytes))
    return {
        "smear": [rng.choice(len(labels), SPECIMEN_SIZE, replace=False) for _ in range(count)],
        "lymphocyte_rich": [
            np.r_[rng.choice(lymphocytes, rich, replace=False), rng.choice(others, SPECIMEN_SIZE - rich, replace=False)]
            for _ in range(count)
        ],
    }


def _per_specimen(
    specimens: list[np.ndarray], adapted: np.ndarray, measures: np.ndarray, labels: np.ndarray, model, weight: float
) -> dict:
    """Accuracy (5 common classes) and lymphocyte recall over specimens, each fused on its own scale and mix.

    ``weight`` 0 is the network alone (adapted, in each specimen's own mix).
    """
    from hemseg.data import CELL_CLASSES
    from hemseg.postproc import specimen_normalised

    classes, accuracy, lymphocytes_right, lymphocytes = np.array(CELL_CLASSES), [], 0, 0
    for drawn in specimens:
        own = measures[drawn]
        measured = _on_classes(model, specimen_normalised(own, own), list(CELL_CLASSES))
        right = classes[mixed(adapted[drawn] * measured**weight, LEAST_SHARE).argmax(axis=1)] == labels[drawn]
        accuracy.append(float(right[np.isin(labels[drawn], COMMON_CLASSES)].mean()))
        is_lymphocyte = labels[drawn] == "lymphocyte"
        lymphocytes_right, lymphocytes = (
            lymphocytes_right + int(right[is_lymphocyte].sum()),
            lymphocytes + int(is_lymphocyte.sum()),
        )
    return {
        "accuracy_5_common_classes": round(float(np.mean(accuracy)), 4),
        "lymphocyte_recall": round(lymphocytes_right / max(lymphocytes, 1), 4),
    }


def main() -> None:
    """Score measures, network and their fusion on each arm; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arms", nargs="+", help="RECIPE/SOURCE of runs/loso, e.g. stain_seed1/jtsc_wbc")
    parser.add_argument("--weight", type=float, nargs="*", default=[0.5, 1.0], help="powers of the measures' share")
    parser.add_argument("--specimens", type=int, default=20, help="draws of 100 cells for the per-specimen figure")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from sklearn.ensemble import HistGradientBoostingClassifier

    from hemseg.data import CELL_CLASSES
    from hemseg.models import Bundle, Classifier, bundle_dir, classification_network
    from hemseg.postproc import MORPHOMETRY_NAMES, cell_morphometry, specimen_normalised

    classes = np.array(CELL_CLASSES)
    data = {}
    for source in SOURCES:
        patches, labels = left_out_patches(source, ("train", "val"))
        measures = cell_morphometry(patches)
        data[source] = {"patches": patches, "labels": np.array(labels), "measures": measures}
        data[source]["normalised"] = specimen_normalised(measures, measures)
    runs = Bundle(bundle_dir("hemseg_classification")).root / "runs" / "loso"
    area = MORPHOMETRY_NAMES.index("cell_area")
    sizes = {
        source: {
            label: round(float(np.nanmedian(found["measures"][found["labels"] == label, area])))
            for label in COMMON_CLASSES
            if (found["labels"] == label).sum() > 1
        }
        for source, found in data.items()
    }
    result = {"median_cell_area_px": sizes, "weights": args.weight, "specimens": args.specimens, "arms": {}}
    rng = np.random.default_rng(0)
    for arm in args.arms:
        left_out = arm.split("/")[1]
        train = [s for s in SOURCES if s != left_out]
        x = np.concatenate([data[s]["normalised"] for s in train])
        y = np.concatenate([data[s]["labels"] for s in train])
        kept = np.isin(y, COMMON_CLASSES)
        model = HistGradientBoostingClassifier(class_weight="balanced", max_iter=200, random_state=0)
        model.fit(x[kept], y[kept])
        network = classification_network(len(CELL_CLASSES), 4, colour_norm="slide", norm="batch")
        network.load_state_dict(torch.load(runs / arm / "model.pt", weights_only=True))
        patches, labels = data[left_out]["patches"], data[left_out]["labels"]
        adapted = Classifier(network.eval(), CELL_CLASSES).adapted(patches, 4).probabilities(patches)
        measured = _on_classes(model, data[left_out]["normalised"], list(CELL_CLASSES))
        scores = {
            "network_adapted_in_its_mix": common_class_scores(mixed(adapted, LEAST_SHARE), labels, classes),
            "measures": common_class_scores(measured, labels, classes),
        }
        for weight in args.weight:
            fused = mixed(adapted * measured**weight, LEAST_SHARE)
            scores[f"fused_weight_{weight}"] = common_class_scores(fused, labels, classes)
        draws = specimen_draws(labels, args.specimens, rng)
        measures = data[left_out]["measures"]
        for kind, specimens in draws.items():
            scores[f"per_specimen_{kind}"] = {
                f"weight_{weight}": _per_specimen(specimens, adapted, measures, labels, model, weight)
                for weight in (0.0, *args.weight)
            }
        result["arms"][arm] = {"trained_on": train, "cells": int(np.isin(labels, COMMON_CLASSES).sum()), **scores}
        print(arm, json.dumps(scores), flush=True)
    arms = list(result["arms"].values())
    means = {}
    for key, value in arms[0].items():
        if isinstance(value, dict) and "accuracy_5_common_classes" in value:
            means[key] = round(float(np.mean([a[key]["accuracy_5_common_classes"] for a in arms])), 4)
        elif key.startswith("per_specimen_"):
            for weight in value:
                found = [a[key][weight]["accuracy_5_common_classes"] for a in arms]
                means[f"{key}_{weight}"] = round(float(np.mean(found)), 4)
    result["mean_accuracy_5_common_classes"] = means
    print(json.dumps(means, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
