"""Probability maps of several structures -> clean masks, by rules in units of the red-cell diameter."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from hemseg.postproc.morphology import clean_mask


@dataclass(frozen=True)
class MaskRules:
    """Post-processing of one structure's probability map, in units of the red-cell diameter ``d``.

    Attributes:
        threshold: probability at or above which a pixel is foreground.
        closing_radius: closing disk radius, as a fraction of ``d``.
        fill_holes: fill enclosed holes.
        min_area: smallest kept component, as a fraction of one red cell's area (pi d^2 / 4).
    """

    threshold: float = 0.5
    closing_radius: float = 0.0
    fill_holes: bool = True
    min_area: float = 0.0


def postprocess(
    probabilities: np.ndarray,
    structures: Iterable[str],
    rules: Mapping[str, Mapping[str, object]],
    rbc_px: float,
    only: Iterable[str] | None = None,
) -> dict[str, np.ndarray]:
    """Turn (C, H, W) probabilities into clean masks per structure (``only`` these, when given).

    ``rules`` maps a structure to the fields of :class:`MaskRules` (a segmentation bundle's
    ``mask_rules``); ``rbc_px`` is the image's red-cell diameter, the unit of those rules.
    """
    wanted = None if only is None else set(only)
    masks = {}
    for channel, structure in enumerate(structures):
        if wanted is not None and structure not in wanted:
            continue
        rule = MaskRules(**rules.get(structure, {}))
        masks[structure] = clean_mask(
            probabilities[channel],
            threshold=rule.threshold,
            closing_radius=round(rule.closing_radius * rbc_px),
            fill_holes=rule.fill_holes,
            min_area=round(rule.min_area * math.pi * rbc_px**2 / 4),
        )
    return masks
