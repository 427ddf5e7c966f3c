"""The red-cell scale of each whole field: its red-cell masks, the pipeline's estimate, the dataset's one value.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/field_scale.py --json benchmarks/results/field_scale.json

For every photo of ``all_idb1`` (two camera set-ups: 2592x1944 and 1712x1368 photos) and the
validation photos of ``bccd``: the photo's size, the median diameter of the round single red cells
of its red-cell mask where it has one (components of solidity above 0.9 and 200 px or more, the
diameter of a disc of their area), and the diameter ``hemseg diagnose`` estimates from it
(``SmearAnalyser.estimate_scale``), beside the dataset's one entry in ``hemseg.data.RBC_DIAMETER_PX``
that the benchmarks give every photo. Prints one line per photo and the median per set and photo size.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np


def _mask_diameter(path: Path) -> float | None:
    """Median disc diameter (px) of the round single red cells of a red-cell mask."""
    from skimage.measure import label, regionprops_table

    from hemseg.data import read_mask

    props = regionprops_table(label(read_mask(path)), properties=("area", "solidity"))
    round_cells = props["area"][(props["area"] >= 200) & (props["solidity"] > 0.9)]
    return float(np.median(2 * np.sqrt(round_cells / np.pi))) if len(round_cells) else None


def main() -> None:
    """Measure, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import RBC_DIAMETER_PX, read_dataset, read_smear, samples_of_split
    from hemseg.models import load_analyser

    analyser = load_analyser(red_cell_morphology=False)
    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    photos, groups = [], defaultdict(list)
    for name, side in (("all_idb1", None), ("bccd", "val")):
        dataset = read_dataset(data / name)
        for sample in dataset.samples if side is None else samples_of_split(dataset, side):
            rgb = read_smear(sample.image)
            estimate, source = analyser.estimate_scale(rgb)
            mask = sample.masks.get("rbc")
            row = {
                "dataset": name,
                "id": sample.id,
                "size": f"{rgb.shape[1]}x{rgb.shape[0]}",
                "given_px": RBC_DIAMETER_PX[name],
                "mask_px": round(_mask_diameter(mask), 1) if mask else None,
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
