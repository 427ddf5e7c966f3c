"""Loading smear images with MONAI's PIL reader, rows first, any PIL mode made readable."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch
from monai.config import KeysCollection
from monai.data import PILReader
from monai.transforms import Compose, LoadImaged

from hemseg.data.transforms.dictionary import NormalizeRGBd

_TO_RGB_MODES = {"P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa"}


def readable_mode(image):
    """Convert PIL modes that do not map to plain arrays (palette, CMYK, 1-bit, ...) to RGB or L."""
    if image.mode in _TO_RGB_MODES:
        return image.convert("RGBA" if image.mode in {"PA", "RGBa"} else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def load_image_d(keys: KeysCollection = "image") -> LoadImaged:
    """``LoadImaged`` that yields channel-first (C, H, W) arrays in the file's own dtype.

    Rows come first (``reverse_indexing=False``), so arrays match masks and image coordinates;
    follow it with :class:`~hemseg.data.transforms.dictionary.NormalizeRGBd`.
    """
    reader = PILReader(converter=readable_mode, reverse_indexing=False)
    return LoadImaged(keys, reader=reader, dtype=None, image_only=True, ensure_channel_first=True)


@cache
def _rgb_pipeline() -> Compose:
    return Compose([load_image_d("image"), NormalizeRGBd("image")])


def load_rgb(path: str | Path) -> torch.Tensor:
    """Read an image file as float32 RGB in [0, 1], shape (3, H, W) (gray, RGBA, 16-bit converted)."""
    return _rgb_pipeline()({"image": str(path)})["image"]
