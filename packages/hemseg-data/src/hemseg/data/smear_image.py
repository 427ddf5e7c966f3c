"""Reading one smear photo for diagnosis, refusing what cannot be analysed with a one-line reason."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

#: Largest image accepted, in pixels (a 2592x1944 field has 5 M; a 14,000 x 10,000 stitched scan
#: 140 M, analysed tile by tile): larger files are refused before being decoded (decompression bombs).
MAX_PIXELS = 150_000_000
#: Smallest side accepted, in pixels.
MIN_SIDE = 32


class SmearImageError(ValueError):
    """An input that is not a readable colour smear photo; ``str()`` is a one-line reason."""


def read_smear(path: str | Path, max_pixels: int = MAX_PIXELS, min_side: int = MIN_SIDE) -> np.ndarray:
    """Read a colour smear photo as (H, W, 3) uint8 RGB.

    RGBA and palette images are converted (alpha dropped); 16-bit colour is scaled to 8 bits.
    Refused, with :class:`SmearImageError`: missing or unreadable files, non-images, truncated
    files, grayscale images (the classes depend on stain colours), images with a side below
    ``min_side`` or more than ``max_pixels`` pixels.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise SmearImageError("no such file")
    try:
        with warnings.catch_warnings():
            # the size is checked against max_pixels below, before decoding; Pillow's own error
            # (twice its 89 M warning limit) stays for images beyond that
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise SmearImageError(f"image too large ({width}x{height} > {max_pixels:,} pixels)")
                if min(width, height) < min_side:
                    raise SmearImageError(f"image too small ({width}x{height}; each side needs >= {min_side} px)")
                mode = image.mode
                image.load()
                array = _to_rgb(image)
    except SmearImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        reason = "not an image" if isinstance(err, UnidentifiedImageError) else f"image too large ({err})"
        raise SmearImageError(reason) from None
    except (OSError, SyntaxError, ValueError) as err:
        raise SmearImageError(
            f"cannot decode ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
        ) from None
    if mode in {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"} or _is_gray(array):
        raise SmearImageError(f"grayscale image (mode {mode}); hemseg needs a colour photo of a stained smear")
    return array


def _to_rgb(image) -> np.ndarray:
    """(H, W, 3) uint8 from any PIL mode, 16-bit scaled down."""
    array = np.asarray(image)
    if array.dtype == np.uint16 or (array.dtype.kind in "iu" and array.max(initial=0) > 255):
        array = (array.astype(np.float64) / 257.0).round().clip(0, 255).astype(np.uint8)
        if array.ndim == 3:
            return np.ascontiguousarray(array[..., :3])
    if image.mode != "RGB":
        return np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(array)


def _is_gray(array: np.ndarray) -> bool:
    """True when the three channels are (almost) equal everywhere."""
    if array.ndim != 3:
        return True
    spread = array.max(axis=2).astype(np.int16) - array.min(axis=2)
    return bool(np.percentile(spread, 99) <= 2)
