"""What the pipeline needs of a cell classifier: a small protocol, no torch.

The segmentation side is :class:`hemseg.postproc.SegmenterLike`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ClassifierLike(Protocol):
    """Anything that gives class probabilities for cell patches and decides each cell's class.

    :class:`hemseg.models.Classifier` is one; a test may pass a stub.

    Attributes:
        classes: class names, in the order of the probability columns.
    """

    classes: tuple[str, ...]

    def probabilities(self, patches: np.ndarray) -> np.ndarray:
        """(N, K) probabilities for (N, P, P, 4) uint8 patches (RGB + cell mask: :func:`hemseg.postproc.cell_patch`)."""
        ...

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """(N,) index of the class each row is called."""
        ...

    def alternatives(self, probabilities: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """(N,) index of the most probable class other than each row's ``chosen`` one."""
        ...
