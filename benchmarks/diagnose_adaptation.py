r"""``hemseg diagnose`` on one dataset as one specimen, with and without adapting to its stain.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/diagnose_adaptation.py jtsc_wbc \
        --classification out/loso_classification/baseline/bundles/jtsc_wbc/hemseg_classification \
        --json benchmarks/results/loso_classification/baseline/jtsc_wbc-diagnose.json

Copies the photos of a labelled single-cell dataset (``--split``) into one folder, one specimen,
and runs ``hemseg diagnose`` on it twice, ``--no-adapt`` and ``--adapt``, at the dataset's red-cell
diameter, with a classification bundle (default the shipped one; a leave-one-out arm's copy from
``scripts/leave-one-source-out-classification.sh`` scores a lab it never saw) and the shipped
segmentation. A photo counts as right when the commonest class of its white cells is its label;
``seconds`` is each run's wall time (loading the networks included).
``--unfamiliar-threshold -1`` makes the stain check find every stain unfamiliar (the adaptation's
cost on a stain the classifier knows).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def _score(out: Path, labels: dict[str, str]) -> dict:
    """Share of photos whose commonest white-cell class is the label, and what the run recorded."""
    right, none = 0, 0
    adaptation = None
    for stem, label in labels.items():
        white = [r["class"] for r in csv.DictReader((out / stem / "cells.csv").open()) if r["kind"] == "wbc"]
        none += not white
        right += bool(white) and Counter(white).most_common(1)[0][0] == label
        adaptation = json.loads((out / stem / "report.json").read_text())["adaptation"]
    return {"accuracy": right / len(labels), "right": right, "no_white_cell": none, "adaptation": adaptation}


def main() -> None:
    """Run both, print and write the scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a labelled single-cell dataset under $HEMSEG_DATA")
    parser.add_argument("--split", default="all", choices=["all", "train", "val"])
    parser.add_argument("--classification", type=Path, help="hemseg_classification bundle (default: shipped)")
    parser.add_argument("--unfamiliar-threshold", type=float, help="replace the stain reference's threshold")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import CELL_CLASSES, RBC_DIAMETER_PX, read_dataset, samples_of_split
    from hemseg.models import bundle_dir

    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    samples = [s for s in samples_of_split(read_dataset(data / args.dataset), args.split) if len(s.labels) == 1]
    samples = [s for s in samples if s.labels[0] in CELL_CLASSES]
    result = {"dataset": args.dataset, "split": args.split, "photos": len(samples)}
    result["classification"] = str(args.classification or "shipped")
    result["unfamiliar_threshold"] = args.unfamiliar_threshold
    hemseg = str(Path(sys.executable).parent / "hemseg")
    with tempfile.TemporaryDirectory() as tmp:
        bundles = Path(tmp) / "bundles"
        shutil.copytree(
            bundle_dir("hemseg_diagnose"), bundles / "hemseg_diagnose", ignore=shutil.ignore_patterns("eval")
        )
        classification = args.classification or bundle_dir("hemseg_classification")
        shutil.copytree(classification, bundles / "hemseg_classification", ignore=shutil.ignore_patterns("runs"))
        for name in ("hemseg_segmentation", "hemseg_rbc_classification"):
            (bundles / name).symlink_to(bundle_dir(name).resolve())
        if args.unfamiliar_threshold is not None:
            reference = bundles / "hemseg_classification" / "models" / "stain_reference.json"
            reference.write_text(
                json.dumps({**json.loads(reference.read_text()), "threshold": args.unfamiliar_threshold})
            )
        specimen = Path(tmp) / args.dataset
        specimen.mkdir()
        for sample in samples:
            shutil.copy(sample.image, specimen / sample.image.name)
        labels = {s.image.stem: s.labels[0] for s in samples}
        for option in ("--no-adapt", "--adapt"):
            out = Path(tmp) / option
            command = [hemseg, "diagnose", str(specimen), "--out", str(out), "--no-red-cells", option]
            command += ["--rbc-diameter-px", str(RBC_DIAMETER_PX[args.dataset])]
            start = time.perf_counter()
            subprocess.run([*command, "--bundle", str(bundles / "hemseg_diagnose")], check=True)
            seconds = time.perf_counter() - start
            result[option.removeprefix("--")] = {**_score(out, labels), "seconds": round(seconds, 1)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
