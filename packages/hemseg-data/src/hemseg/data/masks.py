"""Reading masks (``masks/<structure>/<id>.png``: 0/255, and 128 for pixels not known)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hemseg.data.layout import LayoutError

#: Label value of a pixel (or a whole channel) whose structure is not known: neither foreground nor
#: background, so a loss leaves it out (:class:`hemseg.models.MaskedDiceCELoss`).
UNKNOWN = -1.0

#: Mask pixel value written for a pixel that is not known (pseudo-labels leave their doubtful pixels
#: so, :func:`hemseg.models.pseudo_label_dataset`); the public datasets' masks hold 0 and 255 only.
UNKNOWN_PIXEL = 128


def _read_gray(path: str | Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"))
    except OSError as err:
        raise LayoutError(f"{path}: cannot read mask ({err})") from None


def read_label(path: str | Path) -> np.ndarray:
    """Return the mask as an (H, W) float32 training target: 1 foreground, 0 background, :data:`UNKNOWN`.

    Pixels of 192 and above are foreground, below 64 background, and the values between (the
    :data:`UNKNOWN_PIXEL` of pseudo-labels) are not known.

    Raises:
        LayoutError: the file cannot be read as an image.
    """
    gray = _read_gray(path)
    label = np.full(gray.shape, UNKNOWN, dtype=np.float32)
    label[gray >= 192] = 1.0
    label[gray < 64] = 0.0
    return label


def read_mask(path: str | Path) -> np.ndarray:
    """Return the mask as an (H, W) bool array (pixels above 127 are foreground).

    Raises:
        LayoutError: the file cannot be read as an image.
    """
    return _read_gray(path) > 127
