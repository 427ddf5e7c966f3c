r"""Would a stain check mark a lab never seen for review? Leave one source out, on the white-cell patches.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/stain_familiarity.py \
        --json benchmarks/results/stain_familiarity.json

For each labelled source of the white-cell classifier (pbc, jtsc_wbc, bccd, all_idb2), a
:class:`hemseg.postproc.StainReference` is fitted on the training-side patches of the other three
(one Gaussian of stain signatures per source, threshold the 99th percentile of their own distances),
then asked which patches of the source left out (both sides) are unfamiliar, and which
validation-side patches of the three it knows (false alarms). Last, the reference of all four sources
against their validation patches. The patches are the classification bundle's patch cache: each
crop segmented and its central cell cut as ``hemseg diagnose`` cuts it (the cache is filled on first
use).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

SOURCES = ("pbc", "jtsc_wbc", "bccd", "all_idb2")


def _signatures(patcher, data: str, source: str, side: str, cache: Path) -> np.ndarray:
    from hemseg.data import RBC_DIAMETER_PX
    from hemseg.models import patch_records, record_signatures

    return record_signatures(patch_records(patcher, data, [source], RBC_DIAMETER_PX, side, cache))


def _unfamiliar_share(reference, signatures: np.ndarray) -> float:
    """The share of (N, 6) stain ``signatures`` that ``reference`` (a ``StainReference``) finds unfamiliar."""
    return round(float(reference.unfamiliar(signatures).mean()), 4)


def main() -> None:
    """Fit, score, print and write the shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantile", type=float, default=0.99, help="of the training distances: the threshold")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    from hemseg.models import Bundle, bundle_dir, patcher_from_bundle
    from hemseg.postproc import StainReference

    bundle = Bundle(bundle_dir("hemseg_classification"))
    cache = bundle.root / "runs" / "patches"
    patcher = patcher_from_bundle(bundle_dir("hemseg_segmentation"), bundle.item("patches"), cache)
    data = os.environ.get("HEMSEG_DATA", "../shared/data")
    signatures = {(s, side): _signatures(patcher, data, s, side, cache) for s in SOURCES for side in ("train", "val")}
    arms = []
    for left_out in (*SOURCES, None):
        known = [s for s in SOURCES if s != left_out]
        reference = StainReference.fit({s: signatures[s, "train"] for s in known}, args.quantile)
        arm = {"left_out": left_out, "threshold": round(reference.threshold, 3)}
        if left_out is not None:
            unseen = np.concatenate([signatures[left_out, "train"], signatures[left_out, "val"]])
            arm |= {"left_out_patches": len(unseen), "left_out_unfamiliar": _unfamiliar_share(reference, unseen)}
        arm["false_alarms"] = {s: _unfamiliar_share(reference, signatures[s, "val"]) for s in known}
        arms.append(arm)
        print(json.dumps(arm))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"quantile": args.quantile, "arms": arms}, indent=1) + "\n")


if __name__ == "__main__":
    main()
