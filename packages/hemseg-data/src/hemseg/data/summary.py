"""What a dataset holds: counts of images, masks, labels and boxes, and measured cell sizes."""

from __future__ import annotations

from collections import Counter
from statistics import median

import numpy as np

from hemseg.data.layout import Dataset
from hemseg.data.voc import read_boxes


def summarize(dataset: Dataset) -> dict:
    """Count what a dataset holds.

    Returns:
        A JSON-ready dict: ``name``, ``images``, ``structures`` (annotated), ``masks`` (images with a
        mask, per annotated structure), ``labels`` (images per label, single-label images only),
        ``multi_label`` and ``unlabelled`` image counts, ``box_files`` (images with a VOC file),
        ``boxes`` (objects per class in VOC files)
        and ``groups`` (distinct source groups).

    """
    masks = {s: sum(s in sample.masks for sample in dataset.samples) for s in dataset.structures}
    labels = Counter(sample.labels[0] for sample in dataset.samples if len(sample.labels) == 1)
    boxes: Counter[str] = Counter()
    for sample in dataset.samples:
        if sample.boxes is not None:
            boxes.update(box.name for box in read_boxes(sample.boxes))
    return {
        "name": dataset.name,
        "images": len(dataset.samples),
        "structures": list(dataset.structures),
        "masks": masks,
        "labels": dict(sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))),
        "multi_label": sum(len(sample.labels) > 1 for sample in dataset.samples),
        "unlabelled": sum(not sample.labels for sample in dataset.samples),
        "box_files": sum(sample.boxes is not None for sample in dataset.samples),
        "boxes": dict(sorted(boxes.items())),
        "groups": len({sample.group for sample in dataset.samples}),
    }


def _whole_components(mask: np.ndarray, min_area: int) -> tuple[np.ndarray, np.ndarray]:
    """Equivalent diameters of the mask's whole components, and which look like one round cell.

    Components touching the border or under ``min_area`` pixels are left out. "One round cell":
    solidity > 0.93 and eccentricity < 0.6 (clumps and overlapping cells, which inflate a median,
    are not).
    """
    from skimage.measure import label, regionprops_table

    properties = ("area", "bbox", "equivalent_diameter_area", "solidity", "eccentricity")
    table = regionprops_table(label(mask), properties=properties)
    height, width = mask.shape
    keep = (
        (table["area"] >= min_area)
        & (table["bbox-0"] > 0)
        & (table["bbox-1"] > 0)
        & (table["bbox-2"] < height)
        & (table["bbox-3"] < width)
    )
    single_round = (table["solidity"] > 0.93) & (table["eccentricity"] < 0.6)
    return table["equivalent_diameter_area"][keep], single_round[keep]


def measure_cell_sizes(dataset: Dataset, max_images: int = 40, min_area: int = 100) -> dict[str, float]:
    """Median cell diameter in pixels per structure, from masks and VOC boxes.

    Mask sizes are equivalent diameters of whole connected components (border-touching ones are left
    out); for red cells also ``rbc_single``, the median over components that look like one round
    cell, without the clumps that pull the plain median up. Box sizes (``rbc_box``, ``wbc_box``,
    ``platelet_box``) are the mean of width and height of boxes not marked truncated. At most
    ``max_images`` images, spread evenly, are read per structure.

    Raises:
        LayoutError: a mask cannot be read.

    """
    from hemseg.data.masks import read_mask

    sizes: dict[str, float] = {}
    for structure in dataset.structures:
        samples = [s for s in dataset.samples if structure in s.masks]
        step = max(1, len(samples) // max_images)
        diameters: list[float] = []
        single: list[float] = []
        for sample in samples[::step][:max_images]:
            whole, single_round = _whole_components(read_mask(sample.masks[structure]), min_area)
            diameters += [float(d) for d in whole]
            if structure == "rbc":
                single += [float(d) for d in whole[single_round]]
        if diameters:
            sizes[structure] = round(median(diameters), 1)
        if single:
            sizes["rbc_single"] = round(median(single), 1)
    box_diameters: dict[str, list[float]] = {}
    for sample in dataset.samples:
        if sample.boxes is not None:
            for box in read_boxes(sample.boxes):
                if not box.truncated:
                    key = f"{box.name.lower().removesuffix('s')}_box"
                    box_diameters.setdefault(key, []).append(box.diameter)
    for key, values in sorted(box_diameters.items()):
        sizes[key] = round(median(values), 1)
    return sizes


def measure_nuclei(dataset: Dataset, min_area: int = 100) -> dict[str, dict[str, float]]:
    """How the reference masks draw nuclei, per label: the annotation convention of a dataset.

    For each white cell (connected component of the ``wbc`` mask, at least ``min_area`` pixels) of a
    single-label image with ``wbc`` and ``nucleus`` masks: the share of the cell's area its nucleus
    covers and the nucleus's solidity (area over convex-hull area; 1 for a nucleus drawn as one
    convex outline, lower where the lobes are traced). Medians over the cells of each label.

    Returns:
        ``{label: {"cells", "nucleus_share", "nucleus_solidity"}}``, labels sorted; empty when the
        dataset annotates no nuclei.

    Raises:
        LayoutError: a mask cannot be read.

    """
    from skimage.measure import label, regionprops

    from hemseg.data.masks import read_mask

    figures: dict[str, list[tuple[float, float]]] = {}
    for sample in dataset.samples:
        if len(sample.labels) != 1 or not {"wbc", "nucleus"} <= sample.masks.keys():
            continue
        nucleus = read_mask(sample.masks["nucleus"])
        for cell in regionprops(label(read_mask(sample.masks["wbc"]))):
            top, left, bottom, right = cell.bbox
            inside = nucleus[top:bottom, left:right] & cell.image
            if cell.area >= min_area and inside.any():
                (hull,) = regionprops(inside.astype(np.uint8))
                figures.setdefault(sample.labels[0], []).append((inside.sum() / cell.area, hull.solidity))
    return {
        name: {
            "cells": len(values),
            "nucleus_share": round(median(v[0] for v in values), 3),
            "nucleus_solidity": round(median(v[1] for v in values), 3),
        }
        for name, values in sorted(figures.items())
    }
