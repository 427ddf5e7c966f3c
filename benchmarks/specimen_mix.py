r"""A specimen's own mix of classes: what it gains on a lab never seen, and what its rare cells pay for it.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/specimen_mix.py \
        bundles/hemseg_classification/runs/loso/stain_seed1/jtsc_wbc/model.pt jtsc_wbc --first 4 \
        --json benchmarks/results/loso_classification/stain_seed1/jtsc_wbc-specimen_mix.json

Classifies every cached patch of a dataset (as ``benchmarks/bn_adaptation.py`` does: no test-time
averaging, no blast rule) with the checkpoint's learnt statistics and with those of its first
``--first`` batch-norm layers re-estimated on the patches, then re-weights the probabilities by the
patches' own mix of classes (:func:`hemseg.models.specimen_mix`, each ``--least-share``), and
reports the accuracy on the 5 common classes and each class's recall.

``--specimens K`` (run it with the shipped ``models/model.pt`` on ``pbc --split val``) asks what the
mix costs the rare cells that a specimen is reviewed for: K specimens of a smear's 100 white cells
(:data:`SPECIMEN_CELLS`: 3 immature granulocytes and 3 erythroblasts among them), each re-weighted by
its own mix; mean accuracy, and the recall of the rare cells over all K.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from bn_adaptation import left_out_patches
from tables import COMMON_CLASSES

#: the white cells of a specimen (``--specimens``): a smear's proportions, with some rare cells to find
SPECIMEN_CELLS = {
    "neutrophil": 55,
    "lymphocyte": 28,
    "monocyte": 7,
    "eosinophil": 3,
    "basophil": 1,
    "immature_granulocyte": 3,
    "erythroblast": 3,
}
RARE = ("immature_granulocyte", "erythroblast")


def mixed(probabilities: np.ndarray, least_share: float | None) -> np.ndarray:
    """``probabilities`` re-weighted by their own mix of classes (None: as they are)."""
    from hemseg.models import specimen_mix

    if least_share is None:
        return probabilities
    weighted = probabilities * specimen_mix(probabilities, least_share)
    return weighted / weighted.sum(axis=1, keepdims=True)


def _scores(probabilities: np.ndarray, labels: np.ndarray, classes: np.ndarray, shares: list) -> dict:
    """Per least share: accuracy on the common classes and each class's recall."""
    common = np.isin(labels, COMMON_CLASSES)
    out = {}
    for share in shares:
        right = classes[mixed(probabilities, share).argmax(axis=1)] == labels
        out["none" if share is None else str(share)] = {
            "accuracy_5_common_classes": round(float(right[common].mean()), 4),
            "recall": {label: round(float(right[labels == label].mean()), 3) for label in sorted(set(labels))},
        }
    return out


def main() -> None:
    """Score the specimen mix at each least share; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="model.pt: a leave-one-out arm's, or the shipped one")
    parser.add_argument("dataset", help="the dataset whose cached patches are classified")
    parser.add_argument("--split", default="all", choices=["all", "val"], help="the patches classified")
    parser.add_argument("--first", type=int, default=0, help="also re-estimate the first N batch-norm layers")
    parser.add_argument("--least-share", type=float, nargs="*", default=[0.0, 0.25, 0.5, 0.75])
    parser.add_argument("--specimens", type=int, default=0, help="also K specimens of SPECIMEN_CELLS")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import CELL_CLASSES
    from hemseg.models import Classifier, classification_network

    patches, labels = left_out_patches(args.dataset, ("train", "val") if args.split == "all" else ("val",))
    labels, classes = np.array(labels), np.array(CELL_CLASSES)
    network = classification_network(len(CELL_CLASSES), 4, colour_norm="slide", norm="batch")
    network.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    classifier = Classifier(network.eval(), CELL_CLASSES)
    shares = [None, *args.least_share]
    result = {"checkpoint": str(args.checkpoint), "dataset": args.dataset, "split": args.split, "patches": len(labels)}
    probabilities = classifier.probabilities(patches)
    result["learnt_statistics"] = _scores(probabilities, labels, classes, shares)
    if args.first:
        adapted = classifier.adapted(patches, args.first).probabilities(patches)
        result[f"first_{args.first}_layers_re_estimated"] = _scores(adapted, labels, classes, shares)
    if args.specimens:
        rng = np.random.default_rng(0)
        by_class = {k: np.flatnonzero(labels == k) for k in SPECIMEN_CELLS}
        draws = [
            np.concatenate([rng.choice(by_class[k], n, replace=False) for k, n in SPECIMEN_CELLS.items()])
            for _ in range(args.specimens)
        ]
        by_share = {}
        for share in shares:
            accuracy, rare_right, rare = [], 0, 0
            for cells in draws:
                right = classes[mixed(probabilities[cells], share).argmax(axis=1)] == labels[cells]
                accuracy.append(right.mean())
                is_rare = np.isin(labels[cells], RARE)
                rare_right, rare = rare_right + int(right[is_rare].sum()), rare + int(is_rare.sum())
            by_share["none" if share is None else str(share)] = {
                "accuracy": round(float(np.mean(accuracy)), 4),
                "rare_recall": round(rare_right / rare, 4),
            }
        result["specimens"] = {"count": args.specimens, "cells": SPECIMEN_CELLS, "by_least_share": by_share}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
