r"""Batch-norm statistics and the segmentation of a device never seen: a leave-one-out arm re-estimated.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/segmentation_bn_adaptation.py \
        out/loso/colour3_run3/bundles/jtsc_wbc/hemseg_segmentation jtsc_wbc --central-cell --first 1 4 \
        --json benchmarks/results/loso_segmentation/colour3_run3/jtsc_wbc-bn_adaptation.json

Scores a segmentation bundle (an arm of ``scripts/leave-one-source-out-segmentation.sh``, or the
shipped one on a validation split) on a dataset as ``hemseg evaluate segmentation`` does, once with
the batch-norm statistics it learnt, then with the statistics of its first N batch-norm layers
(``--first``; the stem's is the first) re-estimated on the dataset's own unlabelled images
(:meth:`hemseg.models.Segmenter.adapted`, AdaBN; no label, no weight changed):

- ``set``: once on every image scored (the lab's look, as ``hemseg evaluate classification`` adapts
  the classifier to a lab never seen);
- ``image``: on each image alone before it is segmented (what ``hemseg diagnose`` could do per photo,
  the network run up to those layers once more).

``--shift`` only measures, for each image, how far its own first-layer statistics lie from the
learnt ones: the mean over the stem's channels of the difference of means in learnt standard
deviations (``stem_shift``: its quantiles over the images). A network's photos of the sources it
trained on set what is familiar; a gate for the re-estimation would be read from it.

Each image at the dataset's red-cell diameter (``hemseg.data.RBC_DIAMETER_PX``), as the leave-one-out
figures are scored.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


class _EachImageAdapted:
    """A segmenter whose first batch-norm layers are re-estimated on each image before it is segmented."""

    def __init__(self, segmenter, layers: int) -> None:
        self.segmenter, self.layers, self.last_network_ms = segmenter, layers, 0.0

    def probabilities(self, image, rbc_diameter_px):
        start = time.perf_counter()
        adapted = self.segmenter.adapted([(image, rbc_diameter_px)], self.layers)
        probabilities = adapted.probabilities(image, rbc_diameter_px)
        self.last_network_ms = (time.perf_counter() - start) * 1000.0
        return probabilities


def _stem_shift(segmenter, image, rbc_diameter_px: float) -> float:
    """Mean over the stem's channels of |photo mean - learnt mean| / learnt standard deviation."""
    from hemseg.models.adaptation import batch_norms

    learnt = batch_norms(segmenter.network)[0]
    own = batch_norms(segmenter.adapted([(image, rbc_diameter_px)], 1).network)[0]
    return float(((own.running_mean - learnt.running_mean).abs() / (learnt.running_var + learnt.eps).sqrt()).mean())


def _summary(result: dict, central: bool) -> dict:
    """WBC and nucleus Dice, precision and recall (the central cell's with ``central``)."""
    scores = result["central_cell" if central else "structures"]
    metrics = ("dice", "precision", "recall")
    return {s: {m: round(scores[s][m], 4) for m in metrics} for s in ("wbc", "nucleus") if s in scores}


def main() -> None:
    """Score the bundle with the learnt statistics, then with each re-estimation asked for."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path, help="segmentation bundle folder")
    parser.add_argument("dataset", help="dataset folder name under HEMSEG_DATA")
    parser.add_argument("--split", default="all")
    parser.add_argument("--central-cell", action="store_true", help="score the central cell (crops)")
    parser.add_argument("--first", type=int, nargs="+", default=[1, 4], help="batch-norm layers re-estimated")
    parser.add_argument("--per", nargs="+", choices=("set", "image"), default=["set", "image"])
    parser.add_argument("--shift", action="store_true", help="only measure each image's stem shift")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import RBC_DIAMETER_PX, read_dataset, samples_of_split
    from hemseg.data.transforms import load_rgb
    from hemseg.models import Bundle, evaluate_segmentation

    dataset_dir = Path(os.environ["HEMSEG_DATA"]) / args.dataset
    bundle = Bundle(args.bundle)
    segmenter = bundle.item("segmenter")
    rest = [bundle.item(key) for key in ("structures", "mask_rules", "split_distance")]

    def scored(each) -> dict:
        result = evaluate_segmentation(dataset_dir, each, *rest, split=args.split, central_cell=args.central_cell)
        return {**_summary(result, args.central_cell), "ms_per_image": round(result["ms_per_image"], 1)}

    dataset = read_dataset(dataset_dir)
    rbc_px = RBC_DIAMETER_PX[dataset.name]
    samples = samples_of_split(dataset, args.split)
    figures = {"bundle": str(args.bundle), "dataset": args.dataset, "split": args.split}

    def keep(name: str, each) -> None:
        """Score ``each``, print the figures and write every figure so far (a stopped run keeps them)."""
        figures[name] = scored(each)
        print(name, figures[name], flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            partial = args.json.with_suffix(".part")
            partial.write_text(json.dumps(figures, indent=2) + "\n")
            partial.replace(args.json)

    if args.shift:
        shifts = [_stem_shift(segmenter, load_rgb(s.image), rbc_px) for s in samples]
        quantiles = np.quantile(shifts, [0.1, 0.5, 0.9]).round(3).tolist()
        figures["stem_shift"] = {"images": len(shifts), "q10_median_q90": quantiles}
        print("stem_shift", figures["stem_shift"], flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2) + "\n")
        return
    keep("learnt", segmenter)
    for layers in args.first:
        if "set" in args.per:
            keep(f"set_first_{layers}", segmenter.adapted(((load_rgb(s.image), rbc_px) for s in samples), layers))
        if "image" in args.per:
            keep(f"image_first_{layers}", _EachImageAdapted(segmenter, layers))


if __name__ == "__main__":
    main()
