"""The white balance the segmentation's training photos span: slide red/green and blue/green ranges.

    HEMSEG_DATA=../shared/data python benchmarks/slide_colours.py

For every training-split photo of the sets in the segmentation bundle's ``train.yaml`` the bare
slide's colour is measured (:func:`hemseg.data.transforms.slide_colour`); the table gives each
set's range of red/green and blue/green, and the last line the overall range, which the bundle's
``inference.yaml`` takes as ``slide_red_green`` / ``slide_blue_green`` (photos outside it are
brought to its edge before segmentation, :class:`hemseg.data.transforms.ClampSlideColour`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml

from hemseg.data import split_datasets
from hemseg.data.transforms import load_rgb, slide_colour

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "hemseg_segmentation"


def main() -> None:
    """Print the per-set and overall slide colour ratio ranges of the training photos."""
    config = yaml.safe_load((BUNDLE / "configs" / "train.yaml").read_text(encoding="utf-8"))
    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    print("| set | photos | red/green | blue/green |\n|---|---|---|---|")
    ratios = []
    for dataset, samples in split_datasets(root, config["datasets"], "train", config["val_fraction"], config["seed"]):
        colours = np.array([slide_colour(load_rgb(sample.image)) for sample in samples])
        red_green, blue_green = colours[:, 0] / colours[:, 1], colours[:, 2] / colours[:, 1]
        ratios.append(np.stack([red_green, blue_green], axis=1))
        print(f"| `{dataset.name}` | {len(samples)} | {_span(red_green)} | {_span(blue_green)} |")
    both = np.concatenate(ratios)
    print(f"| all | {len(both)} | {_span(both[:, 0])} | {_span(both[:, 1])} |")


def _span(values: np.ndarray) -> str:
    return f"[{values.min():.3f}, {values.max():.3f}]"


if __name__ == "__main__":
    main()
