r"""Batch-norm statistics as a cause of the cross-lab loss: a leave-one-out classifier on the source it never saw.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/bn_adaptation.py \
        bundles/hemseg_classification/runs/loso/baseline/jtsc_wbc/model.pt jtsc_wbc \
        --json benchmarks/results/loso_classification/baseline/jtsc_wbc-bn_adaptation.json

Classifies every cached patch of the left-out source (train and val sides of the classification
bundle's patch cache, cut as ``hemseg diagnose`` cuts them) with a checkpoint of
``scripts/leave-one-source-out-classification.sh``, once with the batch-norm statistics learnt on the
training sources, once with them re-estimated on the left-out source's own patches (AdaBN: the
unlabelled patches of one lab; no labels, no weights changed). No test-time averaging, no blast rule.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import torch


def _accuracy(network: torch.nn.Module, patches: torch.Tensor, labels: list[str], classes: tuple[str, ...]) -> dict:
    with torch.no_grad():
        called = torch.cat([network(patches[i : i + 64]).argmax(1) for i in range(0, len(patches), 64)])
    names = [classes[int(i)] for i in called]
    return {
        "accuracy": float(np.mean([a == b for a, b in zip(names, labels, strict=True)])),
        "called": dict(Counter(names).most_common()),
    }


def main() -> None:
    """Classify with the learnt and with the re-estimated statistics; print and write both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="model.pt of a leave-one-out arm")
    parser.add_argument("dataset", help="the source the arm left out")
    parser.add_argument("--norm", default="batch", help="the arm's normalisation layers (train.yaml norm)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import CELL_CLASSES, RBC_DIAMETER_PX
    from hemseg.data.transforms import classification_val_transforms
    from hemseg.models import Bundle, bundle_dir, classification_network, patch_records, patcher_from_bundle

    torch.manual_seed(0)
    bundle = Bundle(bundle_dir("hemseg_classification"))
    cache = bundle.root / "runs" / "patches"
    patcher = patcher_from_bundle(bundle_dir("hemseg_segmentation"), bundle.item("patches"), cache)
    data = os.environ.get("HEMSEG_DATA", "../shared/data")
    records = [
        r
        for side in ("train", "val")
        for r in patch_records(patcher, data, [args.dataset], RBC_DIAMETER_PX, side, cache)
    ]
    transform = classification_val_transforms()
    patches = torch.stack([transform(r)["image"] for r in records])
    labels = [r["label"] for r in records]
    network = classification_network(len(CELL_CLASSES), 4, colour_norm="slide", norm=args.norm)
    network.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    result = {"checkpoint": str(args.checkpoint), "dataset": args.dataset, "patches": len(records)}
    result["learnt_statistics"] = _accuracy(network.eval(), patches, labels, CELL_CLASSES)
    for module in network.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the batches below
    network.train()
    with torch.no_grad():
        for batch in torch.randperm(len(patches)).split(64):
            network(patches[batch])
    result["statistics_of_the_left_out_source"] = _accuracy(network.eval(), patches, labels, CELL_CLASSES)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
