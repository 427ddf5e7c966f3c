"""Scoring a segmenter and a classifier on any dataset in the hemseg layout (``hemseg evaluate``).

The networks are given (built from a bundle, e.g. :class:`hemseg.models.Bundle`), so a team can score
its own. A dataset's red-cell diameter comes from :data:`hemseg.data.RBC_DIAMETER_PX`, a given value,
``"auto"``: the pipeline's own estimate per image (:func:`hemseg.postproc.estimate_rbc_diameter`), or
``"shared"``: one scale for every image, the median of their own estimates (one analyser's crops, as
``hemseg diagnose --shared-scale`` takes a specimen's photos; the default for a dataset not in the table).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from hemseg.models.metrics import (
    classification_scores,
    group_accuracy,
    group_bootstrap,
    mask_metrics,
    mean_ignoring_nan,
    shared_cell_scores,
)

METRICS = ("dice", "iou", "precision", "recall", "accuracy")
#: ``rbc_diameter_px`` value that asks for the pipeline's own estimate per image.
AUTO = "auto"
#: ``rbc_diameter_px`` value that asks for one scale for all images: the median of their own estimates.
SHARED = "shared"


class ScaleChoice:
    """Where each image's red-cell diameter comes from: given, the dataset table, estimated per image or shared.

    With :data:`SHARED`, :meth:`share` first takes every image's own first reading (as :data:`AUTO`
    does; images whose diameter could only be assumed are left out) and their median becomes the
    scale of all of them; where no image gives a reading, each is estimated on its own.

    Args:
        dataset: the dataset's name (looked up in :data:`hemseg.data.RBC_DIAMETER_PX`).
        rbc_diameter_px: a diameter, :data:`AUTO`, :data:`SHARED`, or None (the table; :data:`SHARED` for a
            dataset not in it: one dataset's images are taken to come from one source at one magnification).
        segmenter: the segmenter that estimates the scale (``auto``, ``shared``).
        structures, mask_rules: its output channels and post-processing.
        scale: the ``hemseg_diagnose`` bundle's ``scale`` rules (:class:`hemseg.diagnosis.ScaleRules`: their
            ``estimate``).
    """

    def __init__(
        self,
        dataset: str,
        rbc_diameter_px: float | str | None,
        segmenter,
        structures: Sequence[str],
        mask_rules: Mapping,
        scale,
    ) -> None:
        from hemseg.data import RBC_DIAMETER_PX

        if rbc_diameter_px is None:
            rbc_diameter_px = RBC_DIAMETER_PX.get(dataset, SHARED)  # a dataset folder: one source, one scale
            self.source = "table" if rbc_diameter_px != SHARED else "shared (not in the table)"
        else:
            self.source = {AUTO: "estimated per image", SHARED: "shared"}.get(rbc_diameter_px, "given")
        estimated = rbc_diameter_px in (AUTO, SHARED)
        if not estimated and not _positive(rbc_diameter_px):
            raise ValueError(f"the red-cell diameter must be positive, 'auto' or 'shared', not {rbc_diameter_px!r}")
        if estimated and scale is None:
            raise ValueError("estimating the scale needs the hemseg_diagnose bundle's scale rules")
        self.shared = rbc_diameter_px == SHARED
        self.fixed = None if estimated else float(rbc_diameter_px)
        self.segmenter, self.structures, self.mask_rules, self.scale = segmenter, structures, mask_rules, scale
        self.estimates: list[float] = []
        self.readings = 0

    def _reading(self, image: np.ndarray) -> tuple[float, str]:
        rgb = (np.moveaxis(np.asarray(image), 0, -1) * 255.0).round().clip(0, 255).astype(np.uint8)
        return self.scale.estimate(rgb, self.segmenter, self.structures, self.mask_rules)

    def share(self, images: Iterable[np.ndarray]) -> None:
        """With :data:`SHARED`: the median of the (3, H, W) ``images``' own first readings becomes their scale."""
        if not self.shared:
            return
        readings = [px for px, source in map(self._reading, images) if source != "assumed"]
        self.readings = len(readings)
        if readings:
            self.fixed = statistics.median(readings)
        else:
            self.source = "estimated per image (no image gave a reading to share)"

    def __call__(self, image: np.ndarray) -> float:
        """The red-cell diameter (px) of one (3, H, W) image in [0, 1]."""
        if self.fixed is not None:
            return self.fixed
        estimate, _ = self._reading(image)
        self.estimates.append(estimate)
        return estimate

    def summary(self) -> dict:
        """``rbc_diameter_px`` (a number, ``auto`` or ``shared``), ``scale_source`` and the median estimate.

        The median is that of the per-image estimates (``auto``) or the shared scale, with ``scale_readings``
        the number of images whose readings it is the median of (``shared``).
        """
        if self.shared:
            result: dict = {"rbc_diameter_px": SHARED, "scale_source": self.source, "scale_readings": self.readings}
            if self.readings:
                result["rbc_diameter_px_median"] = self.fixed
        else:
            result = {"rbc_diameter_px": self.fixed if self.fixed is not None else AUTO, "scale_source": self.source}
        if self.estimates:
            result["rbc_diameter_px_median"] = statistics.median(self.estimates)
        return result


def _positive(value: object) -> bool:
    try:
        return float(value) > 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _loaded(path: str | Path, image_transform: Callable | None):
    """The image as (3, H, W) RGB in [0, 1], passed through ``image_transform`` when one is given."""
    from hemseg.data.transforms import load_rgb

    image = load_rgb(path)
    return image_transform(image) if image_transform else image


def evaluate_segmentation(
    dataset_dir: str | Path,
    segmenter,
    structures: Sequence[str],
    mask_rules: Mapping,
    split_distance: float,
    split: str = "all",
    rbc_diameter_px: float | str | None = None,
    central_cell: bool = False,
    image_transform: Callable | None = None,
    scale=None,
) -> dict:
    """Segment every image of a dataset (or one side of its split) and score each annotated structure.

    Masks are thresholded and post-processed exactly as in inference (``mask_rules``) and compared
    with the reference masks at the image's own resolution; per-image scores are averaged over the
    images that have that structure's mask (NaN scores, e.g. Dice of two empty masks, are left out).
    ``ms_per_image`` is the mean time in zooming and the network.

    With ``central_cell`` (for crops whose references annotate only the cell in the middle, as in
    ALL-IDB2), the result also holds ``central_cell``: the same scores of the white cell nearest
    the centre alone (touching cells split, ``split_distance``) and of the nucleus inside it, so that
    neighbouring cells at the crop's edge, found but not annotated, do not count as errors.
    ``per_label`` holds the same scores (the central cell's with ``central_cell``) by the label of
    each single-label image, so that a class the masks fail (say, lobed nuclei) shows.

    ``image_transform``, when given, changes each loaded (3, H, W) image in [0, 1] before it is
    segmented (robustness checks: ``benchmarks/robustness.py``); the reference masks stay as they are.
    ``rbc_diameter_px`` and ``scale`` as in :class:`ScaleChoice`.

    Raises:
        LayoutError: the folder is not a dataset.
        ValueError: the scale cannot be had.
    """
    from hemseg.data import read_dataset, read_mask, samples_of_split
    from hemseg.postproc import central_cell as central
    from hemseg.postproc import postprocess, split_cells

    dataset = read_dataset(dataset_dir)
    structures = list(structures)
    choice = ScaleChoice(dataset.name, rbc_diameter_px, segmenter, structures, mask_rules, scale)
    scored = [s for s in dataset.structures if s in structures]
    samples = [s for s in samples_of_split(dataset, split) if any(k in s.masks for k in scored)]
    scores = {s: {m: [] for m in METRICS} for s in scored}
    central_scored = [s for s in scored if s in ("wbc", "nucleus")] if central_cell else []
    central_scores = {s: {m: [] for m in METRICS} for s in central_scored}
    label_scores: dict[str, dict] = {}
    times = []
    choice.share(_loaded(s.image, image_transform) for s in samples)
    for sample in samples:
        image = _loaded(sample.image, image_transform)
        rbc_px = choice(image)
        probabilities = segmenter.probabilities(image, rbc_px)
        times.append(segmenter.last_network_ms)
        masks = postprocess(probabilities, structures, mask_rules, rbc_px)
        truths = {s: read_mask(sample.masks[s]) for s in scored if s in sample.masks}
        _add_scores(scores, masks, truths)
        label_masks = masks
        if central_scored:
            cell = central(split_cells(masks["wbc"], rbc_px, split_distance))
            label_masks = {"wbc": cell, "nucleus": masks["nucleus"] & cell} if "nucleus" in masks else {"wbc": cell}
            _add_scores(central_scores, label_masks, truths)
        if len(sample.labels) == 1:
            if sample.labels[0] not in label_scores:
                label_scores[sample.labels[0]] = {s: {m: [] for m in METRICS} for s in (central_scored or scored)}
            _add_scores(label_scores[sample.labels[0]], label_masks, truths)
    result = {
        "dataset": dataset.name,
        "images": len(samples),
        "split": split,
        **choice.summary(),
        "structures": _mean_scores(scores),
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }
    if central_cell:
        result["central_cell"] = _mean_scores(central_scores)
    result["per_label"] = {label: _mean_scores(label_scores[label]) for label in sorted(label_scores)}
    return result


def _add_scores(scores: dict, masks: dict, truths: dict) -> None:
    """Append one image's metrics to ``scores`` for each scored structure it has a reference mask of."""
    for structure, lists in scores.items():
        if structure in truths:
            for name, value in mask_metrics(masks[structure], truths[structure]).items():
                lists[name].append(value)


def _mean_scores(scores: dict) -> dict:
    """Per structure: each metric's mean over images (NaN left out) and the number of images."""
    return {
        s: {**{m: mean_ignoring_nan(v) for m, v in lists.items()}, "images": len(lists["dice"])}
        for s, lists in scores.items()
    }


def evaluate_classification(
    dataset_dir: str | Path,
    patcher,
    classifier,
    split: str = "all",
    rbc_diameter_px: float | str | None = None,
    image_transform: Callable | None = None,
    scale=None,
    review_below: float | None = None,
    stain_reference=None,
    adapt_layers: int | None = None,
    adapt_unfamiliar_share: float = 0.5,
    adapt_min_cells: int = 0,
    adapt_least_share: float | None = None,
    adapt_zooms: Sequence[float] | None = None,
) -> dict:
    """Classify the central cell of every single-label crop of a dataset (or one side of its split).

    Each image goes through the steps ``hemseg diagnose`` uses: segmentation, the white cell nearest the
    centre, its patch (``patcher``, a :class:`hemseg.postproc.CellPatcher`), the ``classifier``. Images
    with several labels (or none) are skipped and counted; labels that are not cell classes (ALL-IDB1's
    image-level ``all``) too. Scores are those of :func:`hemseg.models.metrics.classification_scores`,
    with ``interval``: their 95 % intervals when the split's groups are drawn again
    (:func:`hemseg.models.metrics.group_bootstrap`); ``ms_per_image`` is the mean time of segmentation
    plus classification networks, ``not_found`` the images where no white cell was segmented (classified
    on a centred patch). ``image_transform``, ``rbc_diameter_px`` and ``scale`` as in
    :func:`evaluate_segmentation`. With ``review_below`` (the classification bundle's), the result also
    holds ``review_share``: the share of cells that ``hemseg diagnose`` marks for review, those whose
    top probability is below it (``low_confidence_share``) and, with ``stain_reference`` (a
    :class:`hemseg.postproc.StainReference`, the bundle's), those whose stain is unlike every training
    source's (``unfamiliar_share``).

    ``adapt_layers`` N treats the crops as the cells of one lab never seen: every patch is cut first
    and, when there are at least ``adapt_min_cells`` and at least ``adapt_unfamiliar_share`` of them
    have an unfamiliar stain, or their median sharpness lies outside the range of the training
    source of their stain (:func:`hemseg.postproc.unfamiliar_look`; without ``stain_reference``:
    always), as ``hemseg diagnose`` adapts a specimen (:mod:`hemseg.diagnosis.adaptation`), the
    classifier's first N batch-norm layers take their statistics from them
    (:meth:`hemseg.models.Classifier.adapted`) before any is classified; ``adapted_layers`` says
    whether (N) or not (0), and ``unfamiliar_sharpness`` holds the sharpness found where it was
    the reason (every cell then counts in ``review_share``). With ``adapt_least_share`` as well, the
    adapted classifier also takes the crops' own mix of classes
    (:meth:`hemseg.models.Classifier.with_specimen_mix`), written as ``class_mix``; with
    ``adapt_zooms``, the magnification it is adapted at is chosen among them for the crops, written
    as ``zoom``. Without ``adapt_layers`` but with ``stain_reference`` and ``adapt_min_cells``, the
    crops' look is checked the same way and nothing adapted (``hemseg diagnose --no-adapt``): where
    their sharpness would have been the reason, ``unfamiliar_sharpness`` is written and every cell
    counts in ``review_share``.

    Raises:
        LayoutError: the folder is not a dataset.
        ValueError: the scale cannot be had.
    """
    from hemseg.data import CELL_CLASSES, PARTIAL_LABELS, read_dataset, samples_of_split
    from hemseg.postproc import unfamiliar_look

    dataset = read_dataset(dataset_dir)
    choice = ScaleChoice(
        dataset.name, rbc_diameter_px, patcher.segmenter, patcher.structures, patcher.mask_rules, scale
    )
    samples = samples_of_split(dataset, split)
    known = set(CELL_CLASSES) | set(PARTIAL_LABELS)
    kept = [s for s in samples if len(s.labels) == 1 and s.labels[0] in known]
    labels, predicted, confidence, times, not_found, patches = [], [], [], [], 0, []
    unfamiliar, sources, sharpness = [], [], []  # each cell's look, with a stain reference

    def classify(patch: np.ndarray, row: int) -> None:
        probabilities = classifier.probabilities(patch[None])[0]
        times[row] += classifier.last_network_ms
        best = int(classifier.decide(probabilities)[0])
        predicted.append(classifier.classes[best])
        confidence.append(float(probabilities[best]))

    choice.share(_loaded(s.image, image_transform) for s in kept)
    for sample in kept:
        image = _loaded(sample.image, image_transform)
        patch, found = patcher.central_patch(image, choice(image))
        times.append(patcher.last_ms)
        not_found += not found
        labels.append(sample.labels[0])
        if stain_reference is not None:
            stain, source, sharp = stain_reference.looks(patch[None])
            unfamiliar.append(bool(stain[0]))
            sources.append(source[0])
            sharpness.append(sharp[0])
        if adapt_layers:  # classified once every patch is cut
            patches.append(patch)
        else:
            classify(patch, len(times) - 1)
    look = None
    if labels and (adapt_layers or (stain_reference is not None and adapt_min_cells)):  # no reference: adapt
        found = unfamiliar if stain_reference is not None else [True] * len(labels)
        look = unfamiliar_look(found, adapt_min_cells, adapt_unfamiliar_share, stain_reference, sources, sharpness)
    adapted = look is not None and bool(adapt_layers)
    adaptation = {}
    if look is not None and "sharpness" in look:
        adaptation["unfamiliar_sharpness"] = {k: look[k] for k in ("source", "sharpness", "sharpness_range")}
    if adapted:
        classifier = classifier.adapted(np.stack(patches), adapt_layers, adapt_least_share, adapt_zooms)
        if adapt_zooms:
            adaptation["zoom"] = classifier.zoom
        if adapt_least_share is not None:
            weights = classifier.class_weights / len(classifier.classes)
            mix = {name: round(float(w), 4) for name, w in zip(classifier.classes, weights, strict=True)}
            adaptation["class_mix"] = mix
    for row, patch in enumerate(patches):
        classify(patch, row)
    return {
        "dataset": dataset.name,
        "images": len(kept),
        "skipped": len(samples) - len(kept),
        "split": split,
        **choice.summary(),
        **classification_scores(labels, predicted, confidence),
        **({"interval": group_bootstrap(labels, predicted, [s.group for s in kept])} if labels else {}),
        "not_found": not_found,
        **({} if review_below is None else _review_shares(confidence, review_below, unfamiliar, look)),
        **({"adapted_layers": adapt_layers if adapted else 0} if adapt_layers else {}),
        **adaptation,
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }


def _review_shares(
    confidence: list[float], review_below: float, unfamiliar: list[bool], look: dict | None = None
) -> dict[str, float]:
    """Shares of cells marked for review: in all, for a low probability, for an unfamiliar stain.

    Where the cells' sharpness was the reason to adapt (``look``), every cell is marked, as ``hemseg
    diagnose`` marks a specimen's.
    """
    low = np.less(confidence, review_below)
    shares = {"low_confidence_share": float(np.mean(low))}
    if unfamiliar:
        shares["unfamiliar_share"] = float(np.mean(unfamiliar))
        low = low | np.asarray(unfamiliar)
    if look is not None and "sharpness" in look:
        low = np.ones_like(low)
    return {"review_share": float(np.mean(low)), **shares}


def evaluate_red_cells(
    dataset_dir: str | Path,
    find_cells: Callable,
    classifier,
    target_rbc_px: float,
    patch_size: int,
    split: str = "all",
    rbc_diameter_px: float | str | None = None,
) -> dict:
    """Classify the red cell under every point of a dataset's ``points.csv`` (or one side of its split).

    Each photo goes through ``hemseg diagnose``'s steps: ``find_cells`` (its red-cell instances,
    :meth:`hemseg.diagnosis.SmearAnalyser.find_cells`), the instance that holds each point, its patch,
    the red-cell ``classifier``; with a field prior (``classifier.field_cells``) every red cell of the
    photo is classified at once, so that the prior sees the photo's whole mix. A point that no red cell
    holds counts as wrong (predicted ``unmatched``) and is missing from ``matched``; ``unclassified``
    points and labels outside :data:`hemseg.data.RBC_CLASSES` are left out and counted in
    ``skipped_points``. ``interval`` holds 95 % intervals of accuracy and macro F1 when the split's
    groups of photos are drawn again (:func:`hemseg.models.metrics.group_bootstrap`), ``per_group`` the
    points and accuracy of each group, worst first, ``shared_cells`` the points on a red cell that
    holds points of another class too and the accuracy the cells allow
    (:func:`hemseg.models.metrics.shared_cell_scores`). The scale is the dataset's table value, a given
    diameter, or ``auto`` (estimated per photo). ``ms_per_image`` is the mean time of the whole step per
    photo (segmentation, cells, patches, classification).

    Raises:
        LayoutError: the folder is not a dataset.
        ValueError: the scale is not positive.
    """
    import time

    from hemseg.data import RBC_CLASSES, RBC_DIAMETER_PX, read_dataset, read_smear, samples_of_split
    from hemseg.postproc import cell_patches, instance_table, point_instances

    dataset = read_dataset(dataset_dir)
    if rbc_diameter_px is None:
        rbc_diameter_px = RBC_DIAMETER_PX.get(dataset.name, AUTO)
    if rbc_diameter_px != AUTO and not float(rbc_diameter_px) > 0:
        raise ValueError(f"the red-cell diameter must be positive or 'auto', not {rbc_diameter_px!r}")
    fixed = None if rbc_diameter_px == AUTO else float(rbc_diameter_px)
    samples = [s for s in samples_of_split(dataset, split) if s.points]
    labels, predicted, confidence, groups, cells, times, skipped = [], [], [], [], [], [], 0
    for sample in samples:
        kept = [p for p in sample.points if p.label in RBC_CLASSES]
        skipped += len(sample.points) - len(kept)
        if not kept:
            continue
        start = time.perf_counter()
        image = read_smear(sample.image)
        found = find_cells(image, fixed)
        instances = point_instances(found.rbc, image.shape[:2], [(p.x, p.y) for p in kept], found.rbc_px)
        # each cell answers alone without a field prior: the marked cells suffice
        table = instance_table(found.rbc, only=instances if not getattr(classifier, "field_cells", 0) else None)
        patches = cell_patches(image, found.rbc, table, found.rbc_px, target_rbc_px, patch_size)
        probabilities = classifier.probabilities(patches)
        times.append((time.perf_counter() - start) * 1000.0)
        chosen = classifier.decide(probabilities)
        row_of = {int(label): row for row, label in enumerate(table["label"])}
        for point, instance in zip(kept, instances, strict=True):
            labels.append(point.label)
            groups.append(sample.group)
            cells.append((sample.id, int(instance)) if instance else None)
            if instance:
                row = row_of[int(instance)]
                predicted.append(classifier.classes[int(chosen[row])])
                confidence.append(float(probabilities[row, int(chosen[row])]))
            else:
                predicted.append("unmatched")
                confidence.append(0.0)
    return {
        "dataset": dataset.name,
        "split": split,
        "images": len(times),
        "rbc_diameter_px": fixed if fixed is not None else AUTO,
        "points": len(labels),
        "matched": sum(p != "unmatched" for p in predicted),
        "skipped_points": skipped,
        **classification_scores(labels, predicted, confidence, classes=RBC_CLASSES),
        **({"interval": group_bootstrap(labels, predicted, groups, classes=RBC_CLASSES)} if labels else {}),
        "per_group": group_accuracy(labels, predicted, groups),
        "shared_cells": shared_cell_scores(labels, predicted, cells),
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }
