r"""A lab's cells at the magnification where the classifier is least uncertain of them, on a lab never seen.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/specimen_zoom.py \
        stain_seed1/jtsc_wbc stain_seed1/bccd stain_seed1/pbc --in-domain \
        --json benchmarks/results/loso_classification/specimen_zoom/stain_seed1.json

For each leave-one-out arm ``RECIPE/SOURCE`` (a checkpoint of
``scripts/leave-one-source-out-classification.sh``), every cached patch of the left-out source is
classified as ``hemseg evaluate classification`` adapts a lab (first ``adapt_layers`` batch-norm
layers re-estimated on its patches, then its own mix of classes at ``adapt_least_share``; no
test-time averaging, no blast rule) at each magnification of the classification bundle's
``adapt_zooms`` (:func:`hemseg.models.zoomed`): accuracy on the 5 common classes, each class's
recall, the ECE and the network's mean entropy (:meth:`hemseg.models.Classifier.uncertainty`). The
zoom of least entropy is the one :meth:`hemseg.models.Classifier.adapted` keeps; no label is used
to choose it.

Per specimen, as ``hemseg diagnose`` adapts one: ``--specimens`` K draws of 100 of the left-out
source's cells, each adapted on its own cells with and without ``adapt_zooms``; and K lymphocyte-rich
draws (60 of the 100, or all the source has), since what a specimen mostly holds could move its zoom.

``--zooms`` tries other magnifications than the bundle's (1.25 as well, the end of training's zoom
range: 100-cell specimens of ``pbc`` then go to 1.25, where its large cells fill the patch, and lose).

``--in-domain``: the shipped classifier on ``pbc``'s validation patches (its own lab), as it is,
adapted at 1, and adapted with ``adapt_zooms``: what the choice costs where no lab change calls for it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from bn_adaptation import left_out_patches
from morphometry import LEAST_SHARE, common_class_scores, specimen_draws
from tables import COMMON_CLASSES

LAYERS = 4


def _scores(classifier, patches: np.ndarray, labels: np.ndarray) -> dict:
    """:func:`morphometry.common_class_scores` of the classifier's answers for ``patches``."""
    return common_class_scores(classifier.probabilities(patches), labels, np.array(classifier.classes))


def _per_specimen(classifier, patches: np.ndarray, labels: np.ndarray, draws: list, zooms: list | None) -> dict:
    """Mean accuracy (5 common classes), lymphocyte recall and the zooms chosen, each draw adapted on its own."""
    accuracy, right, lymphocytes, chosen = [], 0, 0, []
    for drawn in draws:
        own, truth = patches[drawn], labels[drawn]
        adapted = classifier.adapted(own, LAYERS, LEAST_SHARE, zooms)
        predicted = np.array(adapted.classes)[adapted.probabilities(own).argmax(axis=1)]
        common = np.isin(truth, COMMON_CLASSES)
        accuracy.append(float((predicted[common] == truth[common]).mean()))
        is_lymphocyte = truth == "lymphocyte"
        right += int((predicted[is_lymphocyte] == "lymphocyte").sum())
        lymphocytes += int(is_lymphocyte.sum())
        chosen.append(adapted.zoom)
    return {
        "accuracy_5_common_classes": round(float(np.mean(accuracy)), 4),
        "lymphocyte_recall": round(right / max(lymphocytes, 1), 4),
        "zooms_chosen": {f"{z:g}": chosen.count(z) for z in sorted(set(chosen))},
    }


def checkpoint_classifier(path: Path):
    """A :class:`hemseg.models.Classifier` of a classification checkpoint (the bundle's network, batch norm)."""
    from hemseg.data import CELL_CLASSES
    from hemseg.models import Classifier, classification_network

    network = classification_network(len(CELL_CLASSES), 4, colour_norm="slide", norm="batch")
    network.load_state_dict(torch.load(path, weights_only=True))
    return Classifier(network.eval(), CELL_CLASSES)


def main() -> None:
    """Score each arm at each zoom, at the one chosen, and per specimen; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arms", nargs="*", help="RECIPE/SOURCE of runs/loso, e.g. stain_seed1/jtsc_wbc")
    parser.add_argument("--specimens", type=int, default=12, help="draws of 100 cells of each kind per arm")
    parser.add_argument("--zooms", type=float, nargs="+", help="the magnifications to try (default: adapt_zooms)")
    parser.add_argument("--in-domain", action="store_true", help="the shipped classifier on pbc's validation")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.models import Bundle, bundle_dir

    bundle = Bundle(bundle_dir("hemseg_classification"))
    zooms = args.zooms or [float(z) for z in bundle.item("adapt_zooms")]
    result = {"adapt_zooms": zooms, "specimens": args.specimens, "arms": {}}
    rng = np.random.default_rng(0)
    for arm in args.arms:
        classifier = checkpoint_classifier(bundle.root / "runs" / "loso" / arm / "model.pt")
        patches, labels = left_out_patches(arm.split("/")[1], ("train", "val"))
        labels = np.array(labels)
        by_zoom = {}
        for zoom in zooms:
            adapted = classifier.adapted(patches, LAYERS, LEAST_SHARE, [zoom])
            by_zoom[f"{zoom:g}"] = {"uncertainty": round(adapted.uncertainty(patches), 4)}
            by_zoom[f"{zoom:g}"].update(_scores(adapted, patches, labels))
        chosen = min(zooms, key=lambda z: by_zoom[f"{z:g}"]["uncertainty"])
        draws = specimen_draws(labels, args.specimens, rng)
        per_specimen = {
            kind: {
                "at_1": _per_specimen(classifier, patches, labels, found, None),
                "chosen": _per_specimen(classifier, patches, labels, found, zooms),
            }
            for kind, found in draws.items()
        }
        arm_result = {
            "cells": int(np.isin(labels, COMMON_CLASSES).sum()),
            "by_zoom": by_zoom,
            "zoom_chosen": chosen,
            "accuracy_at_1": by_zoom["1"]["accuracy_5_common_classes"],
            "accuracy_chosen": by_zoom[f"{chosen:g}"]["accuracy_5_common_classes"],
            "per_specimen": per_specimen,
        }
        result["arms"][arm] = arm_result
        print(arm, json.dumps({k: v for k, v in arm_result.items() if k != "by_zoom"}), flush=True)
    if result["arms"]:
        arms = result["arms"].values()
        result["mean_accuracy_5_common_classes"] = {
            "at_1": round(float(np.mean([a["accuracy_at_1"] for a in arms])), 4),
            "chosen": round(float(np.mean([a["accuracy_chosen"] for a in arms])), 4),
            **{
                f"per_specimen_{kind}_{way}": round(
                    float(np.mean([a["per_specimen"][kind][way]["accuracy_5_common_classes"] for a in arms])), 4
                )
                for kind in ("smear", "lymphocyte_rich")
                for way in ("at_1", "chosen")
            },
        }
        print(json.dumps(result["mean_accuracy_5_common_classes"], indent=2))
    if args.in_domain:
        classifier = checkpoint_classifier(bundle.root / "models" / "model.pt")
        patches, labels = left_out_patches("pbc", ("val",))
        labels = np.array(labels)
        adapted = classifier.adapted(patches, LAYERS, LEAST_SHARE, zooms)
        result["in_domain_pbc_val"] = {
            "cells": int(np.isin(labels, COMMON_CLASSES).sum()),
            "as_is": _scores(classifier, patches, labels),
            "adapted_at_1": _scores(classifier.adapted(patches, LAYERS, LEAST_SHARE), patches, labels),
            "adapted_chosen": _scores(adapted, patches, labels),
            "zoom_chosen": adapted.zoom,
        }
        print("in domain", json.dumps(result["in_domain_pbc_val"]), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
