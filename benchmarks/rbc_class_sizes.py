"""How large each red-cell class is in the red-cell classifier's training patches.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/rbc_class_sizes.py --json benchmarks/results/rbc/sizes.json

The training records of ``bundles/hemseg_rbc_classification`` (``train.yaml``: the marked red cells
of ``chula_rbc``'s training photos, cut as the pipeline segments them; the bundle's patch cache is
used when it holds them): per class the 25th / 50th / 75th percentile of the diameter (px) of a disc
of the cell mask's area, in the patch, where the photo's typical red cell measures 40 px. The spread
of the zoom augmentation (``train.yaml`` ``zoom_range``) is to be read against these.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "hemseg_rbc_classification"


def main() -> None:
    """Measure, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from monai.bundle import ConfigParser

    config = ConfigParser()
    config.read_meta(str(BUNDLE / "configs" / "metadata.json"))
    config.read_config(str(BUNDLE / "configs" / "train.yaml"))
    config["bundle_root"] = str(BUNDLE)
    config["data_root"] = os.environ.get("HEMSEG_DATA", "../shared/data")
    diameters: dict[str, list[float]] = {}
    for record in config.get_parsed_content("train#records"):
        diameters.setdefault(record["label"], []).append(2 * np.sqrt((record["mask"] > 0).sum() / np.pi))
    result = {
        label: {
            "cells": len(values),
            "diameter_px_p25_p50_p75": [round(float(np.percentile(values, q)), 1) for q in (25, 50, 75)],
        }
        for label, values in sorted(diameters.items())
    }
    for label, row in result.items():
        print(label, json.dumps(row))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
