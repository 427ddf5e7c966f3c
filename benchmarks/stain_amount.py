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

from pathlib import Path

import numpy as np
from photo_sets import SETS, central_dark_class, draw, main, spread, write_copy

from hemseg.data import read_mask
from hemseg.data.transforms import StainAmount, load_rgb, slide_colour


def nucleus_density(image: np.ndarray, nucleus: np.ndarray) -> float:
    """Median optical density over the slide, summed over RGB, of an (3, H, W) image's ``nucleus`` pixels."""
    slide = slide_colour(image)[:, None, None]
    density = (-np.log(np.clip(image / slide, 1e-4, None))).clip(min=0).sum(axis=0)
    return float(np.median(density[nucleus]))


def measure(root: Path) -> dict:
    """Per set: the nuclei's optical density from the masks and from the central dark class."""
    results = {}
    print("| set | photos | nucleus optical density: masks | central dark class (crops) |\n|---|---|---|---|")
    for name in SETS:
        samples, crops = draw(root, name)
        masked, central = [], []
        for sample in samples:
            image = load_rgb(sample.image).numpy().astype(np.float64)
            if "nucleus" in sample.masks and (nucleus := read_mask(sample.masks["nucleus"])).sum() > 20:
                masked.append(nucleus_density(image, nucleus))
            if crops:
                central.append(nucleus_density(image, central_dark_class(image)))
        results[name] = {"photos": len(samples), "masks": masked, "central": central}
        print(f"| `{name}` | {len(samples)} | {spread(masked)} | {spread(central)} |")
    return results


def scale(root: Path, name: str, factor: float, destination: Path, split: str = "all") -> None:
    """Write ``destination``: dataset ``name``'s photos of ``split`` with ``factor`` times their stain.

    Annotations are linked, and for one side of the split its ``labels.csv`` rows copied: score the
    copy with ``--split all``.
    """
    write_copy(root, name, StainAmount(factor), destination, split)


if __name__ == "__main__":
    main(__doc__, measure, "scale", "factor", StainAmount)
