"""Platelets found by colour: small violet objects outside white cells (a classical method)."""

from __future__ import annotations

import math

import cv2
import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.measure import label
from skimage.morphology import remove_small_objects


def platelet_instances(
    image: np.ndarray,
    wbc_mask: np.ndarray,
    rbc_px: float,
    min_contrast: float,
    min_area: float,
    max_area: float,
) -> np.ndarray:
    """Label platelets in an (H, W, 3) uint8 RGB smear photo.

    Romanowsky stains colour platelets (like nuclei) violet: blue well above green. Pixels whose
    smoothed blue - green exceeds both Otsu's threshold and ``min_contrast`` are candidates;
    candidates within 0.2 red-cell diameters of a white cell are dropped (its nucleus and granules),
    and the rest are kept when their area lies between ``min_area`` and ``max_area`` red-cell areas.

    Returns:
        (H, W) int32 labels, 0 = background.
    """
    rgb = np.asarray(image, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    violet = ndimage.gaussian_filter(rgb[..., 2] - rgb[..., 1], 1.0)
    threshold = max(float(threshold_otsu(violet)) if np.ptp(violet) > 0 else math.inf, min_contrast)
    candidates = violet > threshold
    margin = max(1, round(0.2 * rbc_px))
    near_wbc = (
        cv2.dilate(np.asarray(wbc_mask, np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1,) * 2))
        > 0
    )
    candidates &= ~near_wbc
    rbc_area = math.pi * rbc_px**2 / 4
    kept = remove_small_objects(candidates, max_size=max(0, round(min_area * rbc_area) - 1))
    labels = label(kept, connectivity=2).astype(np.int32)
    sizes = np.bincount(labels.ravel())
    too_big = np.nonzero(sizes > max_area * rbc_area)[0]
    labels[np.isin(labels, too_big[too_big > 0])] = 0
    return label(labels > 0, connectivity=2).astype(np.int32)
