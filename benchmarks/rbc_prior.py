r"""The red-cell classifier's prior correction (``class_prior_strength``) swept on chula_rbc validation.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/rbc_prior.py --strengths 0 0.25 0.5 0.75 1 1.25 \
        --json benchmarks/results/rbc/prior.json

Scores ``hemseg evaluate rbc``'s whole path (``hemseg.models.evaluate_red_cells``: segmentation,
red cells, points, patches, the shipped classifier with its 8-view averaging, ONNX Runtime) on the
validation photos of ``chula_rbc`` once per strength of the prior (the bundle's
``inference.yaml`` with ``class_prior_strength`` replaced). The photos are segmented once; only the
classifier's last step changes between strengths. Prints and writes accuracy, macro F1, ECE and
each class's recall per strength.

``--field-cells M ...`` sweeps the field prior too (``field_cells`` of ``inference.yaml``; 0: off):
every strength with every M, keyed ``"<strength> field_cells <M>"``; without it, the bundle's own.
``--field-kept CLASS`` sets ``field_kept`` for the run (``none``: every class moves).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path


def main() -> None:
    """Sweep, print and write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    parser.add_argument("--field-cells", type=float, nargs="*", default=[], help="field prior pseudo-cells to sweep")
    parser.add_argument("--field-kept", help="field_kept (a class, or none: every class moves; default: the bundle's)")
    parser.add_argument("--bundle", type=Path, help="red-cell classification bundle (default: the shipped one)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.models import Bundle, bundle_dir, cache_dir, evaluate_red_cells, load_analyser

    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    find_cells, found = load_analyser().find_cells, {}

    def segmented_once(rgb, rbc_px=None):
        key = (hashlib.sha256(rgb.tobytes()).hexdigest(), rbc_px)
        if key not in found:
            found[key] = find_cells(rgb, rbc_px)
        return found[key]

    result = {}
    settings = [(s, m) for m in args.field_cells for s in args.strengths] or [(s, None) for s in args.strengths]
    for strength, cells in settings:
        key = str(strength) if cells is None else f"{strength} field_cells {cells:g}"
        overrides = {"class_prior_strength": strength} | ({} if cells is None else {"field_cells": cells})
        if args.field_kept is not None:
            overrides["field_kept"] = None if args.field_kept == "none" else args.field_kept
        network = Bundle(bundle_dir("hemseg_rbc_classification", args.bundle), **overrides)
        network.run_on_onnx(cache_dir() / "onnx", int(network.item("patch_size")), 4)
        scores = evaluate_red_cells(
            data / "chula_rbc",
            segmented_once,
            network.item("classifier"),
            float(network.item("target_rbc_px")),
            int(network.item("patch_size")),
            split="val",
        )
        result[key] = {
            "accuracy": scores["accuracy"],
            "macro_f1": scores["macro_f1"],
            "ece": scores["ece"],
            "recall": {name: s["recall"] for name, s in scores["per_class"].items()},
        }
        print(key, json.dumps(result[key]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
