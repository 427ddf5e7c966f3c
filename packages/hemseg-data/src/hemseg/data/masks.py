"""Reading binary masks (``masks/<structure>/<id>.png``, 0/255)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hemseg.data.layout import LayoutError


def read_mask(path: str | Path) -> np.ndarray:
    """Return the mask as an (H, W) bool array (pixels above 127 are foreground).

    Raises:
        LayoutError: the file cannot be read as an image.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L")) > 127
    except OSError as err:
        raise LayoutError(f"{path}: cannot read mask ({err})") from None
