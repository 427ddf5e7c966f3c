"""What the post-processing steps need of a segmentation network: a small protocol, no torch."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class SegmenterLike(Protocol):
    """Anything that segments a photo into per-structure probability maps.

    :class:`hemseg.models.Segmenter` is one; a test may pass a stub.

    Attributes:
        target_rbc_px: red-cell diameter (px) the network works at.
        roi_size: side (px) of one network window at that scale.
    """

    target_rbc_px: float
    roi_size: int

    def probabilities(self, image: np.ndarray, rbc_diameter_px: float | None) -> np.ndarray:
        """(C, H, W) float32 probabilities, one channel per structure, for a (3, H, W) image in [0, 1].

        ``rbc_diameter_px`` is the image's red-cell diameter (None: already at ``target_rbc_px``).
        """
        ...
