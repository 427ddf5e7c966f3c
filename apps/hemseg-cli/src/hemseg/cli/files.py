"""Image folders read one file at a time; output files written whole or not at all."""

from __future__ import annotations

from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    from hemseg.models.files import replacing

    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


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
    import sys

    from hemseg.data.transforms import load_rgb

    try:
        return load_rgb(path)
    except Exception as err:
        print(f"hemseg: error: {path}: cannot read image ({type(err.__cause__ or err).__name__})", file=sys.stderr)
        return None
