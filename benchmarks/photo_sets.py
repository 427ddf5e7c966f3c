"""What the benchmarks that measure the sets' photos share.

A fixed draw of photos, a crop's nucleus, a changed copy of a dataset, and their command line
(``measure``, or write a changed copy).

Used by ``benchmarks/stain_amount.py`` and ``benchmarks/focus.py``; not a script of its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage.filters import threshold_otsu

from hemseg.data import Sample, read_dataset, samples_of_split
from hemseg.data.transforms import load_rgb

SETS = ("pbc", "jtsc_wbc", "all_idb2", "bccd")
PHOTOS = 80

Change = Callable[[torch.Tensor], torch.Tensor]


def draw(root: Path, name: str) -> tuple[list[Sample], bool]:
    """Up to 80 photos of dataset ``name``, one fixed random draw, and whether it is a set of single-cell crops."""
    dataset = read_dataset(root / name)
    samples = random.Random(0).sample(list(dataset.samples), min(PHOTOS, len(dataset.samples)))
    return samples, "crop" in dataset.info.get("kind", "")


def central_dark_class(image: np.ndarray) -> np.ndarray:
    """The darker Otsu class of an (3, H, W) image's central half (by summed channels): a crop's nucleus."""
    brightness = image.sum(axis=0)
    height, width = brightness.shape
    centre = np.zeros_like(brightness, dtype=bool)
    centre[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = True
    return centre & (brightness < threshold_otsu(brightness[centre]))


def spread(values: list[float]) -> str:
    """Median (10th to 90th percentile) of ``values``, or "-" for none."""
    if not values:
        return "-"
    return f"{np.median(values):.2f} ({np.quantile(values, 0.1):.2f} to {np.quantile(values, 0.9):.2f})"


def write_copy(root: Path, name: str, change: Change, destination: Path, split: str = "all") -> None:
    """Write ``destination``: dataset ``name``'s photos of ``split``, each passed through ``change``.

    ``change`` takes and returns a (3, H, W) image in [0, 1]; the photos are saved as PNG. Annotations
    are linked, and for one side of the split its ``labels.csv`` rows copied: score the copy with
    ``--split all``.
    """
    source = root / name
    samples = samples_of_split(read_dataset(source), split)
    (destination / "images").mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name not in ("images", "labels.csv") and not (destination / entry.name).exists():
            os.symlink(entry.resolve(), destination / entry.name)
    if (source / "labels.csv").exists():  # the rows of the photos copied
        ids = {sample.id for sample in samples}
        with open(source / "labels.csv", newline="") as table, open(destination / "labels.csv", "w", newline="") as out:
            rows = csv.reader(table)
            csv.writer(out, lineterminator="\n").writerows([next(rows), *(row for row in rows if row[0] in ids)])
    for sample in samples:
        rgb = torch.as_tensor(change(load_rgb(sample.image))).numpy().transpose(1, 2, 0)
        Image.fromarray((rgb * 255).round().astype(np.uint8)).save(destination / "images" / f"{sample.id}.png")


def main(doc: str, measure: Callable[[Path], dict], verb: str, amount: str, change: Callable[[float], Change]) -> None:
    """The command line: ``measure [--json F]``, or ``VERB DATASET AMOUNT DESTINATION [--split S]``.

    ``measure(root)`` prints its table and returns what ``--json`` writes; ``change(amount)`` is the
    change the copy's photos go through.
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("measure").add_argument("--json", type=Path)
    copying = commands.add_parser(verb)
    copying.add_argument("dataset")
    copying.add_argument(amount, type=float)
    copying.add_argument("destination", type=Path)
    copying.add_argument("--split", default="all", choices=["all", "train", "val"], help="photos to copy")
    args = parser.parse_args()
    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    if args.command == "measure":
        results = measure(root)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    else:
        write_copy(root, args.dataset, change(getattr(args, amount)), args.destination, args.split)
