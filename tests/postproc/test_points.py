from __future__ import annotations

import numpy as np

from hemseg.postproc import instances_at_points, point_instances, point_patches


def test_each_point_takes_the_instance_that_holds_it_or_a_near_one_within_the_radius():
    labels = np.zeros((20, 30), np.int32)
    labels[2:8, 2:8] = 1
    labels[10:18, 20:28] = 2
    points = np.array([[4, 4], [24.4, 13.6], [10.0, 10.0], [9.0, 5.0], [-3.0, 4.0], [29.0, 19.0]])  # (x, y)
    assert instances_at_points(labels, points).tolist() == [1, 2, 0, 0, 0, 0]
    # (9, 5) lies 2 px right of cell 1; (29, 19) 2 px below-right of cell 2's corner (within 2.9 px)
    assert instances_at_points(labels, points, radius=2.9).tolist() == [1, 2, 0, 1, 0, 2]


def test_point_patches_cut_each_marked_cell_at_its_true_size_from_labels_at_half_scale():
    image = np.full((80, 120, 3), 230, np.uint8)
    labels = np.zeros((40, 60), np.int32)  # half scale: cells of 10 and 14 px in the photo's pixels
    labels[5:10, 5:10] = 1
    labels[20:27, 30:37] = 2
    image[10:20, 10:20] = (200, 60, 60)
    image[40:54, 60:74] = (200, 60, 60)
    points = np.array([[14.5, 14.5], [66.5, 46.5], [100.0, 70.0]])  # cell 1, cell 2, background
    instances, patches = point_patches(image, labels, points, rbc_px=10.0, target_rbc_px=20.0, size=48)
    assert instances.tolist() == [1, 2, 0]
    assert point_instances(labels, image.shape[:2], points, rbc_px=10.0).tolist() == [1, 2, 0]
    # (21, 14) lies 2 px right of cell 1 in the photo: within 0.3 red-cell diameters (3 px), not 0.15
    assert point_instances(labels, image.shape[:2], [(21.0, 14.0)], rbc_px=10.0, radius=0.3).tolist() == [1]
    assert point_instances(labels, image.shape[:2], [(21.0, 14.0)], rbc_px=10.0).tolist() == [0]
    assert patches.shape == (3, 48, 48, 4)
    # the masks keep the cells' relative size: 20 px and 28 px across at 2x zoom
    assert [int((p[24, :, 3] > 0).sum()) for p in patches] == [20, 28, 0]
    assert tuple(patches[0, 24, 24, :3]) == (200, 60, 60)
