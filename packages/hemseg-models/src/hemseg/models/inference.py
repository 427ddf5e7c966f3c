"""Folder in, folder out: the network bundles' own inference runs (masks per image, classes per crop).

An image that cannot be read gets a one-line error on stderr and no output; the others are still
processed, then :class:`RuntimeError` says how many failed (so a bundle run exits non-zero). Every
output file is written to a temporary name and renamed.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np

from hemseg.data.files import replacing


def list_images(input_dir: str | Path) -> list[Path]:
    """The image files of a folder, sorted.

    Raises:
        FileNotFoundError: the folder does not exist or holds no images.
    """
    from hemseg.data.layout import IMAGE_SUFFIXES

    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"{input_dir}: no such directory")
    images = sorted(p for p in input_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FileNotFoundError(f"{input_dir}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return images


def read_image_or_report(path: Path):
    """The image as (3, H, W) RGB in [0, 1], or None after a one-line error on stderr."""
    from hemseg.data.transforms import load_rgb

    try:
        return load_rgb(path)
    except Exception as err:
        print(f"hemseg: error: {path}: cannot read image ({type(err.__cause__ or err).__name__})", file=sys.stderr)
        return None


def segment_folder(
    segmenter,
    input_dir: str | Path,
    output_dir: str | Path,
    structures: Iterable[str],
    mask_rules: Mapping[str, Mapping[str, object]],
    rbc_diameter_px: float | None,
) -> int:
    """Write ``<output_dir>/<stem>_<structure>.png`` (0/255) for every image in ``input_dir``.

    Returns:
        The number of images segmented.
    """
    from PIL import Image

    from hemseg.postproc import postprocess

    images = list_images(input_dir)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    structures = list(structures)
    failed = 0
    for path in images:
        image = read_image_or_report(path)
        if image is None:
            failed += 1
            continue
        probabilities = segmenter.probabilities(image, rbc_diameter_px)
        scale = rbc_diameter_px or segmenter.target_rbc_px
        for structure, mask in postprocess(probabilities, structures, mask_rules, scale).items():
            with replacing(output_dir / f"{path.stem}_{structure}.png") as tmp:
                Image.fromarray(mask.astype(np.uint8) * 255).save(tmp, format="PNG")
    if failed:
        raise RuntimeError(f"{input_dir}: {failed} of {len(images)} images could not be read")
    return len(images)


def _rows_to_csv(
    input_dir: str | Path, output_file: str | Path, header: list[str], rows: Callable[[Path], list[list] | None]
) -> int:
    """Write ``header`` and the ``rows`` of every image of ``input_dir`` to one CSV (temp file, then rename).

    ``rows(path)`` returns None for an image that could not be read (it has said why on stderr).

    Raises:
        RuntimeError: some images could not be read (the others' rows are written).
    """
    images = list_images(input_dir)
    output_file = Path(output_file)
    output_file.parent.mkdir(parents=True, exist_ok=True)
    failed = 0
    with replacing(output_file) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for path in images:
            written = rows(path)
            failed += written is None
            writer.writerows(written or [])
    if failed:
        raise RuntimeError(f"{input_dir}: {failed} of {len(images)} images could not be read")
    return len(images)


def classify_folder(
    patcher,
    classifier,
    input_dir: str | Path,
    output_file: str | Path,
    rbc_diameter_px: float,
    review_below: float,
) -> int:
    """Write one CSV row per image of ``input_dir``: the class of the white cell nearest its centre.

    Columns: ``image``, ``class``, ``probability``, ``review`` (top probability below
    ``review_below``, or no white cell found), ``found``, then one probability column per class.

    Returns:
        The number of images classified.
    """
    classes = list(classifier.classes)

    def rows(path: Path) -> list[list] | None:
        image = read_image_or_report(path)
        if image is None:
            return None
        patch, found = patcher.central_patch(image, rbc_diameter_px)
        probabilities = classifier.probabilities(patch[None])[0]
        best = int(classifier.decide(probabilities)[0])
        review = (not found) or probabilities[best] < review_below
        return [
            [path.name, classes[best], f"{probabilities[best]:.4f}", int(review), int(found)]
            + [f"{p:.4f}" for p in probabilities]
        ]

    return _rows_to_csv(input_dir, output_file, ["image", "class", "probability", "review", "found", *classes], rows)


def classify_red_cells_folder(
    find_cells,
    classifier,
    input_dir: str | Path,
    output_file: str | Path,
    rbc_diameter_px: float | None,
    target_rbc_px: float,
    patch_size: int,
) -> int:
    """Write one CSV row per red cell of every photo of ``input_dir``: its morphology class.

    ``find_cells`` is :meth:`hemseg.diagnosis.SmearAnalyser.find_cells` (the red cells ``hemseg
    diagnose`` counts); ``rbc_diameter_px`` None estimates each photo's scale. Columns: ``image``,
    ``cell`` (instance label), ``x``, ``y`` (centroid, photo pixels), ``class``, ``probability``, then
    one probability column per class.

    Returns:
        The number of photos classified.
    """
    from hemseg.data import read_smear
    from hemseg.models.red_cells import classify_red_cells

    classes = list(classifier.classes)

    def rows(path: Path) -> list[list] | None:
        try:
            rgb = read_smear(path)
        except ValueError as err:
            print(f"hemseg: error: {path}: {err}", file=sys.stderr)
            return None
        found, table, probabilities = classify_red_cells(
            find_cells, classifier, rgb, rbc_diameter_px, target_rbc_px, patch_size
        )
        sy, sx = rgb.shape[0] / found.rbc.shape[0], rgb.shape[1] / found.rbc.shape[1]
        return [
            [
                path.name,
                int(table["label"][row]),
                f"{(table['centroid-1'][row] + 0.5) * sx - 0.5:.1f}",
                f"{(table['centroid-0'][row] + 0.5) * sy - 0.5:.1f}",
                classes[best],
                f"{probabilities[row][best]:.4f}",
            ]
            + [f"{p:.4f}" for p in probabilities[row]]
            for row, best in enumerate(classifier.decide(probabilities))
        ]

    return _rows_to_csv(input_dir, output_file, ["image", "cell", "x", "y", "class", "probability", *classes], rows)
