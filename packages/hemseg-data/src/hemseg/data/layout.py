"""Reader for the hemseg dataset layout.

Every dataset is one folder::

    <dataset>/images/<id>.jpg|png          RGB image
    <dataset>/masks/<structure>/<id>.png   binary mask (0/255), same size as the image
    <dataset>/labels.csv                   header "id,label"; several labels joined by ';'
    <dataset>/boxes/<id>.xml               optional Pascal VOC boxes
    <dataset>/sources.csv                  optional: id,source_field,x,y,source_group
    <dataset>/points.csv                   optional: id,x,y,label, one point per annotated cell
    <dataset>/dataset.json                 source, licence, annotated structures

A structure that ``dataset.json`` does not list is *not annotated* in that dataset. This module reads
paths and metadata only (no pixels), so it is fast and needs neither torch nor MONAI.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

STRUCTURES: tuple[str, ...] = ("wbc", "nucleus", "rbc")
"""Structures a segmentation target can hold, in channel order."""

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
"""File suffixes read as images (case-insensitive)."""


#: Datasets whose image ids come in runs of neighbouring fields (ids are numbers): images are grouped
#: in blocks of this many consecutive ids, which go to one side of a split together, so neighbouring
#: fields meet across the split only at a block's edge. ``chula_rbc``: blocks of 5 put points of
#: every class on the validation side (87 photos, 3,992 points); blocks of 10 left it without
#: elliptocytes, whose 469 points come from a few runs of fields.
ID_BLOCKS: dict[str, int] = {"chula_rbc": 5}


class LayoutError(ValueError):
    """A folder or file does not follow the hemseg dataset layout; the message names the path."""


@dataclass(frozen=True)
class Point:
    """One annotated cell marked by a point (``points.csv``): pixel position and class."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Sample:
    """One image of a dataset with the annotation files that exist for it.

    Attributes:
        id: image id (file stem).
        image: path of the image.
        masks: structure -> mask path, only for masks that exist.
        labels: the image's labels (empty when unlabelled).
        boxes: path of the VOC file, or None.
        group: key of the source the image comes from; images of one group never straddle a split.
        points: the cells marked by a point in ``points.csv`` (empty when there are none).

    """

    id: str
    image: Path
    masks: dict[str, Path] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    boxes: Path | None = None
    group: str = ""
    points: tuple[Point, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """A dataset folder: its metadata and samples (sorted by id).

    Attributes:
        name: dataset name (``dataset.json`` "name", else the folder name).
        root: the dataset folder.
        info: the parsed ``dataset.json``.
        structures: structures the dataset annotates, in :data:`STRUCTURES` order.
        samples: one :class:`Sample` per image.

    """

    name: str
    root: Path
    info: dict
    structures: tuple[str, ...]
    samples: tuple[Sample, ...]


def is_dataset(path: str | Path) -> bool:
    """Return whether ``path`` is a folder holding a ``dataset.json``."""
    return (Path(path) / "dataset.json").is_file()


def _read_info(root: Path) -> dict:
    path = root / "dataset.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayoutError(f"{path}: missing (every dataset folder needs a dataset.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LayoutError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(info, dict):
        raise LayoutError(f"{path}: expected a JSON object, got {type(info).__name__}")
    structures = info.get("structures", {})
    if not isinstance(structures, dict | list):
        raise LayoutError(f"{path}: 'structures' must be an object or a list")
    unknown = sorted(set(structures) - set(STRUCTURES))
    if unknown:
        raise LayoutError(f"{path}: unknown structure(s) {unknown}; known: {list(STRUCTURES)}")
    return info


def _read_labels(root: Path) -> dict[str, tuple[str, ...]]:
    path = root / "labels.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["id", "label"]:
            raise LayoutError(f"{path}: header must be 'id,label', got {header!r}")
        labels: dict[str, tuple[str, ...]] = {}
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 2:
                raise LayoutError(f"{path}:{line_no}: expected 2 fields, got {len(row)}")
            sample_id, label = row[0].strip(), row[1].strip()
            labels[sample_id] = tuple(part.strip() for part in label.split(";") if part.strip())
    return labels


def _read_sources(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Group keys from an optional ``sources.csv``: (crop id -> group, source field -> group)."""
    path = root / "sources.csv"
    if not path.is_file():
        return {}, {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and not {"id", "source_field", "source_group"} <= set(rows[0]):
        raise LayoutError(f"{path}: needs columns id, source_field, source_group")
    crops = {row["id"]: f"source:{row['source_group']}" for row in rows}
    fields = {row["source_field"]: f"source:{row['source_group']}" for row in rows}
    return crops, fields


def _read_points(root: Path) -> dict[str, tuple[Point, ...]]:
    path = root / "points.csv"
    if not path.is_file():
        return {}
    points: dict[str, list[Point]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:4]] != ["id", "x", "y", "label"]:
            raise LayoutError(f"{path}: header must be 'id,x,y,label', got {header!r}")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                sample_id, x, y, label = (part.strip() for part in row)
                points.setdefault(sample_id, []).append(Point(float(x), float(y), label))
            except ValueError:
                raise LayoutError(f"{path}:{line_no}: expected id,x,y,label with numbers x, y; got {row!r}") from None
    return {sample_id: tuple(marks) for sample_id, marks in points.items()}


def _block_group(name: str, sample_id: str) -> str | None:
    block = ID_BLOCKS.get(name)
    if block is None or not sample_id.isdigit():
        return None
    return f"{name}:block{int(sample_id) // block}"


def _image_files(root: Path) -> dict[str, Path]:
    folder = root / "images"
    if not folder.is_dir():
        raise LayoutError(f"{folder}: missing (not a hemseg dataset folder)")
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            if path.stem in files:
                raise LayoutError(f"{path}: two images share the id {path.stem!r}")
            files[path.stem] = path
    return files


def _mask_files(root: Path, structures: tuple[str, ...], ids: set[str]) -> dict[str, dict[str, Path]]:
    masks: dict[str, dict[str, Path]] = {}
    for structure in structures:
        folder = root / "masks" / structure
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.png")):
            if path.stem not in ids:
                raise LayoutError(f"{path}: mask without an image of id {path.stem!r}")
            masks.setdefault(path.stem, {})[structure] = path
    return masks


def read_dataset(root: str | Path, source_groups: dict[str, str] | None = None) -> Dataset:
    """Read one dataset folder.

    Args:
        root: the dataset folder.
        source_groups: source field -> group keys (from sibling datasets' ``sources.csv``), so
            that crops and the fields they were cut from share a group.

    Returns:
        The dataset with one sample per image, sorted by id.

    Raises:
        LayoutError: the folder or one of its files does not follow the layout.

    """
    root = Path(root)
    if not root.is_dir():
        raise LayoutError(f"{root}: no such directory")
    info = _read_info(root)
    name = str(info.get("name") or root.name)
    structures = tuple(s for s in STRUCTURES if s in info.get("structures", {}))
    images = _image_files(root)
    labels = _read_labels(root)
    missing = sorted(set(labels) - set(images))
    if missing:
        raise LayoutError(f"{root / 'labels.csv'}: ids without an image, e.g. {missing[:3]}")
    masks = _mask_files(root, structures, set(images))
    points = _read_points(root)
    missing = sorted(set(points) - set(images))
    if missing:
        raise LayoutError(f"{root / 'points.csv'}: ids without an image, e.g. {missing[:3]}")
    crop_groups, _ = _read_sources(root)
    boxes_dir = root / "boxes"
    samples = []
    for sample_id, image in images.items():
        box = boxes_dir / f"{sample_id}.xml"
        samples.append(
            Sample(
                id=sample_id,
                image=image,
                masks=masks.get(sample_id, {}),
                labels=labels.get(sample_id, ()),
                boxes=box if box.is_file() else None,
                group=crop_groups.get(sample_id)
                or _field_group(sample_id, source_groups or {})
                or _block_group(name, sample_id)
                or f"{name}:{sample_id}",
                points=points.get(sample_id, ()),
            )
        )
    return Dataset(name=name, root=root, info=info, structures=structures, samples=tuple(samples))


def _field_group(sample_id: str, groups: dict[str, str]) -> str | None:
    """Group of a source field: its own entry, else a group whose name lists it (``Im014+Im015``)."""
    if sample_id in groups:
        return groups[sample_id]
    for group in set(groups.values()):
        members = group.removeprefix("source:").split("+")
        if any(sample_id == m or sample_id.startswith(f"{m}_") for m in members):
            return group
    return None


def find_datasets(root: str | Path) -> list[Dataset]:
    """Read a dataset folder, or every dataset folder directly inside ``root``.

    Crops listed in one dataset's ``sources.csv`` and the fields they were cut from (in a sibling
    dataset) get the same group.

    Raises:
        LayoutError: ``root`` does not exist, holds no dataset, or a dataset is malformed.

    """
    root = Path(root)
    if not root.is_dir():
        raise LayoutError(f"{root}: no such directory")
    if is_dataset(root):
        return [read_dataset(root)]
    folders = sorted(p for p in root.iterdir() if is_dataset(p))
    if not folders:
        raise LayoutError(f"{root}: no dataset folders (none holds a dataset.json)")
    groups: dict[str, str] = {}
    for folder in folders:
        groups.update(_read_sources(folder)[1])
    return [read_dataset(folder, source_groups=groups) for folder in folders]
