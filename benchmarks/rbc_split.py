r"""Red cells split at several distances: ``hemseg evaluate rbc``'s figures and the red cells found at each.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/rbc_split.py --distances 0.6 0.5 0.45 0.4 0.35 \
        --json benchmarks/results/candidates/rbc_split045/sweep.json

The validation photos of ``chula_rbc`` go through ``hemseg evaluate rbc``'s steps
(:func:`hemseg.models.evaluate_red_cells`: the ``hemseg_diagnose`` pipeline and the red-cell
classifier of the bundles in use, ``$HEMSEG_BUNDLES`` or the shipped ones, 8 views, the dataset's
red-cell diameter; the pipeline loaded once) with ``hemseg_diagnose``'s ``red_cells#split_distance``
replaced by each distance.
Per distance: accuracy, macro F1, ECE, points on a segmented red cell, the red cells found, and the
points on an instance that also holds a point of another class (touching cells left joined, of which
at most one class can be right).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path


def counting(find_cells: Callable, samples: list, tally: Counter) -> Callable:
    """``find_cells`` that also tallies the red cells found and the points on a cell of two classes.

    It is called photo by photo of ``samples``, in their order (as ``evaluate_red_cells`` calls it);
    a point counts when its instance also holds a point of another class.
    """
    from hemseg.data import RBC_CLASSES
    from hemseg.postproc import point_instances

    pending = iter(samples)

    def find(image, rbc_px):
        found = find_cells(image, rbc_px)
        kept = [p for p in next(pending).points if p.label in RBC_CLASSES]
        instances = point_instances(found.rbc, image.shape[:2], [(p.x, p.y) for p in kept], found.rbc_px)
        classes = defaultdict(set)
        for point, instance in zip(kept, instances, strict=True):
            classes[int(instance)].add(point.label)
        tally["red_cells"] += int(found.rbc.max())
        tally["points_on_mixed_cells"] += sum(1 for i in instances if i and len(classes[int(i)]) > 1)
        return found

    return find


def main() -> None:
    """Sweep, print and write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distances", type=float, nargs="+", default=[0.6, 0.45], help="in red-cell diameters")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import RBC_CLASSES, read_dataset, samples_of_split
    from hemseg.models import Bundle, bundle_dir, cache_dir, evaluate_red_cells, has_onnxruntime, load_analyser

    dataset_dir = Path(os.environ.get("HEMSEG_DATA", "../shared/data")) / "chula_rbc"
    # the photos evaluate_red_cells segments, in its order: those with a point of a class
    samples = [
        s for s in samples_of_split(read_dataset(dataset_dir), "val") if any(p.label in RBC_CLASSES for p in s.points)
    ]
    network = Bundle(bundle_dir("hemseg_rbc_classification"))
    if has_onnxruntime():  # as hemseg evaluate rbc runs it
        network.run_on_onnx(cache_dir() / "onnx", int(network.item("patch_size")), 4)
    analyser, classifier = load_analyser(onnx=True), network.item("classifier")  # loaded once
    figures = {}
    for distance in args.distances:
        analyser.red_cells = dataclasses.replace(analyser.red_cells, split_distance=distance)
        tally: Counter = Counter()
        result = evaluate_red_cells(
            dataset_dir,
            counting(analyser.find_cells, samples, tally),
            classifier,
            float(network.item("target_rbc_px")),
            int(network.item("patch_size")),
            split="val",
        )
        figures[str(distance)] = {
            **{k: result[k] for k in ("points", "matched", "accuracy", "macro_f1", "ece")},
            "interval": result["interval"],
            **tally,
        }
        print(distance, json.dumps(figures[str(distance)]), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
