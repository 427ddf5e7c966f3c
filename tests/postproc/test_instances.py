from __future__ import annotations

import numpy as np
from skimage.draw import disk

from hemseg.postproc import (
    instance_table,
    label_instances,
    large_piece_share,
    remove_background_coloured,
    remove_slide_pixels,
    split_at_peaks,
    split_cells,
    split_overlapping,
    split_touching,
)


def _discs(shape, centres, radius):
    mask = np.zeros(shape, bool)
    for centre in centres:
        mask[disk(centre, radius, shape=shape)] = True
    return mask


def test_touching_cells_are_split_and_separate_ones_kept():
    # two overlapping discs (one blob) and one separate disc
    mask = _discs((120, 200), [(60, 50), (60, 90), (60, 160)], radius=22)
    assert label_instances(mask).max() == 2
    labels = split_touching(mask, min_distance=15)
    assert labels.max() == 3
    assert (labels > 0).sum() == mask.sum()
    areas = np.bincount(labels.ravel())[1:]
    assert areas.min() > 0.8 * np.pi * 22**2 * 0.75  # no sliver instances


def test_overlapping_cells_split_closer_only_in_concave_groups():
    from skimage.draw import ellipse

    # left: a group of four 40 px cells, two of them 20 px apart (solidity 0.905); right: one
    # elongated cell, 28 x 68 px (solidity 0.98), which a close split cuts in two
    mask = _discs((140, 220), [(40, 40), (40, 60), (76, 40), (76, 76)], radius=20)
    mask[ellipse(70, 170, 14, 34, shape=mask.shape)] = True

    def pieces(labels):
        return [len(np.unique(labels[:, :120])) - 1, len(np.unique(labels[:, 120:])) - 1]

    assert pieces(split_touching(mask, min_distance=24)) == [3, 1]
    assert pieces(split_touching(mask, min_distance=14)) == [4, 2]
    labels = split_overlapping(mask, min_distance=24, overlap_distance=14, max_solidity=0.95)
    assert pieces(labels) == [4, 1] and (labels > 0).sum() == mask.sum()
    assert pieces(split_overlapping(mask, min_distance=24, overlap_distance=14, max_solidity=0.9)) == [3, 1]
    # split_cells in red-cell diameters (40 px): 0.6 and 0.35 are 24 and 14 px
    assert (split_cells(mask, 40.0, 0.6, 0.35, 0.95) == labels).all()
    assert (split_cells(mask, 40.0, 0.6) == split_touching(mask, min_distance=24)).all()


def test_a_cell_overlapping_a_larger_one_is_split_at_its_own_peak():
    from skimage.draw import ellipse

    # a 40 px cell overlapped by a 28 px one 28 px away (waist 19 px wide): the small cell's centre
    # (distance 14) lies 24 px from the large one's slope (distance 17 there), so split_touching's
    # square finds one marker; its peak rises 4 px above the waist (10). Right: one elongated cell.
    mask = _discs((100, 220), [(50, 40)], radius=20) | _discs((100, 220), [(50, 68)], radius=14)
    mask[ellipse(50, 160, 12, 30, shape=mask.shape)] = True
    assert label_instances(mask).max() == 2
    assert split_touching(mask, min_distance=24).max() == 2
    labels = split_at_peaks(mask, min_depth=2.0, min_distance=14.0)
    assert labels.max() == 3 and (labels > 0).sum() == mask.sum()
    assert len({labels[50, 40], labels[50, 70], labels[50, 160]}) == 3
    assert labels[50, 140] == labels[50, 180] == labels[50, 160]  # the elongated cell stays whole
    # peaks closer than min_distance merge; a peak shallower than min_depth is no marker
    assert split_at_peaks(mask, min_depth=2.0, min_distance=30.0).max() == 2
    assert split_at_peaks(mask, min_depth=6.0, min_distance=14.0).max() == 2
    # split_cells in red-cell diameters (40 px): depth 0.05 and overlap distance 0.35 are 2 and 14 px
    assert (split_cells(mask, 40.0, 0.6, 0.35, 0.9, overlap_depth=0.05) == labels).all()


def test_small_blob_without_a_peak_keeps_an_instance():
    mask = _discs((50, 50), [(25, 25)], radius=2)
    assert split_touching(mask, min_distance=15).max() == 1


def test_instance_table_one_row_per_cell_with_border_flag():
    mask = _discs((100, 100), [(50, 50), (5, 30)], radius=10)
    table = instance_table(label_instances(mask))
    assert len(table["label"]) == 2
    on_border = dict(zip(table["label"], table["on_border"], strict=True))
    centroids = dict(zip(table["label"], table["centroid-0"], strict=True))
    border_label = min(centroids, key=centroids.get)
    assert on_border[border_label] and not on_border[max(centroids, key=centroids.get)]
    assert table["area"].max() == mask[30:80, 30:80].sum()
    inner = instance_table(label_instances(mask), only=[0, max(centroids, key=centroids.get)])
    assert list(inner["label"]) == [max(centroids, key=centroids.get)] and not inner["on_border"][0]
    assert all(len(column) == 1 for column in inner.values())


def test_thin_instances_removed_and_the_rest_renumbered():
    from hemseg.postproc import remove_thin_instances

    labels = np.zeros((60, 60), np.int32)
    labels[0:3, :] = 1  # an edge strip, 3 px thick
    labels[10:30, 10:30] = 2  # a 20 px square: inscribed radius 10
    labels[10:30, 30:50] = 3  # touching square: its own radius is 10 too, not 20
    labels[40:44, 10:50] = 4  # a 4 px bar
    kept = remove_thin_instances(labels, min_radius=5)
    assert kept.max() == 2
    assert (kept[10:30, 10:30] == 1).all() and (kept[10:30, 30:50] == 2).all()
    assert not kept[0:3].any() and not kept[40:44].any()
    assert remove_thin_instances(labels, min_radius=11).max() == 0
    # a thinner limit inside the photo keeps the 4 px bar (a fragment); the edge strip needs 5
    inside = remove_thin_instances(labels, min_radius=1, edge_min_radius=5)
    assert inside.max() == 3 and not inside[0:3].any() and (inside[40:44, 10:50] == 3).all()
    assert remove_thin_instances(labels, min_radius=1).max() == 4


def test_instances_coloured_like_the_bare_slide_are_dropped():
    rgb = np.full((100, 160, 3), (230, 222, 205), np.uint8)  # beige slide
    labels = label_instances(_discs((100, 160), [(30, 30), (30, 80), (70, 30), (70, 130)], 12))
    for centre, colour in [((30, 30), (205, 120, 120)), ((30, 80), (200, 130, 125)), ((70, 30), (215, 140, 135))]:
        rgb[disk(centre, 12)] = colour  # three red cells; the fourth instance is bare slide
    background = labels == 0
    kept = remove_background_coloured(labels, rgb, background, window=60, share=0.1)
    assert kept.max() == 3 and not kept[70, 130]
    assert np.array_equal(kept > 0, (labels > 0) & (labels != labels[70, 130]))
    assert np.array_equal(
        remove_background_coloured(labels, rgb, np.zeros_like(background), window=60, share=0.1), labels
    )
    # a cool white balance (slide turned blue, red cells greyish) keeps the same three cells
    cool = np.clip(rgb * np.array([0.8, 1.0, 1.2]), 0, 255).astype(np.uint8)
    assert np.array_equal(remove_background_coloured(labels, cool, background, window=60, share=0.1) > 0, kept > 0)


def test_slide_between_crowded_cells_is_taken_off_large_pieces_only():
    rgb = np.full((100, 200, 3), (230, 222, 205), np.uint8)  # beige slide
    cells = [(30, 30), (30, 70), (70, 30), (70, 70)]
    for centre in [*cells, (50, 160)]:
        rgb[disk(centre, 12)] = (205, 120, 120)
    rgb[disk((30, 30), 4)] = (228, 220, 204)  # a target cell's pale centre, nearly slide-coloured
    # the network's mask: the four cells and the slide between them as one piece, one lone cell, and
    # a patch of slide below the lone cell, as large as a cell and joined to it
    mask = np.zeros((100, 200), bool)
    mask[18:83, 18:83] = True
    mask |= _discs((100, 200), [(50, 160), (72, 160)], 12)
    background = ~mask
    area = np.pi * 12**2
    trimmed = remove_slide_pixels(mask, rgb, background, window=60, share=0.15, min_area=3 * area, max_hole=0.3 * area)
    # the large piece keeps exactly its four cells, the pale centre filled again
    assert np.array_equal(trimmed[:, :100], _discs((100, 200), cells, 12)[:, :100])
    assert label_instances(trimmed[:, :100]).max() == 4
    # the piece of two cells' area is below the limit: left as it was, slide patch and all
    assert np.array_equal(trimmed[:, 100:], mask[:, 100:])
    assert np.array_equal(remove_slide_pixels(mask, rgb, background, 60, 0.15, 30 * area, 0.3 * area), mask)


def test_large_piece_share_counts_the_pixels_of_pieces_above_the_area():
    mask = np.zeros((100, 200), bool)
    mask[10:40, 10:40] = True  # 900 px
    mask[60:70, 100:110] = True  # 100 px
    mask[70:80, 110:120] = True  # 100 px, diagonally joined to the one above: one piece of 200 px
    assert large_piece_share(mask, 150) == 1.0
    assert large_piece_share(mask, 199) == 1.0
    assert large_piece_share(mask, 200) == 900 / 1100
    assert large_piece_share(mask, 900) == 0.0
    assert large_piece_share(np.zeros((10, 10), bool), 1) == 0.0
