"""Pseudo-labels: a trained network's confident pixels on photos nobody annotated, as a dataset to train on."""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage

from hemseg.data.files import replacing, write_text_atomic
from hemseg.data.layout import STRUCTURES, read_dataset
from hemseg.data.masks import UNKNOWN_PIXEL
from hemseg.data.scales import RBC_DIAMETER_PX
from hemseg.models.inference import read_image_or_report


def pseudo_label_dataset(
    segmenter,
    dataset_dir: str | Path,
    output_dir: str | Path,
    structures: Sequence[str] = STRUCTURES,
    keep: Sequence[str] | None = None,
    rbc_diameter_px: float | None = None,
    confidence: float = 0.9,
    per_label: int | None = None,
    seed: int = 0,
    teacher: str = "",
    skip_labels: Sequence[str] = (),
    margins: Mapping[str, float] | None = None,
) -> int:
    """Write a dataset in the hemseg layout whose masks are ``segmenter``'s confident pixels.

    A pixel whose probability is at least ``confidence`` is foreground (255), at most
    ``1 - confidence`` background (0), and in between not known (:data:`hemseg.data.UNKNOWN_PIXEL`),
    which training leaves out (:class:`hemseg.models.MaskedDiceCELoss`). Images are linked, not
    copied; ``labels.csv`` keeps the chosen photos' labels and ``dataset.json`` the source's name and
    licence, with the ``keep`` structures annotated and a ``pseudo_labels`` entry holding these settings.

    Args:
        segmenter: a :class:`hemseg.models.Segmenter` (the teacher).
        dataset_dir: the unannotated dataset (hemseg layout).
        output_dir: the new dataset folder.
        structures: the segmenter's output channels, in order.
        keep: the structures to write (None: all); the others stay unannotated.
        rbc_diameter_px: red-cell diameter of the photos; None: the dataset's entry in
            :data:`hemseg.data.RBC_DIAMETER_PX`.
        confidence: probability from which a pixel counts (0.5-1).
        per_label: at most this many photos of each label, drawn with ``seed`` (None: all).
        seed: seed of the draw.
        teacher: what to record as the teacher (e.g. its weights' SHA-256).
        skip_labels: photos with any of these labels are not drawn (e.g. ``platelet``: a teacher
            that marks platelet clumps as white cells would teach it).
        margins: per structure, a width in red-cell diameters: background within it of a confident
            foreground pixel is written as not known (a teacher that misses a white cell's pale
            cytoplasm calls it background confidently; the student should not learn that).

    Returns:
        The number of photos written.

    Raises:
        ValueError: ``confidence`` is outside [0.5, 1], or the scale is unknown.
        RuntimeError: some photos could not be read (the others are written).
    """
    if not 0.5 <= confidence <= 1.0:
        raise ValueError(f"confidence must be in [0.5, 1], got {confidence}")
    dataset = read_dataset(dataset_dir)
    if rbc_diameter_px is None and dataset.name not in RBC_DIAMETER_PX:
        raise ValueError(f"{dataset_dir}: no red-cell diameter given and none in RBC_DIAMETER_PX")
    scale = rbc_diameter_px or RBC_DIAMETER_PX[dataset.name]
    kept = {s: channel for channel, s in enumerate(structures) if keep is None or s in keep}
    margins = dict(margins or {})
    skipped = set(skip_labels)
    samples = _draw([s for s in dataset.samples if not skipped & set(s.labels)], per_label, seed)
    output_dir = Path(output_dir)
    (output_dir / "images").mkdir(parents=True, exist_ok=True)
    written = []
    for sample in samples:
        image = read_image_or_report(sample.image)
        if image is None:
            continue
        probabilities = segmenter.probabilities(image, scale)
        for structure, channel in kept.items():
            mask = np.full(probabilities.shape[1:], UNKNOWN_PIXEL, dtype=np.uint8)
            mask[probabilities[channel] >= confidence] = 255
            mask[probabilities[channel] <= 1.0 - confidence] = 0
            if margins.get(structure, 0) > 0 and (mask == 255).any():
                near = ndimage.distance_transform_edt(mask != 255) <= margins[structure] * scale
                mask[near & (mask == 0)] = UNKNOWN_PIXEL
            _write_png(mask, output_dir / "masks" / structure / f"{sample.id}.png")
        link = output_dir / "images" / sample.image.name
        link.unlink(missing_ok=True)
        os.symlink(sample.image.resolve(), link)
        written.append(sample)
    with replacing(output_dir / "labels.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label"])
        writer.writerows([s.id, ";".join(s.labels)] for s in written)
    info = {
        "name": dataset.name,
        "source": f"pseudo-labels of {dataset.name}: {dataset.info.get('source', '')}",
        "license": dataset.info.get("license", ""),
        "structures": {s: "pseudo-label: 255 confident foreground, 0 background, 128 not known" for s in kept},
        "pseudo_labels": {
            "teacher": teacher,
            "confidence": confidence,
            "per_label": per_label,
            "seed": seed,
            "skip_labels": sorted(skipped),
            "margins": margins,
        },
    }
    write_text_atomic(output_dir / "dataset.json", json.dumps(info, indent=2) + "\n")
    if len(written) < len(samples):
        raise RuntimeError(f"{dataset_dir}: {len(samples) - len(written)} of {len(samples)} images could not be read")
    return len(written)


def _draw(samples: Sequence, per_label: int | None, seed: int) -> list:
    if per_label is None:
        return list(samples)
    by_label: dict[str, list] = {}
    for sample in samples:
        by_label.setdefault(";".join(sample.labels), []).append(sample)
    rng = random.Random(seed)
    chosen = []
    for label in sorted(by_label):
        chosen += rng.sample(by_label[label], min(per_label, len(by_label[label])))
    return sorted(chosen, key=lambda s: s.id)


def _write_png(mask: np.ndarray, path: Path) -> None:
    from PIL import Image

    with replacing(path) as tmp:
        Image.fromarray(mask).save(tmp, format="PNG")
