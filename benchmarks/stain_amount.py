"""How much stain the white cells' nuclei hold in each source, and a copy of a dataset with its stain scaled.

    HEMSEG_DATA=../shared/data python benchmarks/stain_amount.py measure [--json F]
    HEMSEG_DATA=../shared/data python benchmarks/stain_amount.py scale bccd 3 /tmp/bccd_stain3
    HEMSEG_DATA=../shared/data python benchmarks/stain_amount.py scale pbc 0.5 /tmp/pbc_stain05 --split val

``measure``: for up to 80 photos of each set (one fixed random draw), the nuclei's optical density
over the bare slide (:func:`hemseg.data.transforms.slide_colour`), summed over the three channels:
the median over the nucleus pixels, then the median (10th to 90th percentile) over the photos. The
nucleus is the reference mask where the set has one, and, for the single-cell crop sets (whose cell
is in the middle), also the darker Otsu class of the photo's central half: ``pbc`` has no masks,
and the two agree on the crop sets that have both.

``scale``: writes a copy of a dataset whose every photo has ``FACTOR`` times its stain
(:class:`hemseg.data.transforms.StainAmount`), saved as PNG beside links to the original
annotations; ``hemseg evaluate classification COPY`` then scores a classifier on the source's
cells as another lab might have stained them (docs/benchmarks.md, "Stain amount").
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.filters import threshold_otsu

from hemseg.data import read_dataset, read_mask, samples_of_split
from hemseg.data.transforms import StainAmount, load_rgb, slide_colour

SETS = ("pbc", "jtsc_wbc", "all_idb2", "bccd")
PHOTOS = 80


def nucleus_density(image: np.ndarray, nucleus: np.ndarray) -> float:
    """Median optical density over the slide, summed over RGB, of an (3, H, W) image's ``nucleus`` pixels."""
    slide = slide_colour(image)[:, None, None]
    density = (-np.log(np.clip(image / slide, 1e-4, None))).clip(min=0).sum(axis=0)
    return float(np.median(density[nucleus]))


def central_dark_class(image: np.ndarray) -> np.ndarray:
    """The darker Otsu class of the image's central half (by summed channels): a crop's nucleus."""
    brightness = image.sum(axis=0)
    height, width = brightness.shape
    centre = np.zeros_like(brightness, dtype=bool)
    centre[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = True
    return centre & (brightness < threshold_otsu(brightness[centre]))


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{np.median(values):.2f} ({np.quantile(values, 0.1):.2f} to {np.quantile(values, 0.9):.2f})"


def measure(root: Path) -> dict:
    """Per set: the nuclei's optical density from the masks and from the central dark class."""
    results = {}
    print("| set | photos | nucleus optical density: masks | central dark class (crops) |\n|---|---|---|---|")
    for name in SETS:
        dataset = read_dataset(root / name)
        samples = random.Random(0).sample(list(dataset.samples), min(PHOTOS, len(dataset.samples)))
        crops = "crop" in dataset.info.get("kind", "")
        masked, central = [], []
        for sample in samples:
            image = load_rgb(sample.image).numpy().astype(np.float64)
            if "nucleus" in sample.masks and (nucleus := read_mask(sample.masks["nucleus"])).sum() > 20:
                masked.append(nucleus_density(image, nucleus))
            if crops:
                central.append(nucleus_density(image, central_dark_class(image)))
        results[name] = {"photos": len(samples), "masks": masked, "central": central}
        print(f"| `{name}` | {len(samples)} | {_spread(masked)} | {_spread(central)} |")
    return results


def scale(root: Path, name: str, factor: float, destination: Path, split: str = "all") -> None:
    """Write ``destination``: dataset ``name``'s photos of ``split`` with ``factor`` times their stain.

    Annotations are linked, and for one side of the split its ``labels.csv`` rows copied: score the
    copy with ``--split all``.
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
    change = StainAmount(factor)
    for sample in samples:
        rgb = change(load_rgb(sample.image)).numpy().transpose(1, 2, 0)
        Image.fromarray((rgb * 255).round().astype(np.uint8)).save(destination / "images" / f"{sample.id}.png")


def main() -> None:
    """Measure the sets' nucleus stain, or write a stain-scaled copy of one."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    measuring = commands.add_parser("measure")
    measuring.add_argument("--json", type=Path)
    scaling = commands.add_parser("scale")
    scaling.add_argument("dataset")
    scaling.add_argument("factor", type=float)
    scaling.add_argument("destination", type=Path)
    scaling.add_argument("--split", default="all", choices=["all", "train", "val"], help="photos to copy")
    args = parser.parse_args()
    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    if args.command == "measure":
        results = measure(root)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    else:
        scale(root, args.dataset, args.factor, args.destination, args.split)


if __name__ == "__main__":
    main()
