"""Stain signatures of constructed patches (exact colours) and the reference of known stains."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import rgb2lab

from hemseg.postproc import StainReference, stain_signatures

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
