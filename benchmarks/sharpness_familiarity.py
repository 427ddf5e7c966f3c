r"""Does the look check leave the training sources' own specimens alone? False alarms of the sharpness range.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/sharpness_familiarity.py --fields \
        --json benchmarks/results/sharpness_familiarity.json

The shipped classification bundle's look check (:func:`hemseg.postproc.unfamiliar_look` with its
``stain_reference.json``) is asked about specimens of each training source's validation cells
(cached patches, cut as ``hemseg diagnose`` cuts them): ``--draws`` specimens of ``adapt_min_cells``
cells drawn at random, and as many of each class alone where the source has that many of it (a
lymphocytosis, a specimen of blasts), and all of them as one lab. Per source and kind of specimen:
the median sharpness, its range over the draws, and how many draws the check would adapt, for their
sharpness and for their stain. The reference's sharpness ranges were fitted on the training side of
the same sources.

``--fields``: also every white cell that ``hemseg diagnose`` finds on the fields of the two field
sets, ``bccd``'s validation fields and all of ``all_idb1`` (each set taken as one specimen; the
scale estimated from each photo's red cells, as ``hemseg diagnose`` does; about 5 min).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bn_adaptation import left_out_patches
from lab_look import cells_look
from stain_familiarity import SOURCES

#: Field sets (dataset, split) whose white cells are checked with ``--fields``.
FIELD_SETS = (("bccd", "val"), ("all_idb1", "all"))


def _fields(name: str, split: str, bundle) -> dict:
    """The look check on every white cell ``hemseg diagnose`` finds on a field set, taken as one specimen."""
    import os
    from collections import Counter

    from hemseg.data import read_dataset, read_smear, samples_of_split
    from hemseg.models import load_analyser

    analyser = load_analyser(red_cell_morphology=False)
    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    cells = []
    for sample in samples_of_split(read_dataset(data / name), split):
        cells += [c for c in analyser.analyse(read_smear(sample.image)).cells if c.kind == "wbc"]
    look = cells_look(
        bundle, ([c.unfamiliar_stain for c in cells], [c.stain_source for c in cells], [c.sharpness for c in cells])
    )
    found = {
        "white_cells": len(cells),
        "stain_sources": dict(Counter(str(c.stain_source) for c in cells).most_common()),
        "median_sharpness": round(float(np.median([c.sharpness for c in cells if c.sharpness is not None])), 3),
        "unfamiliar_stain_share": round(float(np.mean([c.unfamiliar_stain for c in cells])), 4),
        "adapted": None if look is None else ("sharpness" if "sharpness" in look else "stain"),
    }
    print(f"{name} ({split}) fields: {found}", flush=True)
    return found


def main() -> None:
    """Draw, check, print and write the shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=50, help="specimens of each kind")
    parser.add_argument("--fields", action="store_true", help="also the white cells of whole fields")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    from hemseg.models import Bundle, bundle_dir

    bundle = Bundle(bundle_dir("hemseg_classification"))
    cells = int(bundle.item("adapt_min_cells"))
    ranges = bundle.item("stain_reference").sharpness
    result = {"cells": cells, "draws": args.draws, "ranges": ranges, "sources": {}}
    print(
        f"| source (range) | specimens of {cells} cells | median sharpness: mean (lowest to highest) "
        "| adapted: for sharpness / for stain |"
    )
    print("|---|---|---|---|")
    rng = np.random.default_rng(0)
    for source in SOURCES:
        patches, labels = left_out_patches(source, ("val",))
        looks = bundle.item("stain_reference").looks(patches)
        labels, sharpness = np.array(labels), np.array(looks[2], float)
        kinds = {"any cells": np.arange(len(labels))}
        kinds.update({f"{name} alone": np.flatnonzero(labels == name) for name in sorted(set(labels))})
        whole = cells_look(bundle, looks)  # all as one lab, as hemseg evaluate classification takes them
        result["sources"][source] = {
            "all validation cells": {
                "cells": len(labels),
                "median_sharpness": round(float(np.nanmedian(sharpness)), 3),
                "adapted": None if whole is None else ("sharpness" if "sharpness" in whole else "stain"),
            }
        }
        low, high = ranges[source]
        print(
            f"| `{source}` ({low:.2f} to {high:.2f}) | all {len(labels)} validation cells | "
            f"{np.nanmedian(sharpness):.2f} | {result['sources'][source]['all validation cells']['adapted'] or 'no'} |"
        )
        for kind, rows in kinds.items():
            if len(rows) < cells:
                continue
            medians, for_sharpness, for_stain = [], 0, 0
            for _ in range(args.draws):
                drawn = rng.choice(rows, size=cells, replace=False)
                medians.append(float(np.nanmedian(sharpness[drawn])))
                look = cells_look(bundle, looks, drawn)
                for_sharpness += look is not None and "sharpness" in look
                for_stain += look is not None and "sharpness" not in look
            found = {
                "median_sharpness": [round(float(np.mean(medians)), 3), round(min(medians), 3), round(max(medians), 3)],
                "adapted_for_sharpness": for_sharpness,
                "adapted_for_stain": for_stain,
            }
            result["sources"][source][kind] = found
            mean, lowest, highest = found["median_sharpness"]
            print(
                f"| `{source}` ({low:.2f} to {high:.2f}) | {kind} | {mean:.2f} ({lowest:.2f} to {highest:.2f}) | "
                f"{for_sharpness} / {for_stain} of {args.draws} |",
                flush=True,
            )
    if args.fields:
        result["fields"] = {name: _fields(name, split, bundle) for name, split in FIELD_SETS}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
