"""Cell measures of constructed patches (exact areas, lobes, colours) and their specimen scale."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab

from hemseg.postproc import MORPHOMETRY_NAMES, cell_morphometry, specimen_normalised

NUCLEUS, CYTOPLASM, SURROUND = (90, 40, 130), (200, 170, 210), (235, 205, 190)
COLUMN = {name: i for i, name in enumerate(MORPHOMETRY_NAMES)}


def _patch(lobes: list[tuple[int, int]], lobe_radius: int = 5, cell_radius: int = 20) -> np.ndarray:
    """A round cell of CYTOPLASM on SURROUND with a nucleus of separate round lobes centred at ``lobes``."""
    yy, xx = np.mgrid[:64, :64]
    cell = np.hypot(yy - 32, xx - 32) <= cell_radius
    patch = np.zeros((64, 64, 4), np.uint8)
    patch[..., :3] = SURROUND
    patch[cell, :3] = CYTOPLASM
    for row, col in lobes:
        patch[np.hypot(yy - row, xx - col) <= lobe_radius, :3] = NUCLEUS
    patch[..., 3] = cell * 255
    return patch


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    return rgb2lab(np.array([[rgb]], np.uint8))[0, 0]


def test_a_three_lobed_nucleus_is_counted_and_measured():
    [measures] = cell_morphometry(_patch([(24, 24), (24, 40), (40, 32)])[None])
    cell_pixels, lobe_pixels = 1257, 81  # pixels within radius 20 and 5 of a pixel centre
    assert measures[COLUMN["cell_area"]] == cell_pixels
    assert measures[COLUMN["nucleus_lobes"]] == 3
    assert measures[COLUMN["nucleus_to_cell"]] == 3 * lobe_pixels / cell_pixels
    assert measures[COLUMN["nucleus_solidity"]] < 0.5  # three lobes fill well under half their hull
    # colours: exact L*a*b* differences of the constructed colours
    surround, nucleus, cytoplasm = _lab(SURROUND), _lab(NUCLEUS), _lab(CYTOPLASM)
    np.testing.assert_allclose(measures[COLUMN["nucleus_a"]], nucleus[1] - surround[1], atol=1e-6)
    np.testing.assert_allclose(measures[COLUMN["cytoplasm_b"]], cytoplasm[2] - surround[2], atol=1e-6)
    span = surround[0] - nucleus[0]
    np.testing.assert_allclose(measures[COLUMN["cytoplasm_lightness"]], (cytoplasm[0] - nucleus[0]) / span, atol=1e-6)
    assert abs(measures[COLUMN["nucleus_texture"]]) < 1e-12  # flat colours


def test_a_round_nucleus_is_one_solid_lobe_and_a_speck_is_no_cell():
    measures = cell_morphometry(np.stack([_patch([(32, 32)], lobe_radius=12), _patch([], cell_radius=2)]))
    assert measures[0, COLUMN["nucleus_lobes"]] == 1
    assert measures[0, COLUMN["nucleus_solidity"]] > 0.9  # a digital disc against its convex hull
    assert measures[0, COLUMN["nucleus_eccentricity"]] < 0.1
    assert np.isnan(measures[1]).all()  # 13 cell pixels < MIN_CELL_PIXELS


def test_specimen_scale_makes_sizes_relative_and_colours_standard():
    reference = np.zeros((3, len(MORPHOMETRY_NAMES)))
    reference[:, COLUMN["cell_area"]] = [1600.0, 2500.0, 3600.0]  # median 2500: lengths divide by 50
    reference[:, COLUMN["cell_major"]] = 50.0
    reference[:, COLUMN["nucleus_a"]] = [10.0, 20.0, 40.0]  # median 20, quartiles 15 and 30
    reference[:, COLUMN["nucleus_lobes"]] = 3
    [scaled] = specimen_normalised(reference[[0]], reference)
    assert scaled[COLUMN["cell_area"]] == 1600.0 / 2500.0
    assert scaled[COLUMN["cell_major"]] == 1.0
    assert scaled[COLUMN["nucleus_a"]] == (10.0 - 20.0) / 15.0
    assert scaled[COLUMN["nucleus_lobes"]] == 3  # shapes as they are
    assert scaled[COLUMN["cytoplasm_b"]] == 0.0  # no spread: only the median taken off
