"""The red-cell scale estimate on single-cell crops (few red cells), against each set's measured diameter.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/crop_scale.py --json benchmarks/results/crop_scale.json

Runs ``hemseg diagnose``'s analysis (``hemseg.models.load_analyser``, scale estimated) on ``--crops``
crops of each crop set, spread evenly over its ids, and compares the red-cell diameter it used with the
set's entry in ``hemseg.data.RBC_DIAMETER_PX`` (measured on whole red cells): the share estimated
(the others fall back to the assumed diameter), and the 10th / 50th / 90th percentile of the
relative error of the estimated ones. ``--percentiles 50 75`` also scores other percentiles of the
red cells' inscribed diameters as the estimate (one segmentation of the whole crop at the assumed
diameter, as ``hemseg.postproc.rbc_diameter`` measures them).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

#: Crop sets: PBC (CellaVision DM96, the held-out analyser's kind), jtsc_wbc and ALL-IDB2.
DATASETS = ("pbc", "jtsc_wbc", "all_idb2")


def main() -> None:
    """Estimate, compare, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--crops", type=int, default=200, help="crops per set")
    parser.add_argument("--percentiles", type=float, nargs="*", default=[], help="also score these percentiles")
    args = parser.parse_args()
    from hemseg.data import RBC_DIAMETER_PX, read_dataset, read_smear
    from hemseg.models import load_analyser
    from hemseg.postproc import chw_float, postprocess, rbc_diameter

    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    analyser = load_analyser()
    figures = []
    for name in DATASETS:
        every = read_dataset(root / name).samples
        samples = every[:: max(1, len(every) // args.crops)][: args.crops]  # spread over the set
        truth = RBC_DIAMETER_PX[name]
        errors, assumed, by_percentile = [], 0, {q: [] for q in args.percentiles}
        for sample in samples:
            rgb = read_smear(sample.image)
            report = analyser.analyse(rgb)
            if report.scale_source == "assumed":
                assumed += 1
            else:
                errors.append(report.rbc_diameter_px / truth - 1)
            if by_percentile:
                px = analyser.scale.assumed_px
                probabilities = analyser.segmenter.probabilities(chw_float(rgb), px)
                rbc = postprocess(probabilities, analyser.structures, analyser.mask_rules, px, ["rbc"])["rbc"]
                for q, found in by_percentile.items():
                    if (estimate := rbc_diameter(rbc, px, q, 1)[0]) is not None:
                        found.append(estimate / truth - 1)
        p10, p50, p90 = np.percentile(errors, [10, 50, 90]) if errors else [None] * 3
        figures.append(
            {
                "dataset": name,
                "crops": len(samples),
                "rbc_diameter_px": truth,
                "estimated_share": round(len(errors) / len(samples), 3),
                "assumed_px": analyser.scale.assumed_px,
                "error_p10": None if p10 is None else round(float(p10), 3),
                "error_p50": None if p50 is None else round(float(p50), 3),
                "error_p90": None if p90 is None else round(float(p90), 3),
            }
        )
        if by_percentile:  # 10th / 50th / 90th percentile of each estimator's error
            figures[-1]["percentiles"] = {
                str(q): [round(float(e), 3) for e in np.percentile(found, [10, 50, 90])]
                for q, found in by_percentile.items()
            }
        print(json.dumps(figures[-1]))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
