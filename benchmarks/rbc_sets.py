r"""Red-cell morphology as ``hemseg diagnose`` reports it, on chula_rbc and on photos of other labs.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/rbc_sets.py --json benchmarks/results/rbc/sets.json

The validation photos of ``chula_rbc`` (the classifier's own microscope) and of ``bccd`` and
``all_idb1`` (other cameras and labs, no red-cell morphology labels; most red cells of these smears
are normal) are analysed by the shipped ``hemseg_diagnose`` pipeline (red-cell morphology as
shipped: one view per patch) at each set's red-cell diameter (``hemseg.data.RBC_DIAMETER_PX``), or with
``--scale estimated`` at the pipeline's own estimate for each photo (``hemseg diagnose`` without a
scale; ``all_idb1``'s 1712x1368 photos have red cells of about 69 px, its 2592x1944 ones of about 87).
Prints and writes per set: red cells classified, the count of each class and the share called
``normal``, the share of photos that raise each red-cell flag, the share whose flag is held back
for too few red cells (``hemseg.diagnosis.held_back_red_cell_flags``), and the flags of the whole set
pooled as one specimen (the ICSH count rests on at least 1,000 red cells); for ``chula_rbc`` also
the class shares of its marked points (not every red cell is marked). ``--prior-strength``,
``--field-cells`` and ``--field-kept`` replace the red-cell classifier's ``class_prior_strength``,
``field_cells`` and ``field_kept`` (``none``: every class moves) for the run, ``--red-split`` the
``hemseg_diagnose`` bundle's ``red_cells#split_distance`` (touching red cells split closer or farther).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

#: chula_rbc, then sets with red cells and no red-cell morphology labels (other cameras and labs).
DATASETS = ("chula_rbc", "bccd", "all_idb1")


def main() -> None:
    """Analyse, count, print and write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prior-strength",
        type=float,
        help="the red-cell classifier's class_prior_strength (default: its inference.yaml's)",
    )
    parser.add_argument("--field-cells", type=float, help="the red-cell classifier's field_cells (field prior)")
    parser.add_argument("--field-kept", help="the red-cell classifier's field_kept (a class, or none)")
    parser.add_argument(
        "--scale",
        choices=("given", "estimated"),
        default="given",
        help="each set's red-cell diameter (given) or the pipeline's estimate per photo (estimated)",
    )
    parser.add_argument("--red-split", type=float, help="red_cells#split_distance of hemseg_diagnose, in diameters")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import RBC_CLASSES, RBC_DIAMETER_PX, read_dataset, read_smear, samples_of_split
    from hemseg.diagnosis import SpecimenRules, pool_specimens
    from hemseg.models import load_analyser

    overrides = {"class_prior_strength": args.prior_strength, "field_cells": args.field_cells}
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if args.field_kept is not None:
        overrides["field_kept"] = None if args.field_kept == "none" else args.field_kept  # none: every class moves
    split = {} if args.red_split is None else {"red_cells#split_distance": args.red_split}
    analyser = load_analyser(rbc_overrides=overrides, **split)
    rules = analyser.flag_rules
    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    result = {}
    for name in DATASETS:
        samples = samples_of_split(read_dataset(data / name), "val")
        given = args.scale == "given"
        reports = [
            analyser.analyse(read_smear(s.image), RBC_DIAMETER_PX[name] if given else None, "given" if given else None)
            for s in samples
        ]
        counts = Counter({c: sum(r.red_cells.counts[c] for r in reports) for c in RBC_CLASSES})
        cells = sum(counts.values())
        flagged = Counter(f.name for r in reports for f in r.flags if f.name in rules.red_cells.flags)
        held_back = Counter(f.name for r in reports for f in r.held_back)
        (pooled,) = pool_specimens(
            [(name, s.id, r) for s, r in zip(samples, reports, strict=True)], rules, SpecimenRules(1, 0.95)
        )
        result[name] = {
            "photos": len(samples),
            "red_cells": cells,
            "normal_share": counts["normal"] / cells if cells else None,
            "classes": dict(counts.most_common()),
            "photos_flagged": {flag: flagged[flag] / len(samples) for flag in rules.red_cells.flags},
            "photos_held_back": {flag: held_back[flag] / len(samples) for flag in rules.red_cells.flags},
            "pooled_flags": [f.name for f in pooled.flags if f.name in rules.red_cells.flags],
        }
        points = Counter(p.label for s in samples for p in s.points if p.label in RBC_CLASSES)
        if points:
            total = sum(points.values())
            result[name]["marked_points_percent"] = {c: round(100 * points[c] / total, 2) for c in RBC_CLASSES}
            result[name]["classified_percent"] = {c: round(100 * counts[c] / cells, 2) for c in RBC_CLASSES}
        print(name, json.dumps(result[name]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
