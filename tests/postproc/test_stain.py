"""Stain signatures of constructed patches (exact colours) and the reference of known stains."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import lab2rgb, rgb2lab

from hemseg.postproc import StainReference, match_stain, stain_signatures

NUCLEUS, CYTOPLASM, SURROUND = (90, 40, 130), (200, 170, 210), (235, 205, 190)


def _patch(nucleus_radius: int = 8, cell_radius: int = 12) -> np.ndarray:
    yy, xx = np.mgrid[:40, :40]
    distance = np.hypot(yy - 20, xx - 20)
    patch = np.zeros((40, 40, 4), np.uint8)
    patch[..., :3] = SURROUND
    patch[distance <= cell_radius, :3] = CYTOPLASM
    patch[distance <= nucleus_radius, :3] = NUCLEUS
    patch[..., 3] = (distance <= cell_radius) * 255
    return patch


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    return rgb2lab(np.array([[rgb]], np.uint8))[0, 0]


def test_signature_is_the_nucleus_and_surround_colour():
    # the nucleus holds 197 of the cell's 441 pixels: the darkest 30 % are all nucleus
    [signature] = stain_signatures(_patch()[None])
    np.testing.assert_allclose(signature, np.r_[_lab(NUCLEUS), _lab(SURROUND)], atol=1e-6)


def test_a_cell_too_small_has_no_signature():
    signatures = stain_signatures(np.stack([_patch(), _patch(nucleus_radius=2, cell_radius=3)]))
    assert not np.isnan(signatures[0]).any() and np.isnan(signatures[1]).all()  # 29 pixels < 50


def test_reference_threshold_familiar_and_unfamiliar_stains():
    rng = np.random.default_rng(0)
    sources = {"a": rng.normal(0, 2, (500, 6)), "b": rng.normal(30, 3, (300, 6))}
    reference = StainReference.fit(sources, quantile=0.99)
    own = np.concatenate([reference.unfamiliar(rows) for rows in sources.values()])
    assert own.mean() <= 0.01  # the threshold is the 99th percentile of the sources' own distances
    probes = np.array([np.zeros(6), np.full(6, 30.0), np.full(6, 15.0), np.full(6, np.nan)])
    assert reference.unfamiliar(probes).tolist() == [False, False, True, False]  # between the two: unlike both
    again = StainReference.from_dict(reference.to_dict())
    np.testing.assert_allclose(again.distances(probes[:3]), reference.distances(probes[:3]))
    assert again.threshold == reference.threshold


def test_a_reference_of_another_signature_is_refused():
    data = StainReference({"a": (np.zeros(6), np.eye(6))}, 1.0).to_dict()
    data["signature"] = ["R", "G", "B", "r", "g", "b"]
    with pytest.raises(ValueError, match="another signature"):
        StainReference.from_dict(data)


def _recoloured(patch: np.ndarray, gain: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The patch with each L*a*b* channel mapped affinely (another lab's stain), mask kept."""
    out = patch.copy()
    lab = rgb2lab(patch[..., :3]) * gain + offset
    out[..., :3] = np.round(np.clip(lab2rgb(lab), 0, 1) * 255)
    return out


def test_matching_a_stain_brings_another_labs_colours_back():
    # a paler, pinker lab: lighter nucleus, less contrast, a shifted toward red
    patch = _patch()
    target = stain_signatures(patch[None])[0]
    other = _recoloured(patch, np.array([0.8, 0.7, 0.8]), np.array([15.0, 8.0, 4.0]))
    source = stain_signatures(other[None])[0]
    assert np.abs(source - target).max() > 10  # far apart before
    matched = match_stain(other[None], source, target)
    np.testing.assert_allclose(stain_signatures(matched)[0], target, atol=1.0)  # back within rounding
    np.testing.assert_array_equal(matched[..., 3], other[None, ..., 3])  # the cell mask is kept
    np.testing.assert_array_equal(match_stain(patch[None], target, target), patch[None])  # a known stain stays


def test_a_stain_with_no_contrast_in_a_channel_keeps_a_bounded_gain():
    # a and b of nucleus and surround equal: the gain is clamped, not infinite
    source = np.array([30.0, 5.0, 5.0, 90.0, 5.0, 5.0])
    target = np.array([30.0, 40.0, -40.0, 90.0, 6.0, 12.0])
    matched = match_stain(_patch()[None], source, target)
    assert matched.dtype == np.uint8 and matched.shape == (1, 40, 40, 4)
    assert match_stain(np.zeros((0, 40, 40, 4), np.uint8), source, target).shape == (0, 40, 40, 4)


def test_the_nearest_source_is_the_closest_stain():
    reference = StainReference({"a": (np.zeros(6), np.eye(6)), "b": (np.full(6, 30.0), np.eye(6))}, 5.0)
    np.testing.assert_array_equal(reference.nearest(np.full(6, 20.0)), np.full(6, 30.0))
    np.testing.assert_array_equal(reference.nearest(np.full(6, 10.0)), np.zeros(6))
