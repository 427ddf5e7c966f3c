"""Red cells marked by points, as ``hemseg diagnose`` segments them: patches for the red-cell classifier.

Each point of ``points.csv`` is paired with the red-cell instance that holds it in the pipeline's
own segmentation and cut into a patch; training patches are cut once and cached.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np


def red_cell_patches(
    find_cells: Callable,
    image: np.ndarray,
    points_xy: np.ndarray,
    rbc_px: float | None,
    target_rbc_px: float,
    patch_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The red-cell instance under each point of one photo and its patch (:func:`hemseg.postproc.point_patches`).

    ``find_cells`` is :meth:`hemseg.diagnosis.SmearAnalyser.find_cells` (or any callable of an
    (H, W, 3) uint8 photo and a red-cell diameter, None to estimate it, returning an object with
    ``rbc`` labels and the photo's ``rbc_px``); the patch keeps each cell's size relative to that
    diameter. Returns (N,) instance labels (0: no red cell holds the point) and (N, P, P, 4) patches.
    """
    from hemseg.postproc import point_patches

    found = find_cells(image, rbc_px)
    return point_patches(image, found.rbc, points_xy, found.rbc_px, target_rbc_px, patch_size)


def classify_red_cells(
    find_cells: Callable, classifier, image: np.ndarray, rbc_px: float | None, target_rbc_px: float, patch_size: int
) -> tuple[object, dict, np.ndarray]:
    """Every red cell of one photo classified: ``(found, table, probabilities)``.

    ``found`` is what ``find_cells`` returns (as in :func:`red_cell_patches`), ``table`` the
    :func:`hemseg.postproc.instance_table` of its red cells (``found.rbc``'s scale) and
    ``probabilities`` (N, K), one row per table row, from ``classifier`` on the cells' patches.
    """
    found, table, patches = every_red_cell(find_cells, image, rbc_px, target_rbc_px, patch_size)
    return found, table, classifier.probabilities(patches)


def every_red_cell(
    find_cells: Callable, image: np.ndarray, rbc_px: float | None, target_rbc_px: float, patch_size: int
) -> tuple[object, dict, np.ndarray]:
    """Every red cell of one photo cut into a patch: ``(found, table, patches)``.

    As :func:`classify_red_cells`, with (N, P, P, 4) uint8 patches in place of the probabilities.
    """
    from hemseg.postproc import cell_patches, instance_table

    found = find_cells(image, rbc_px)
    table = instance_table(found.rbc)
    return found, table, cell_patches(image, found.rbc, table, found.rbc_px, target_rbc_px, patch_size)


def pseudo_labelled_red_cells(
    find_cells: Callable,
    classifier,
    settings: str,
    data_root: str | Path,
    datasets: Sequence[str],
    side: str,
    cache_dir: str | Path,
    target_rbc_px: float,
    patch_size: int,
    threshold: float,
    val_fraction: float = 0.2,
    seed: int = 0,
    limit: int | None = None,
    *,
    rbc_diameter_px: Mapping[str, float] | None = None,
    tag: str = "",
) -> list[dict]:
    """Red cells that no point labels (other labs), each labelled by ``classifier`` where it is sure.

    Every red cell that ``hemseg diagnose`` counts on the photos of the datasets' ``side``, at the
    scale the pipeline estimates for each photo (as ``hemseg diagnose`` does) or at the dataset's
    own in ``rbc_diameter_px``, is classified by ``classifier`` (the teacher, e.g. the shipped
    weights); a cell whose most probable class reaches ``threshold`` becomes a record of that class,
    as in :func:`red_cell_records` (self-training: the student sees cells with the teacher's
    confident answers). A cell that a point of ``points.csv`` marks is left out (it has a label of
    its own), so on ``chula_rbc`` these are the cells its experts left unmarked. Records name their
    dataset ``name + tag``. Patches and probabilities are computed once and kept in ``cache_dir``
    under a name that changes with ``settings`` (the cells' settings and the teacher's weights), the
    scale, the patch geometry, the split and ``limit``.

    Raises:
        LayoutError: a dataset is missing or malformed.
    """
    from hemseg.data import RBC_CLASSES, split_datasets
    from hemseg.data.smear_image import read_smear
    from hemseg.postproc import point_instances

    records = []
    for dataset, samples in split_datasets(data_root, datasets, side, val_fraction, seed):
        name = dataset.name
        samples = samples[:limit]
        rbc_px = (rbc_diameter_px or {}).get(name)

        def classify(samples: list = samples, name: str = name, rbc_px: float | None = rbc_px) -> dict[str, np.ndarray]:
            cut, answers, rows = (
                [np.zeros((0, patch_size, patch_size, 4), np.uint8)],
                [np.zeros((0, len(RBC_CLASSES)))],
                [],
            )
            for row, sample in enumerate(samples):
                image = read_smear(sample.image)
                found, table, cells = every_red_cell(find_cells, image, rbc_px, target_rbc_px, patch_size)
                if sample.points:
                    points = [(p.x, p.y) for p in sample.points]
                    marked = point_instances(found.rbc, image.shape[:2], points, found.rbc_px)
                    cells = cells[~np.isin(table["label"], marked)]
                cut.append(cells)
                answers.append(classifier.probabilities(cells))  # (0, K) for a photo without red cells
                rows += [row] * len(cells)
                _progress(name, side, row, len(samples))
            return {
                "patches": np.concatenate(cut),
                "probabilities": np.concatenate(answers).astype(np.float32),
                "rows": np.asarray(rows, dtype=np.int64),
            }

        # a given scale enters the key; with the scale estimated, earlier caches keep their names
        key = [settings, target_rbc_px, patch_size, side, val_fraction, seed, limit] + ([rbc_px] if rbc_px else [])
        stored = _cached(Path(cache_dir), f"{name}-pseudo-{side}", key, classify)
        for row, answer, patch in zip(stored["rows"], stored["probabilities"], stored["patches"], strict=True):
            if answer.max() >= threshold:
                records.append(_record(patch, RBC_CLASSES[int(answer.argmax())], samples[int(row)].id, name + tag))
    return records


def _progress(name: str, side: str, row: int, photos: int) -> None:
    if (row + 1) % 50 == 0:
        print(f"hemseg: {name} {side}: {row + 1}/{photos} images", file=sys.stderr)


def _cached(cache_dir: Path, stem: str, key: list, compute: Callable[[], dict]) -> dict[str, np.ndarray]:
    """The arrays ``compute`` returns, kept in ``cache_dir`` under ``stem`` and a hash of ``key``."""
    from hemseg.data.files import replacing

    cache = cache_dir / f"{stem}-{hashlib.sha256(json.dumps(key).encode()).hexdigest()[:12]}.npz"
    if cache.is_file():
        return dict(np.load(cache))
    arrays = compute()
    cache.parent.mkdir(parents=True, exist_ok=True)
    with replacing(cache) as tmp, open(tmp, "wb") as handle:  # unique temp name: DDP ranks write too
        np.savez(handle, **arrays)
    return arrays


def _record(patch: np.ndarray, label: str, sample_id: str, dataset: str) -> dict:
    """A training record of one (P, P, 4) patch of class ``label``."""
    from hemseg.data import RBC_CLASSES

    target = np.zeros(len(RBC_CLASSES), np.float32)
    target[RBC_CLASSES.index(label)] = 1.0
    return {
        "image": np.ascontiguousarray(np.moveaxis(patch[..., :3], -1, 0)),
        "mask": np.ascontiguousarray(patch[None, ..., 3]),
        "target": target,
        "label": label,
        "id": sample_id,
        "dataset": dataset,
    }


def red_cell_mix(
    find_cells: Callable,
    classifier,
    data_root: str | Path,
    dataset: str,
    rbc_diameter_px: float,
    side: str,
    target_rbc_px: float,
    patch_size: int,
    val_fraction: float = 0.2,
    seed: int = 0,
    limit: int | None = None,
) -> dict[str, float]:
    """The classifier's mean probabilities over every red cell of the photos of one side of a dataset's split.

    Every red cell that ``hemseg diagnose`` counts, marked by a point or not (:func:`classify_red_cells`);
    ``classifier`` should answer per cell (no field prior). This is the reference mix of
    :func:`hemseg.models.field_prior` (``Classifier(field_reference=...)``). ``limit``: the first
    photos only (smoke runs).

    Raises:
        LayoutError: the dataset is missing or malformed.
        ValueError: its photos hold no red cell.
    """
    from hemseg.data import split_datasets
    from hemseg.data.smear_image import read_smear

    total, cells = np.zeros(len(classifier.classes)), 0
    for _, samples in split_datasets(data_root, [dataset], side, val_fraction, seed):
        for sample in samples[:limit]:
            _, _, probabilities = classify_red_cells(
                find_cells, classifier, read_smear(sample.image), rbc_diameter_px, target_rbc_px, patch_size
            )
            total += probabilities.sum(axis=0)
            cells += len(probabilities)
    if not cells:
        raise ValueError(f"no red cell in the {side} photos of {dataset}")
    return {name: float(value / cells) for name, value in zip(classifier.classes, total, strict=True)}


def red_cell_records(
    find_cells: Callable,
    settings: str,
    data_root: str | Path,
    datasets: Sequence[str],
    rbc_diameter_px: Mapping[str, float],
    side: str,
    cache_dir: str | Path,
    target_rbc_px: float,
    patch_size: int,
    val_fraction: float = 0.2,
    seed: int = 0,
    limit: int | None = None,
) -> list[dict]:
    """One record per red cell that a point marks with a class of :data:`hemseg.data.RBC_CLASSES`.

    Each photo of the datasets' ``side`` is segmented by ``find_cells`` at the dataset's red-cell
    diameter (``rbc_diameter_px``; one microscope, one scale), each point paired with the red-cell
    instance that holds it and that instance cut into a patch (:func:`red_cell_patches`). Left out:
    ``unclassified`` points, points that no red cell holds, and instances that hold points of two
    classes (touching cells left joined). Records hold ``image`` (3, P, P) and ``mask`` (1, P, P)
    uint8, ``target`` (one-hot), ``label``, ``id``, ``dataset``. The patches of a dataset and side
    are cut once and kept in ``cache_dir`` under a name that changes with ``settings`` (the
    cells' settings, e.g. :meth:`hemseg.diagnosis.SmearAnalyser.cells_sha256`), the patch geometry,
    the scale, the split and ``limit`` (first images per dataset).

    Raises:
        LayoutError: a dataset is missing or malformed.
    """
    from hemseg.data import RBC_CLASSES, split_datasets
    from hemseg.data.smear_image import read_smear

    records = []
    for dataset, samples in split_datasets(data_root, datasets, side, val_fraction, seed):
        name = dataset.name
        samples = [s for s in samples if s.points][:limit]

        def pair(samples: list = samples, name: str = name) -> dict[str, np.ndarray]:
            cut, found, rows = [], [], []
            for row, sample in enumerate(samples):
                points = np.array([(p.x, p.y) for p in sample.points])
                matched, patches = red_cell_patches(
                    find_cells, read_smear(sample.image), points, rbc_diameter_px[name], target_rbc_px, patch_size
                )
                cut.append(patches)
                found.append(matched)
                rows += [row] * len(points)
                _progress(name, side, row, len(samples))
            return {
                "patches": np.concatenate(cut) if cut else np.zeros((0, patch_size, patch_size, 4), np.uint8),
                "instances": np.concatenate(found) if found else np.zeros(0, np.int64),
                "rows": np.asarray(rows, dtype=np.int64),
            }

        key = [settings, target_rbc_px, patch_size, rbc_diameter_px[name], side, val_fraction, seed, limit]
        stored = _cached(Path(cache_dir), f"{name}-rbc-{side}", key, pair)
        patches, instances, rows = stored["patches"], stored["instances"], stored["rows"]
        labels = [p.label for s in samples for p in s.points]
        classes_of: dict[tuple[int, int], set[str]] = {}
        for row, instance, label in zip(rows, instances, labels, strict=True):
            classes_of.setdefault((int(row), int(instance)), set()).add(label)
        for row, instance, label, patch in zip(rows, instances, labels, patches, strict=True):
            if label in RBC_CLASSES and instance and len(classes_of[(int(row), int(instance))]) == 1:
                records.append(_record(patch, label, samples[int(row)].id, name))
    return records
