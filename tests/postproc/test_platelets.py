"""Platelets by colour on a constructed smear: small violet blobs outside white cells."""

from __future__ import annotations

import cv2
import numpy as np

from hemseg.postproc import platelet_instances


def smear() -> tuple[np.ndarray, np.ndarray]:
    image = np.full((300, 400, 3), (232, 226, 214), np.uint8)
    for x, y in [(60, 60), (160, 60), (260, 60), (60, 220), (340, 220)]:
        cv2.circle(image, (x, y), 24, (206, 128, 128), -1)  # red cells
    for x, y in [(150, 200), (250, 150), (350, 40)]:
        cv2.circle(image, (x, y), 6, (120, 60, 170), -1)  # platelets
    cv2.circle(image, (60, 140), 30, (200, 180, 205), -1)  # white cell: cytoplasm and nucleus
    cv2.circle(image, (60, 140), 18, (90, 40, 130), -1)
    cv2.circle(image, (250, 250), 30, (90, 40, 130), -1)  # violet but far too big: not a platelet
    wbc = np.zeros(image.shape[:2], bool)
    cv2.circle(wbc.view(np.uint8), (60, 140), 30, 1, -1)
    return image, wbc


def test_platelets_counted_exactly_nucleus_and_big_blob_left_out():
    image, wbc = smear()
    labels = platelet_instances(image, wbc, 48, min_contrast=40.0, min_area=0.015, max_area=0.25)
    assert labels.max() == 3
    for x, y in [(150, 200), (250, 150), (350, 40)]:
        assert labels[y, x] > 0
    assert labels[140, 60] == 0 and labels[250, 250] == 0


def test_plain_background_has_no_platelets():
    image = np.full((100, 100, 3), 230, np.uint8)
    assert platelet_instances(image, np.zeros((100, 100), bool), 48, 40.0, 0.015, 0.25).max() == 0
