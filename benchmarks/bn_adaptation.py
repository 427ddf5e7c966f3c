r"""Batch-norm statistics as a cause of the cross-lab loss: a leave-one-out classifier on the source it never saw.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/bn_adaptation.py \
        bundles/hemseg_classification/runs/loso/baseline/jtsc_wbc/model.pt jtsc_wbc \
        --json benchmarks/results/loso_classification/baseline/jtsc_wbc-bn_adaptation.json

Classifies every cached patch of the left-out source (train and val sides of the classification
bundle's patch cache, cut as ``hemseg diagnose`` cuts them) with a checkpoint of
``scripts/leave-one-source-out-classification.sh``, once with the batch-norm statistics learnt on the
training sources, once with them re-estimated on the left-out source's own patches (AdaBN: the
unlabelled patches of one lab; no labels, no weights changed; :meth:`hemseg.models.Classifier.adapted`,
what ``hemseg evaluate classification --adapt`` uses). No test-time averaging, no blast rule.

``--first N ...`` re-estimates only the first N batch-norm layers (the stem's is the first), the
others keeping the learnt statistics: where in the network the lab's look is lost.

``--specimens K`` asks what re-estimation per specimen would do where the statistics are right
already (run it with the shipped ``models/model.pt`` on ``pbc``): K specimens of 100 validation
cells in a smear's proportions (58 neutrophils, 30 lymphocytes, 7 monocytes, 4 eosinophils,
1 basophil), the statistics re-estimated on each, mean accuracy over the K.

``--stain-reference FILE`` (the arm's ``stain_reference.json``, fitted on its training sources by the
leave-one-out script) also classifies the patches recoloured onto the nearest training source's
stain (:func:`hemseg.postproc.match_stain`, from the median stain signature of all the left-out
patches: a colour transfer per lab, no network change), as they are and with each ``--first``.

``--sizes N ...`` asks how many cells a specimen needs (``adapt_min_cells``): ``--draws`` random
draws of N of the patches (the source's own mix of classes), the first layers (each ``--first``)
re-estimated on each draw, mean accuracy on the drawn cells.

``--tent E ...`` also trains, after each ``--first`` re-estimation, the batch-norm layers' scales and
shifts for E epochs to minimise the entropy of the answers on the same unlabelled patches (TENT, Wang
et al., ICLR 2021; Adam 1e-3, batches of 64; with ``--specimens``, on each specimen's 100 cells).

``--ensemble CKPT ...`` adds more checkpoints of the same arm (other recipes or trainings): every
figure is then that of their mean probabilities, each member adapted on its own (a deep ensemble).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import torch


def _accuracy(classifier, patches: np.ndarray, labels: list[str]) -> dict:
    """Accuracy of the most probable class (no blast rule) and how often each class was called."""
    names = [classifier.classes[int(i)] for i in classifier.probabilities(patches).argmax(axis=1)]
    right = np.equal(names, labels)
    return {
        "accuracy": float(right.mean()),
        "recall": {label: float(right[np.equal(labels, label)].mean()) for label in sorted(set(labels))},
        "called": dict(Counter(names).most_common()),
    }


def left_out_patches(dataset: str, sides: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """A dataset's cached classification patches on ``sides`` of its split, and their labels.

    The patches are (N, P, P, 4) uint8: RGB and cell mask, as hemseg diagnose hands them to the classifier.
    """
    from hemseg.data import RBC_DIAMETER_PX
    from hemseg.models import Bundle, bundle_dir, patch_records, patcher_from_bundle

    bundle = Bundle(bundle_dir("hemseg_classification"))
    cache = bundle.root / "runs" / "patches"
    patcher = patcher_from_bundle(bundle_dir("hemseg_segmentation"), bundle.item("patches"), cache)
    data = os.environ.get("HEMSEG_DATA", "../shared/data")
    records = [r for side in sides for r in patch_records(patcher, data, [dataset], RBC_DIAMETER_PX, side, cache)]
    patches = np.stack([np.concatenate([r["image"], r["mask"]]).transpose(1, 2, 0) for r in records])
    return patches, [r["label"] for r in records]


class _Mean:
    """Classifiers whose probabilities are averaged (``--ensemble``), adapted member by member."""

    def __init__(self, members: list) -> None:
        self.members = members
        self.classes = members[0].classes

    def probabilities(self, patches: np.ndarray) -> np.ndarray:
        """The members' mean (N, K) probabilities."""
        return np.mean([member.probabilities(patches) for member in self.members], axis=0)

    def adapted(self, patches: np.ndarray, layers: int) -> _Mean:
        """Each member with its first ``layers`` batch-norm statistics re-estimated on ``patches``."""
        return _Mean([member.adapted(patches, layers) for member in self.members])


def _entropy_minimised(classifier, patches: np.ndarray, epochs: int, learning_rate: float = 1e-3):
    """A copy of ``classifier`` whose batch-norm scales and shifts minimise its answers' entropy on ``patches`` (TENT).

    The statistics stay as they are (learnt, or re-estimated by :meth:`hemseg.models.Classifier.adapted`);
    batches of 64 in a fixed random order; no label is used.
    """
    import copy

    from hemseg.models.adaptation import batch_norms

    tuned = copy.copy(classifier)
    tuned.network = network = copy.deepcopy(classifier.network).eval()
    norms = batch_norms(network)
    network.requires_grad_(False)
    parameters = [p for norm in norms for p in (norm.weight, norm.bias)]
    for parameter in parameters:
        parameter.requires_grad_(True)
    optimiser = torch.optim.Adam(parameters, lr=learning_rate)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(len(patches))
        for first in range(0, len(order), 64):
            logits = network(tuned._tensor(patches[order[first : first + 64]]))
            loss = -(logits.softmax(dim=1) * logits.log_softmax(dim=1)).sum(dim=1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    network.requires_grad_(False)
    return tuned


#: 100 white cells of a specimen in a normal smear's proportions (``--specimens``).
SMEAR_CELLS = {"neutrophil": 58, "lymphocyte": 30, "monocyte": 7, "eosinophil": 4, "basophil": 1}


def main() -> None:
    """Classify with the learnt and with the re-estimated statistics; print and write both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="model.pt of a leave-one-out arm")
    parser.add_argument("dataset", help="the source the arm left out")
    parser.add_argument("--norm", default="batch", help="the arm's normalisation layers (train.yaml norm)")
    parser.add_argument("--first", type=int, nargs="*", default=[], help="also re-estimate only the first N layers")
    parser.add_argument("--specimens", type=int, default=0, help="also re-estimate per specimen of 100 cells, K times")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="also re-estimate on draws of N cells")
    parser.add_argument("--draws", type=int, default=10, help="random draws of each size (--sizes)")
    parser.add_argument("--split", default="all", choices=["all", "val"], help="the patches classified")
    parser.add_argument("--stain-reference", type=Path, help="also classify recoloured onto this reference's stain")
    parser.add_argument("--tent", type=int, nargs="*", default=[], help="also TENT for E epochs after each --first")
    parser.add_argument("--ensemble", type=Path, nargs="*", default=[], help="more checkpoints, probabilities averaged")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import CELL_CLASSES
    from hemseg.models import Classifier, classification_network
    from hemseg.models.adaptation import batch_norms

    patches, labels = left_out_patches(args.dataset, ("train", "val") if args.split == "all" else ("val",))
    members = []
    for checkpoint in (args.checkpoint, *args.ensemble):
        network = classification_network(len(CELL_CLASSES), 4, colour_norm="slide", norm=args.norm)
        network.load_state_dict(torch.load(checkpoint, weights_only=True))
        members.append(Classifier(network.eval(), CELL_CLASSES))
    classifier = members[0] if len(members) == 1 else _Mean(members)
    layers = len(batch_norms(network))
    result = {"checkpoint": str(args.checkpoint), "dataset": args.dataset, "split": args.split}
    if args.ensemble:
        result["ensemble"] = [str(checkpoint) for checkpoint in args.ensemble]
    result["patches"] = len(labels)
    result["learnt_statistics"] = _accuracy(classifier, patches, labels)
    result["statistics_of_the_left_out_source"] = _accuracy(classifier.adapted(patches, layers), patches, labels)
    if args.tent and args.ensemble:
        parser.error("--tent takes one checkpoint, not an --ensemble")
    for first in args.first:
        adapted = classifier.adapted(patches, first)
        result[f"first_{first}_layers_re_estimated"] = _accuracy(adapted, patches, labels)
        for epochs in args.tent:
            tuned = _entropy_minimised(adapted, patches, epochs)
            result[f"first_{first}_layers_re_estimated_then_tent_{epochs}_epochs"] = _accuracy(tuned, patches, labels)
    if args.stain_reference:
        from hemseg.models import read_stain_reference
        from hemseg.postproc import match_stain, stain_signatures

        reference = read_stain_reference(args.stain_reference)
        source = np.nanmedian(stain_signatures(patches), axis=0)
        target = reference.nearest(source)
        matched = match_stain(patches, source, target)
        result["stain_matched"] = {
            "source": source.tolist(),
            "target": target.tolist(),
            "learnt_statistics": _accuracy(classifier, matched, labels),
            **{
                f"first_{first}_layers_re_estimated": _accuracy(classifier.adapted(matched, first), matched, labels)
                for first in args.first
            },
        }
    if args.specimens:
        rng = np.random.default_rng(0)
        by_class = {name: [i for i, label in enumerate(labels) if label == name] for name in SMEAR_CELLS}
        learnt, adapted = [], {first: [] for first in (layers, *args.first)}
        tented = {(first, epochs): [] for first in args.first for epochs in args.tent}
        for _ in range(args.specimens):
            cells = np.concatenate([rng.choice(by_class[k], size=n, replace=False) for k, n in SMEAR_CELLS.items()])
            chosen, truth = patches[cells], [labels[i] for i in cells]
            learnt.append(_accuracy(classifier, chosen, truth)["accuracy"])
            for first, scores in adapted.items():
                scores.append(_accuracy(classifier.adapted(chosen, first), chosen, truth)["accuracy"])
            for (first, epochs), scores in tented.items():
                tuned = _entropy_minimised(classifier.adapted(chosen, first), chosen, epochs)
                scores.append(_accuracy(tuned, chosen, truth)["accuracy"])
        result["specimens"] = {
            "count": args.specimens,
            "cells": SMEAR_CELLS,
            "learnt_statistics": float(np.mean(learnt)),
            "statistics_of_each_specimen": float(np.mean(adapted.pop(layers))),
            **{f"first_{first}_layers_of_each_specimen": float(np.mean(v)) for first, v in adapted.items()},
            **{
                f"first_{first}_layers_then_tent_{epochs}_epochs_of_each_specimen": float(np.mean(v))
                for (first, epochs), v in tented.items()
            },
        }
    if args.sizes:
        rng = np.random.default_rng(0)
        by_size = {}
        for size in args.sizes:
            scores = {"learnt_statistics": [], **{f"first_{first}_layers_of_each_draw": [] for first in args.first}}
            for _ in range(args.draws):
                cells = rng.choice(len(patches), size=size, replace=False)
                chosen, truth = patches[cells], [labels[i] for i in cells]
                scores["learnt_statistics"].append(_accuracy(classifier, chosen, truth)["accuracy"])
                for first in args.first:
                    adapted = classifier.adapted(chosen, first)
                    scores[f"first_{first}_layers_of_each_draw"].append(_accuracy(adapted, chosen, truth)["accuracy"])
            by_size[str(size)] = {name: float(np.mean(values)) for name, values in scores.items()}
        result["draws"] = {"count": args.draws, "by_size": by_size}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
