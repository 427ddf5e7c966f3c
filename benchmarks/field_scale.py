"""The red-cell scale of each whole field: its red-cell masks, the pipeline's estimate, the dataset's one value.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/field_scale.py --json benchmarks/results/field_scale.json

For every photo of ``all_idb1`` (two camera set-ups: 2592x1944 and 1712x1368 photos) and the
validation photos of ``bccd``: the photo's size, the median diameter of the single round red cells
of its red-cell mask where it has one (``rbc_single`` of ``hemseg.data.measure_cell_sizes``, as
``RBC_DIAMETER_PX`` was measured), and the diameter ``hemseg diagnose`` estimates from it
(``SmearAnalyser.estimate_scale``), beside the dataset's one entry in ``hemseg.data.RBC_DIAMETER_PX``
that the benchmarks give every photo. Prints one line per photo and the median per set and photo size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np


def main() -> None:
    """Measure, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import RBC_DIAMETER_PX, measure_cell_sizes, read_dataset, read_smear, samples_of_split
    from hemseg.models import load_analyser

    analyser = load_analyser(red_cell_morphology=False)
    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    photos, groups = [], defaultdict(list)
    for name, side in (("all_idb1", None), ("bccd", "val")):
        dataset = read_dataset(data / name)
        for sample in dataset.samples if side is None else samples_of_split(dataset, side):
            rgb = read_smear(sample.image)
            estimate, source = analyser.estimate_scale(rgb)
            one = dataclasses.replace(dataset, samples=(sample,), structures=("rbc",) if "rbc" in sample.masks else ())
            row = {
                "dataset": name,
                "id": sample.id,
                "size": f"{rgb.shape[1]}x{rgb.shape[0]}",
                "given_px": RBC_DIAMETER_PX[name],
                "mask_px": measure_cell_sizes(one).get("rbc_single"),
                "estimated_px": round(estimate, 1) if source == "estimated" else None,
            }
            photos.append(row)
            groups[f"{name} {row['size']}"].append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for group, rows in groups.items():
        masks = [r["mask_px"] for r in rows if r["mask_px"] is not None]
        estimates = [r["estimated_px"] for r in rows if r["estimated_px"] is not None]
        summary[group] = {
            "photos": len(rows),
            "given_px": rows[0]["given_px"],
            "masks": len(masks),
            "mask_px_median": float(np.median(masks)) if masks else None,
            "estimated_px_median": float(np.median(estimates)) if estimates else None,
            "estimated_px_p10_p90": [float(np.percentile(estimates, q)) for q in (10, 90)] if estimates else None,
        }
        print(group, json.dumps(summary[group]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"sets": summary, "photos": photos}, indent=1) + "\n")


if __name__ == "__main__":
    main()
