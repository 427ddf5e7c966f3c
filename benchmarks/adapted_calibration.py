r"""Temperature scaling for a lab never seen: can one temperature calibrate the adapted classifier?

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/adapted_calibration.py \
        baseline/jtsc_wbc baseline/bccd --json benchmarks/results/loso_classification/adapted_calibration.json

For each leave-one-out arm (``RECIPE/SOURCE`` of ``scripts/leave-one-source-out-classification.sh``),
classifies every cached patch of the source it left out as ``hemseg evaluate classification`` does
when it adapts (the first ``adapt_layers`` batch-norm layers re-estimated on those patches, the 8
rotations and flips averaged; no blast rule), then divides the log-probabilities by each temperature
and reports accuracy, mean top probability and ECE (:func:`hemseg.models.classification_scores`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

TEMPERATURES = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)


def _tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of log-probabilities / temperature (temperature scaling of the averaged distribution)."""
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    tempered = np.exp(logits)
    return tempered / tempered.sum(axis=1, keepdims=True)


def main() -> None:
    """Score each arm at each temperature; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arms", nargs="+", help="RECIPE/SOURCE of leave-one-out arms (batch-norm networks)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from bn_adaptation import left_out_patches

    from hemseg.data import CELL_CLASSES
    from hemseg.models import Bundle, Classifier, bundle_dir, classification_network, classification_scores

    bundle = Bundle(bundle_dir("hemseg_classification"))
    layers = int(bundle.item("adapt_layers"))
    result = {"adapt_layers": layers, "arms": {}}
    for arm in args.arms:
        recipe, source = arm.split("/")
        patches, labels = left_out_patches(source, ("train", "val"))
        network = classification_network(len(CELL_CLASSES), 4, colour_norm="slide")
        checkpoint = bundle.root / "runs" / "loso" / recipe / source / "model.pt"
        network.load_state_dict(torch.load(checkpoint, weights_only=True))
        classifier = Classifier(network.eval(), CELL_CLASSES, dihedral=True).adapted(patches, layers)
        probabilities = classifier.probabilities(patches)
        scores = {}
        for temperature in TEMPERATURES:
            tempered = _tempered(probabilities, temperature)
            predicted = [CELL_CLASSES[i] for i in tempered.argmax(axis=1)]
            found = classification_scores(labels, predicted, tempered.max(axis=1).tolist())
            scores[str(temperature)] = {
                "accuracy": found["accuracy"],
                "mean_top_probability": float(tempered.max(axis=1).mean()),
                "ece": found["ece"],
            }
        result["arms"][arm] = {"patches": len(labels), "by_temperature": scores}
        print(arm, json.dumps(scores))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
