"""Cell patches: exact geometry on constructed images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hemseg.postproc import cell_patch, cell_patches, central_instance, instance_table


def _disk(shape, centre, radius):
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2


def test_central_instance_prefers_the_cell_covering_the_centre():
    labels = np.zeros((101, 101), np.int32)
    labels[_disk(labels.shape, (50, 80), 15)] = 1  # big, off-centre
    labels[_disk(labels.shape, (45, 50), 6)] = 2  # small, covers the centre
    assert central_instance(labels) == 2
    labels[labels == 2] = 0
    assert central_instance(labels) == 1
    assert central_instance(np.zeros((5, 5), np.int32)) == 0


@pytest.mark.parametrize(("rbc_px", "zoom", "radius"), [(72.0, 0.5, 40), (18.0, 2.0, 20), (36.0, 1.0, 30)])
def test_patch_is_centred_on_the_cell_at_the_target_scale(rbc_px, zoom, radius):
    image = np.zeros((300, 400, 3), np.uint8)
    image[..., 0] = 200  # background
    cell = _disk(image.shape[:2], (120, 250), radius)
    image[cell] = (60, 30, 150)
    patch = cell_patch(image, cell, rbc_px=rbc_px, target_rbc_px=36.0, size=96)
    assert patch.shape == (96, 96, 4) and patch.dtype == np.uint8
    mask = patch[..., 3] > 0
    # area scales with zoom^2 and the centroid is the patch centre
    assert abs(mask.sum() - cell.sum() * zoom**2) / (cell.sum() * zoom**2) < 0.06
    rows, cols = np.nonzero(mask)
    assert abs(rows.mean() - 47.5) < 1.0 and abs(cols.mean() - 47.5) < 1.0
    # colour inside the cell and of the background are kept
    assert np.abs(patch[48, 48, :3].astype(int) - (60, 30, 150)).max() <= 2
    assert np.abs(patch[2, 2, :3].astype(int) - (200, 0, 0)).max() <= 2


def test_patch_past_the_image_edge_repeats_the_edge_and_has_no_mask_there():
    image = np.full((50, 50, 3), 90, np.uint8)
    cell = _disk(image.shape[:2], (5, 5), 4)
    image[cell] = 10
    patch = cell_patch(image, cell, rbc_px=36.0, target_rbc_px=36.0, size=64)
    assert (patch[:20, :20, :3] == 90).all()  # replicated edge, not black
    assert abs(int((patch[..., 3] > 0).sum()) - int(cell.sum())) <= 2  # nearest-neighbour, half-pixel shift


def test_empty_mask_centres_on_the_image_and_float_images_are_accepted():
    image = np.random.default_rng(0).random((40, 60, 3))
    patch = cell_patch(image, np.zeros((40, 60), bool), rbc_px=36.0, target_rbc_px=36.0, size=20)
    assert not patch[..., 3].any()
    assert np.array_equal(patch[0, 0, :3], np.round(image[10, 20] * 255).astype(np.uint8))


@pytest.mark.parametrize(
    ("image", "mask", "message"),
    [
        (np.zeros((10, 10)), np.zeros((10, 10), bool), "RGB"),
        (np.zeros((10, 10, 3)), np.zeros((9, 10), bool), "differs"),
    ],
)
def test_bad_inputs_are_rejected(image, mask, message):
    with pytest.raises(ValueError, match=message):
        cell_patch(image, mask, rbc_px=36.0, target_rbc_px=36.0, size=16)


@pytest.mark.parametrize(("rbc_px", "label_scale"), [(72.0, 0.5), (36.0, 1.0), (18.0, 0.5), (40.0, 0.75)])
def test_cell_patches_cut_what_cell_patch_cuts_cell_by_cell(rbc_px, label_scale):
    """Shrinking once and working per cell window gives the patches of cell_patch on whole-photo masks."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    shape = (round(240 * label_scale), round(320 * label_scale))
    labels = np.zeros(shape, np.int32)
    for index, (row, col, radius) in enumerate([(30, 40, 12), (60, 150, 20), (5, 300, 9), (235, 5, 7)], start=1):
        labels[_disk(shape, (row * label_scale, col * label_scale), radius * label_scale)] = index
    table = instance_table(labels)
    fast = cell_patches(image, labels, table, rbc_px, 36.0, 48)
    sy, sx = 240 / shape[0], 320 / shape[1]
    for row, index in enumerate(table["label"]):
        centre = ((table["centroid-0"][row] + 0.5) * sy - 0.5, (table["centroid-1"][row] + 0.5) * sx - 0.5)
        mask = cv2.resize((labels == index).astype(np.uint8), (320, 240), interpolation=cv2.INTER_NEAREST) > 0
        slow = cell_patch(image, mask, rbc_px, 36.0, 48, centre=centre)
        assert np.abs(fast[row, ..., :3].astype(int) - slow[..., :3]).max() <= 1  # fixed-point rounding
        a, b = fast[row, ..., 3] > 0, slow[..., 3] > 0
        assert (a & b).sum() / (a | b).sum() >= 0.8  # both nearest-neighbour masks; they differ on the rim
        assert abs(a.sum() - b.sum()) <= 0.1 * b.sum()
    assert cell_patches(image, labels, instance_table(np.zeros_like(labels)), rbc_px, 36.0, 48).shape == (0, 48, 48, 4)
