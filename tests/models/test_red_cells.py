from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from hemseg.data import RBC_CLASSES
from hemseg.models import pseudo_labelled_red_cells


def _photos(root, count):
    (root / "images").mkdir(parents=True)
    for index in range(count):
        Image.fromarray(np.full((120, 200, 3), (230, 190, 205), np.uint8)).save(root / "images" / f"{index:03d}.png")
    (root / "dataset.json").write_text(json.dumps({"name": root.name, "license": "CC0", "structures": {}}))


def _three_red_cells(image, rbc_px):
    assert rbc_px is None  # the pipeline estimates each photo's scale, as hemseg diagnose does
    rbc = np.zeros(image.shape[:2], np.int32)
    for label, left in enumerate((10, 80, 150), start=1):
        rbc[40:80, left : left + 40] = label
    return SimpleNamespace(rbc=rbc, rbc_px=40.0)


class _Teacher:
    """Sure the first cell is normal (0.9), unsure of the second (0.5), sure the third is a spherocyte (0.85)."""

    classes = RBC_CLASSES

    def probabilities(self, patches):
        rows = np.full((len(patches), len(RBC_CLASSES)), 0.0, np.float32)
        rows[0, [0, 1]] = 0.9, 0.1
        rows[1, [0, 3]] = 0.5, 0.5
        rows[2, [0, 3]] = 0.15, 0.85
        return rows


def test_other_labs_red_cells_keep_the_teachers_sure_answers_cut_once(tmp_path):
    _photos(tmp_path / "other", 10)
    args = ("cells+teacher", tmp_path, ["other"], "train", tmp_path / "cache", 40.0, 80, 0.8)
    records = pseudo_labelled_red_cells(_three_red_cells, _Teacher(), *args)
    photos = {r["id"] for r in records}
    assert 0 < len(photos) < 10  # the training side of the split only
    assert len(records) == 2 * len(photos)  # the unsure cell of each photo is left out
    assert [r["label"] for r in records] == ["normal", "spherocyte"] * len(photos)
    assert all(r["target"].argmax() == RBC_CLASSES.index(r["label"]) and r["target"].sum() == 1 for r in records)
    assert records[0]["image"].shape == (3, 80, 80) and records[0]["mask"].shape == (1, 80, 80)
    assert int((records[0]["mask"] > 0).sum()) == 40 * 40  # at the photo's own scale: 40 px stays 40 px
    assert {r["dataset"] for r in records} == {"other"}

    def no_segmentation(image, rbc_px):
        raise AssertionError("the cached cells are used")

    again = pseudo_labelled_red_cells(no_segmentation, None, *args)
    assert [r["label"] for r in again] == [r["label"] for r in records]
    stricter = pseudo_labelled_red_cells(no_segmentation, None, *args[:-1], 0.88)
    assert [r["label"] for r in stricter] == ["normal"] * len(photos)
    with pytest.raises(AssertionError, match="cached"):  # another teacher: cut and classified anew
        pseudo_labelled_red_cells(no_segmentation, None, "cells+another", *args[1:])


def test_cells_a_point_marks_are_left_out_at_the_datasets_own_scale(tmp_path):
    _photos(tmp_path / "marked", 10)
    rows = [f"{index:03d},30,60,spherocyte" for index in range(10)]  # each photo's first cell is marked
    (tmp_path / "marked" / "points.csv").write_text("id,x,y,label\n" + "\n".join(rows) + "\n")

    def at_its_scale(image, rbc_px):
        assert rbc_px == 40.0  # the dataset's own diameter, not estimated
        return _three_red_cells(image, None)

    class SureOfAll:
        def probabilities(self, patches):
            return np.tile(np.eye(len(RBC_CLASSES), dtype=np.float32)[0], (len(patches), 1))

    args = ("cells+teacher", tmp_path, ["marked"], "train", tmp_path / "cache", 40.0, 80, 0.8)
    records = pseudo_labelled_red_cells(
        at_its_scale, SureOfAll(), *args, rbc_diameter_px={"marked": 40.0}, tag=":unmarked"
    )
    photos = {r["id"] for r in records}
    assert 0 < len(photos) < 10
    assert len(records) == 2 * len(photos)  # the marked cell of each photo has its own label
    assert [int(r["mask"][0, 40, 40] > 0) for r in records] == [1, 1] * len(photos)
    assert {r["dataset"] for r in records} == {"marked:unmarked"}
