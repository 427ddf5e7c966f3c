r"""What the red-cell classifier calls the red cells of photos from other labs, where few are abnormal.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/rbc_other_sets.py \
        --json benchmarks/results/rbc/other_sets.json

Every red cell that ``hemseg diagnose`` finds (``SmearAnalyser.find_cells``) in the validation photos
of ``bccd`` and ``all_idb1`` (no red-cell morphology labels; most cells of these smears are normal)
is classified by the shipped ``hemseg_rbc_classification`` bundle at the set's red-cell diameter
(``hemseg.data.RBC_DIAMETER_PX``). Prints and writes the count of each class and the share called
``normal``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

#: Sets with red cells and no red-cell morphology labels (other cameras and labs than chula_rbc).
DATASETS = ("bccd", "all_idb1")


def main() -> None:
    """Classify, count, print and write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import RBC_DIAMETER_PX, read_dataset, read_smear, samples_of_split
    from hemseg.models import Bundle, bundle_dir, classify_red_cells, load_analyser

    bundle = Bundle(bundle_dir("hemseg_rbc_classification"))
    classifier = bundle.item("classifier")
    size, target = int(bundle.item("patch_size")), float(bundle.item("target_rbc_px"))
    analyser = load_analyser()
    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    result = {}
    for name in DATASETS:
        counts: Counter = Counter()
        samples = samples_of_split(read_dataset(data / name), "val")
        for sample in samples:
            rgb = read_smear(sample.image)
            _, _, probabilities = classify_red_cells(
                analyser.find_cells, classifier, rgb, RBC_DIAMETER_PX[name], target, size
            )
            counts.update(classifier.classes[i] for i in classifier.decide(probabilities))
        cells = sum(counts.values())
        result[name] = {
            "photos": len(samples),
            "red_cells": cells,
            "normal_share": counts["normal"] / cells if cells else None,
            "classes": dict(counts.most_common()),
        }
        print(name, json.dumps(result[name]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
