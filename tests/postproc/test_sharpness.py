"""Sharpness of constructed patches' surrounds, a source's range of it, and a specimen checked against it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from hemseg.postproc import StainReference, sharpness_range, surround_sharpness, unfamiliar_look


def _patch(sigma: float = 0.0, gain: float = 1.0, cell_radius: int = 12) -> np.ndarray:
    """A 96 px patch: red-cell disks 20 px across on a light slide, blurred by ``sigma``, a cell in the middle."""
    yy, xx = np.mgrid[:96, :96]
    grey = np.full((96, 96), 225.0)
    for cy in range(10, 96, 26):
        for cx in range(10, 96, 26):
            grey[np.hypot(yy - cy, xx - cx) <= 10] = 150.0
    if sigma:
        grey = gaussian_filter(grey, sigma, mode="nearest")
    patch = np.zeros((96, 96, 4), np.uint8)
    patch[..., :3] = np.clip(np.round(grey * gain), 0, 255)[..., None]
    patch[..., 3] = (np.hypot(yy - 48, xx - 48) <= cell_radius) * 255
    return patch


def test_blur_lowers_the_sharpness_and_a_gain_leaves_it():
    sharp, blurred, darker = surround_sharpness(np.stack([_patch(), _patch(sigma=1.5), _patch(gain=0.8)]))
    assert blurred < sharp - 0.5
    assert darker == pytest.approx(sharp, abs=0.02)  # a darker photo: both bands scale alike (up to rounding)


def test_a_cell_filling_the_patch_leaves_no_surround():
    assert np.isnan(surround_sharpness(_patch(cell_radius=60)[None])).all()


def test_the_range_spans_the_medians_of_the_source_and_of_each_class_and_widens_by_the_margin():
    rng = np.random.default_rng(0)
    values = np.r_[rng.normal(-1.0, 0.05, 200), rng.normal(-1.4, 0.05, 100)]
    labels = ["neutrophil"] * 200 + ["lymphocyte"] * 100
    low, high = sharpness_range(values, labels, cells=25, margin=0.0)
    assert -1.5 < low < -1.4 and -1.0 < high < -0.9  # a specimen of lymphocytes alone, and of neutrophils alone
    assert sharpness_range(values, labels, cells=25, margin=0.05) == pytest.approx((low - 0.05, high + 0.05))
    with pytest.raises(ValueError, match="fewer than the 25 of a specimen"):
        sharpness_range(values[:10], labels[:10], cells=25)


def test_a_specimen_outside_the_range_of_its_stain_source_is_unfamiliar():
    sources = {"a": (np.zeros(6), np.eye(6)), "b": (np.full(6, 30.0), np.eye(6))}
    reference = StainReference(sources, 5.0, {"a": (-1.5, -0.8), "b": (-1.1, -0.8)})
    assert reference.nearest_sources(np.array([np.zeros(6), np.full(6, 29.0), np.full(6, np.nan)])) == ["a", "b", None]
    # nearest to "b" for most cells: its range decides
    found = reference.unfamiliar_sharpness(["b", "b", "a", None], [-1.3, -1.2, -1.3, -0.1])
    assert found == {"source": "b", "sharpness": -1.3, "sharpness_range": [-1.1, -0.8]}
    assert reference.unfamiliar_sharpness(["a", "a", "b"], [-1.3, -1.2, -1.3]) is None  # inside "a"'s
    assert StainReference(sources, 5.0).unfamiliar_sharpness(["a"], [-9.0]) is None  # no ranges: no check
    again = StainReference.from_dict(reference.to_dict())
    assert again.sharpness == reference.sharpness
    older = reference.to_dict()
    del older["sharpness"]  # a reference written before the sharpness ranges
    assert StainReference.from_dict(older).sharpness == {}


def test_a_specimen_is_unfamiliar_for_its_stain_or_its_sharpness_with_enough_cells():
    reference = StainReference({"a": (np.zeros(6), np.eye(6))}, 5.0, {"a": (-1.5, -0.8)})
    sources, sharper = ["a"] * 4, [-0.5] * 4
    assert unfamiliar_look([True, True, False, False], 4, 0.5) == {"unfamiliar_share": 0.5}
    assert unfamiliar_look([True, True, False], 4, 0.5) is None  # too few cells
    assert unfamiliar_look([False] * 4, 4, 0.5, reference, sources, [-1.0] * 4) is None
    assert unfamiliar_look([True, False, False, False], 4, 0.5, reference, sources, sharper) == {
        "unfamiliar_share": 0.25,
        "source": "a",
        "sharpness": -0.5,
        "sharpness_range": [-1.5, -0.8],
    }
