"""What a segmentation bundle misses of the white cells of a set: how sure it was, and how far away.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/missed_pixels.py \
        out/loso/colour3_pbc/bundles/bccd/hemseg_segmentation bccd --every 3 \
        --json benchmarks/results/missed_pixels/colour3_pbc_rerun-bccd.json

Segments every ``--every``-th image of the set that has a white-cell mask, as ``hemseg evaluate
segmentation`` does (the set's red-cell diameter from ``hemseg.data.RBC_DIAMETER_PX``, the bundle's
``mask_rules``; with ``--central-cell`` only the white cell nearest the centre, for crops). For the
reference white-cell pixels the mask leaves out it reports percentiles of the network's white-cell
probability there and the share at or above a few thresholds (a lower threshold can only find
those), beside the same share for the true background; and the mean white-cell Dice after the predicted
mask is grown (or shrunk) by a few pixels at the image's resolution: a loss that growing closes is a
border, one it does not close is missed cell.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from scipy import ndimage

#: Thresholds whose share of missed (and of background) pixels is reported.
THRESHOLDS = (0.05, 0.1, 0.2, 0.3)
#: Pixels the predicted mask is grown by (negative: shrunk).
GROW_PX = (-4, -2, 0, 2, 4, 6, 8, 10)


def _grown(mask: np.ndarray, pixels: int) -> np.ndarray:
    if pixels > 0:
        return ndimage.binary_dilation(mask, iterations=pixels)
    if pixels < 0:
        return ndimage.binary_erosion(mask, iterations=-pixels)
    return mask


def main() -> None:
    """Segment, measure, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="a segmentation bundle folder")
    parser.add_argument("dataset", help="a set under HEMSEG_DATA")
    parser.add_argument("--every", type=int, default=1, help="score every n-th image")
    parser.add_argument("--central-cell", action="store_true", help="only the white cell nearest the centre")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    from hemseg.data import RBC_DIAMETER_PX, read_dataset, read_mask
    from hemseg.data.transforms import load_rgb
    from hemseg.models import Bundle
    from hemseg.models.metrics import mask_metrics
    from hemseg.postproc import central_cell, postprocess, split_cells

    bundle = Bundle(args.bundle)
    segmenter, structures, rules, distance = (
        bundle.item(k) for k in ("segmenter", "structures", "mask_rules", "split_distance")
    )
    dataset = read_dataset(Path(os.environ.get("HEMSEG_DATA", "../shared/data")) / args.dataset)
    rbc_px = RBC_DIAMETER_PX[dataset.name]
    samples = [s for s in dataset.samples if "wbc" in s.masks][:: args.every]
    missed, background, dice = [], [], {k: [] for k in GROW_PX}
    for sample in samples:
        probabilities = segmenter.probabilities(load_rgb(sample.image), rbc_px)
        wbc = postprocess(probabilities, structures, rules, rbc_px)["wbc"]
        if args.central_cell:
            wbc = central_cell(split_cells(wbc, rbc_px, distance))
        truth = read_mask(sample.masks["wbc"])
        probability = np.asarray(probabilities)[list(structures).index("wbc")]
        missed.append(probability[truth & ~wbc])
        background.append(probability[~truth & ~wbc])
        for pixels in GROW_PX:
            dice[pixels].append(mask_metrics(_grown(wbc, pixels), truth)["dice"])
    missed_all, background_all = np.concatenate(missed), np.concatenate(background)
    figures = {
        "bundle": str(args.bundle),
        "dataset": dataset.name,
        "images": len(samples),
        "central_cell": args.central_cell,
        "missed_pixels": int(missed_all.size),
        "missed_probability_percentiles": {str(q): float(np.percentile(missed_all, q)) for q in (10, 25, 50, 75, 90)},
        "share_at_or_above": {
            str(t): {"missed": float(np.mean(missed_all >= t)), "background": float(np.mean(background_all >= t))}
            for t in THRESHOLDS
        },
        "dice_grown_by_px": {str(k): float(np.nanmean(v)) for k, v in dice.items()},
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
