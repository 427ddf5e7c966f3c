"""White cells found by a segmenter and cut into classifier patches.

The same steps serve training (the classification bundle's patch cache), ``hemseg evaluate
classification`` and the classification bundle's inference: segment, post-process with the
segmentation bundle's mask rules, split touching cells, cut one fixed-scale patch per cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hemseg.postproc.instances import split_cells
from hemseg.postproc.patches import cell_patch, central_cell
from hemseg.postproc.protocols import SegmenterLike
from hemseg.postproc.rules import postprocess


@dataclass
class CellPatcher:
    """Segment white cells and cut patches for the classifier.

    Attributes:
        segmenter: a :class:`~hemseg.postproc.protocols.SegmenterLike` (e.g. :class:`hemseg.models.Segmenter`).
        structures: the segmentation network's output structures, in channel order.
        mask_rules: the segmentation bundle's ``mask_rules``.
        split_distance: touching cells are split where their centres lie this many red-cell diameters apart.
        target_rbc_px: red-cell diameter in the patches.
        patch_size: side of the patches.
        segmentation_sha256: SHA-256 of the segmentation weights.
        segmentation_settings: the segmentation inference config the patches come from, as text
            (with the weights' SHA-256 it names cached patches, so changed settings cut them anew).
    """

    segmenter: SegmenterLike
    structures: Sequence[str]
    mask_rules: Mapping[str, Mapping[str, object]]
    split_distance: float
    target_rbc_px: float
    patch_size: int
    segmentation_sha256: str = ""
    segmentation_settings: str = ""
    last_ms: float = field(default=0.0, init=False)

    def white_cells(self, image: np.ndarray, rbc_px: float) -> np.ndarray:
        """Label the white cells of a (3, H, W) RGB image in [0, 1]: (H, W) int32, 0 = background."""
        probabilities = self.segmenter.probabilities(image, rbc_px)
        self.last_ms = float(getattr(self.segmenter, "last_network_ms", 0.0))
        mask = postprocess(probabilities, self.structures, self.mask_rules, rbc_px, ["wbc"])["wbc"]
        return split_cells(mask, rbc_px, self.split_distance)

    def central_patch(self, image: np.ndarray, rbc_px: float) -> tuple[np.ndarray, bool]:
        """Patch (P, P, 4) uint8 of the white cell nearest the image centre, and whether one was found.

        With no white cell found, the patch is centred on the image with an empty mask channel.
        """
        cell = central_cell(self.white_cells(image, rbc_px))
        rgb = np.moveaxis(np.asarray(image), 0, -1)
        return cell_patch(rgb, cell, rbc_px, self.target_rbc_px, self.patch_size), bool(cell.any())
