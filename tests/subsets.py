"""Small datasets the tests cut from the shared data: a few fields of one dataset, linked, not copied."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def linked_subset(source: Path, dest: Path, stems: Iterable[str], folders: Iterable[str] = ("images",)) -> Path:
    """``dest``: ``source``'s ``dataset.json`` and, in each of ``folders``, its files of ``stems``, linked.

    Returns ``dest``.
    """
    stems = set(stems)
    for folder in folders:
        (dest / folder).mkdir(parents=True)
        for path in (source / folder).iterdir():
            if path.stem in stems:
                (dest / folder / path.name).symlink_to(path.resolve())
    (dest / "dataset.json").write_text((source / "dataset.json").read_text())
    return dest
