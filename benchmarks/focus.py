"""How sharp each source's nuclei are at the classifier's patch scale, and a copy of a dataset blurred.

    HEMSEG_DATA=../shared/data python benchmarks/focus.py measure [--json F]
    HEMSEG_DATA=../shared/data python benchmarks/focus.py blur pbc 1.7 /tmp/pbc_blur --split val

``measure``: for up to 80 photos of each set (one fixed random draw), each brought to the
classifier's patch scale (the red-cell diameter of ``hemseg.data.RBC_DIAMETER_PX`` to the bundle's
``target_rbc_px``), the width of the nuclei's outline as the sigma of a Gaussian blur: a step of
contrast C blurred by sigma has a steepest slope of C / (sigma sqrt(2 pi)), so sigma is the contrast
across the outline (median brightness 4 to 8 px outside it minus 4 to 8 px inside) over the 95th
percentile of the brightness gradient within 2 px of it. The nucleus is the reference mask where the
set has one, and for the single-cell crop sets also the darker Otsu class of the crop's central half
(``pbc`` has no masks). The median (10th to 90th percentile) over the photos; larger is blurrier.

``blur``: writes a copy of a dataset whose every photo is blurred by a Gaussian of ``SIGMA`` pixels
of the photo, annotations linked (``hemseg evaluate classification COPY`` then scores a classifier
on the source's cells as a less sharp camera might show them; docs/benchmarks.md, "Focus").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from photo_sets import SETS, Change, central_dark_class, draw, main, spread
from scipy import ndimage
from skimage.transform import rescale

from hemseg.data import RBC_DIAMETER_PX, read_mask
from hemseg.data.transforms import EdgeGaussianSmooth, load_rgb
from hemseg.models import Bundle, bundle_dir


def edge_sigma(grey: np.ndarray, nucleus: np.ndarray) -> float:
    """The blur, as a Gaussian sigma in pixels, of the outline of ``nucleus`` in an (H, W) ``grey`` image."""
    inside = ndimage.distance_transform_edt(nucleus)
    outside = ndimage.distance_transform_edt(~nucleus)
    contrast = np.median(grey[(outside >= 4) & (outside < 8)]) - np.median(grey[(inside >= 4) & (inside < 8)])
    slope = np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1)) / 8
    steepest = np.quantile(slope[(inside > 0) & (inside <= 2) | (outside > 0) & (outside <= 2)], 0.95)
    return float(contrast / (steepest * np.sqrt(2 * np.pi)))


def measure(root: Path) -> dict:
    """Per set: the outline blur of the nuclei at patch scale, in patch pixels, by masks and by dark class."""
    target = Bundle(bundle_dir("hemseg_classification")).item("patches")["target_rbc_px"]
    results = {}
    print("| set | photos | outline blur, patch px: nucleus masks | central dark class (crops) |\n|---|---|---|---|")
    for name in SETS:
        samples, crops = draw(root, name)
        zoom = target / RBC_DIAMETER_PX[name]
        sigmas: dict[str, list[float]] = {"masks": [], "central": []}
        for sample in samples:
            image = load_rgb(sample.image).numpy().astype(np.float64)
            grey = rescale(image.mean(axis=0), zoom, anti_aliasing=zoom < 1)
            nuclei = {"masks": read_mask(sample.masks["nucleus"])} if "nucleus" in sample.masks else {}
            if crops:
                nuclei["central"] = central_dark_class(image)
            for method, nucleus in nuclei.items():
                nucleus = rescale(nucleus.astype(float), zoom, order=0, anti_aliasing=False) > 0.5
                if nucleus.sum() > 50:
                    sigmas[method].append(edge_sigma(grey, nucleus))
        results[name] = {"photos": len(samples), "zoom": zoom, **sigmas}
        print(f"| `{name}` | {len(samples)} | {spread(sigmas['masks'])} | {spread(sigmas['central'])} |")
    return results


def blur(sigma: float) -> Change:
    """A Gaussian blur of ``sigma`` pixels of the photo (its edge pixels repeated beyond it)."""
    smooth = EdgeGaussianSmooth(sigma=sigma)
    return lambda image: smooth(image).clamp(0.0, 1.0)


if __name__ == "__main__":
    main(__doc__, measure, "blur", "sigma", blur)
