"""The whole per-photo pipeline on a constructed smear, with stub networks: exact counts, no torch."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from stubs import (
    BACKGROUND,
    CYTOPLASM,
    RED,
    RULES,
    ColourSegmenter,
    RedSizeClassifier,
    SizeClassifier,
    analyser,
    smear,
)


@pytest.mark.parametrize("scale", [1, 2])
def test_constructed_smear_counted_exactly_with_the_scale_estimated(scale):
    image, red = smear(scale)
    report = analyser().analyse(image)
    assert report.scale_source == "estimated"
    assert report.rbc_diameter_px == pytest.approx(48 * scale, rel=0.05)
    counts = report.counts()
    assert (counts["wbc"], counts["neutrophil"], counts["lymphocyte"], counts["blast"]) == (3, 1, 2, 0)
    assert (counts["rbc"], counts["platelet"]) == (red, 2)
    white = sorted((c for c in report.cells if c.kind == "wbc"), key=lambda c: c.centroid)
    assert [c.cls for c in white] == ["neutrophil", "lymphocyte", "lymphocyte"]  # the touching pair split in two
    assert [c.review for c in white] == [False, True, True]  # 0.55 < review_below 0.6
    assert [c.alternative for c in white] == ["lymphocyte", "neutrophil", "neutrophil"]
    assert white[1].centroid[0] == pytest.approx(430 * scale, abs=6 * scale)
    assert white[0].area == pytest.approx(np.pi * (40 * scale) ** 2, rel=0.1)  # reported in the photo's pixels
    assert [f.name for f in report.flags] == ["uncertain_cells"]  # 2 of 3 for review > 30 %
    assert (report.width, report.height) == (640 * scale, 480 * scale)


def test_a_given_scale_is_used_and_named():
    image, red = smear()
    report = analyser().analyse(image, rbc_px=48.0, scale_source="um_per_px")
    assert (report.rbc_diameter_px, report.scale_source) == (48.0, "um_per_px")
    assert (report.counts()["wbc"], report.counts()["rbc"]) == (3, red)


def test_too_few_red_cells_fall_back_to_the_assumed_scale():
    image = np.full((300, 300, 3), BACKGROUND, np.uint8)
    cv2.circle(image, (150, 150), 40, CYTOPLASM, -1)
    report = analyser().analyse(image)
    assert (report.rbc_diameter_px, report.scale_source) == (70.0, "assumed")
    assert report.counts()["wbc"] == 1 and report.rbc == 0


def test_a_crop_without_red_cells_takes_the_scale_from_its_white_cell():
    """The white cell (80 px across) taken as 1.6 red cells: 50 px red cells; a field keeps the assumed scale."""
    stub = analyser()
    stub.scale = replace(stub.scale, crop_side=400, crop_wbc_diameter=1.6)
    for size, expected in ((300, "white_cell"), (500, "assumed")):
        image = np.full((size, size, 3), BACKGROUND, np.uint8)
        cv2.circle(image, (size // 2, size // 2), 40, CYTOPLASM, -1)
        report = stub.analyse(image)
        assert report.scale_source == expected and report.counts()["wbc"] == 1
        assert report.rbc_diameter_px == (pytest.approx(50, rel=0.05) if size == 300 else 70.0)


def test_the_pipeline_imports_no_torch():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; from stubs import analyser, smear; report = analyser().analyse(smear()[0]);"
        "assert report.counts()['wbc'] == 3; assert 'torch' not in sys.modules, 'torch imported'"
    )
    here = Path(__file__).parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=here, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_geojson_outlines_enclose_the_pixel_count_and_nuclei_make_qupath_cells():
    import json

    from shapely.geometry import Polygon

    from hemseg.diagnosis import cells_geojson

    report = analyser().analyse(smear()[0], rbc_px=48.0)  # the network's scale: outlines in the photo's pixels
    features = json.loads(cells_geojson(report.cells))["features"]
    assert len(features) == len(report.cells)
    for cell, feature in zip(report.cells, features, strict=True):
        assert (
            Polygon(feature["geometry"]["coordinates"][0]).area
            == cell.area
            == feature["properties"]["measurements"]["area_px"]
        )
    white = [f for f in features if f["properties"]["kind"] == "wbc"]
    assert len(white) == 3 and all(f["properties"]["objectType"] == "cell" for f in white)
    for feature in white:
        nucleus = Polygon(feature["nucleusGeometry"]["coordinates"][0])
        assert nucleus.area == feature["properties"]["measurements"]["nucleus_area_px"] > 0
        assert Polygon(feature["geometry"]["coordinates"][0]).contains(nucleus)
    assert {f["properties"]["objectType"] for f in features if f["properties"]["kind"] != "wbc"} == {"detection"}


@pytest.mark.parametrize("rbc_px", [48.0, None])
def test_a_photo_larger_than_a_tile_is_analysed_tile_by_tile_with_every_cell_once(rbc_px):
    from hemseg.diagnosis import TileRules

    image, red = smear()
    whole = analyser().analyse(image, rbc_px=48.0)
    tiled_analyser = analyser()
    tiled_analyser.tiling = TileRules(max_pixels=400 * 300, overlap=4.0)  # 6 tiles of at most 400x300
    tiled = tiled_analyser.analyse(image, rbc_px=rbc_px)
    assert tiled.rbc_diameter_px == pytest.approx(48.0, rel=0.05)
    assert tiled.counts() == whole.counts() and tiled.counts()["rbc"] == red
    assert [c.id for c in tiled.cells] == list(range(1, len(tiled.cells) + 1))
    assert [c.kind for c in tiled.cells[:3]] == ["wbc"] * 3
    for kind in ("wbc", "rbc", "platelet"):
        a = sorted((round(c.centroid[0]), round(c.centroid[1]), c.area) for c in whole.cells if c.kind == kind)
        b = sorted((round(c.centroid[0]), round(c.centroid[1]), c.area) for c in tiled.cells if c.kind == kind)
        assert a == b, kind  # the same cells, where the whole photo has them
    assert sum(c.on_border for c in tiled.cells) == sum(c.on_border for c in whole.cells)
    # each white cell's patch is kept in the cells' order: classified again, every cell keeps its class
    assert len(tiled.patches) == len(whole.patches) == 3
    again = tiled_analyser.reclassified(tiled, SizeClassifier(), {"layers": 0})
    assert [c.cls for c in again.cells] == [c.cls for c in tiled.cells] and again.adaptation == {"layers": 0}


def test_red_cells_get_their_morphology_class_counts_and_flags():
    from dataclasses import replace

    from hemseg.diagnosis import RedCellFlag, RedCellFlagRules, summary_row

    image, red = smear()
    small = [(x, 100) for x in range(40, 640, 60) if tuple(image[100, x]) == RED]
    for x, y in small:  # a row of red cells shrunk to 14 px radius: microcytes to the stub
        cv2.circle(image, (x, y), 24, BACKGROUND, -1)
        cv2.circle(image, (x, y), 14, RED, -1)
    rules = replace(
        RULES,
        red_cells=RedCellFlagRules(
            min_rbc=20, flags={"microcytosis": RedCellFlag(("microcyte",), 11.0, "ICSH grade 1+")}
        ),
    )
    report = analyser(RedSizeClassifier(), rules).analyse(image, rbc_px=48.0)
    shares = report.red_cells
    assert len(small) >= 5 and shares.classified == red == report.rbc
    assert (shares.counts["microcyte"], shares.counts["normal"], shares.counts["schistocyte"]) == (
        len(small),
        red - len(small),
        0,
    )
    microcytes = [c for c in report.cells if c.cls == "microcyte"]
    assert all(
        c.kind == "rbc" and c.probability == pytest.approx(0.8) and c.alternative == "normal" for c in microcytes
    )
    assert sorted(round(c.centroid[0]) for c in microcytes) == [x for x, _ in small]
    assert not any(c.review for c in report.cells if c.kind == "rbc")
    percent = 100 * len(small) / red
    assert [f.name for f in report.flags] == ["uncertain_cells", "microcytosis"]
    assert report.flags[1].rule == f"microcyte {len(small)} of {red} red cells = {percent:.1f}% >= 11% (ICSH grade 1+)"
    row = summary_row("a.png", report)
    assert (row["rbc_classified"], row["rbc_microcyte"], row["rbc_microcyte_percent"]) == (
        red,
        len(small),
        round(percent, 2),
    )
    assert report.to_dict("a.png")["red_cells"]["counts"]["microcyte"] == len(small)
    # without a red-cell classifier red cells are counted only, and the columns stay empty
    plain = analyser().analyse(image, rbc_px=48.0)
    assert plain.red_cells.classified == 0 and {c.cls for c in plain.cells if c.kind == "rbc"} == {"rbc"}
    assert summary_row("a.png", plain)["rbc_classified"] is None
    assert plain.to_dict("a.png")["red_cells"]["percent"] is None


@pytest.mark.parametrize("threshold", [-1.0, np.inf])
def test_white_cells_of_an_unfamiliar_stain_are_marked_for_review(threshold):
    from hemseg.postproc import StainReference

    reference = StainReference({"any": (np.zeros(6), np.eye(6))}, threshold)  # every distance > -1, none > inf
    report = analyser(stain_reference=reference).analyse(smear()[0], rbc_px=48.0)
    white = sorted((c for c in report.cells if c.kind == "wbc"), key=lambda c: c.centroid)
    unfamiliar = threshold < 0
    assert [c.unfamiliar_stain for c in white] == [unfamiliar] * 3
    assert [c.review for c in white] == [unfamiliar, True, True]  # the two lymphocytes: 0.55 < review_below
    assert [c.cls for c in white] == ["neutrophil", "lymphocyte", "lymphocyte"]  # the classes stay
    assert not any(c.unfamiliar_stain for c in report.cells if c.kind != "wbc")
    assert report.review_cells == (3 if unfamiliar else 2)


@pytest.mark.parametrize(("red_split", "red_cells"), [(0.6, 1), (0.45, 2)])
def test_red_cells_are_split_by_their_own_distance_and_white_cells_by_the_segmentations(red_split, red_cells):
    """Two red cells 48 px across whose centres lie 24 px (0.5 d) apart, and two white cells 26 px
    (0.54 d) apart: the red pair is split only below 0.5 d (``red_cells.split_distance``), the white
    pair never by that rule (``split_distance``, 0.6 d)."""
    import dataclasses

    image = np.full((240, 320, 3), BACKGROUND, np.uint8)
    for x in (80, 104):
        cv2.circle(image, (x, 80), 24, RED, -1)
    for x in (200, 226):
        cv2.circle(image, (x, 160), 26, CYTOPLASM, -1)
    cells = analyser()
    cells.red_cells = dataclasses.replace(cells.red_cells, split_distance=red_split)
    found = cells.find_cells(image, rbc_px=48.0)
    assert (found.rbc.max(), found.wbc.max()) == (red_cells, 1)


def test_found_cells_hash_leaves_out_the_classifiers_but_not_the_segmentation_or_cell_rules():
    """``cells_sha256`` keys the red-cell classifier's patch cache: new classifier weights keep it."""
    import dataclasses

    base = analyser()
    base.provenance = {"bundles": {"seg": {"sha256": "a"}, "rbc": {"sha256": "b"}}, "cells": {"seg": {"sha256": "a"}}}
    new_classifier = analyser(red_cell_classifier=RedSizeClassifier())
    new_classifier.provenance = {**base.provenance, "bundles": {"seg": {"sha256": "a"}, "rbc": {"sha256": "c"}}}
    new_segmentation = analyser()
    new_segmentation.provenance = {**base.provenance, "cells": {"seg": {"sha256": "d"}}}
    new_rules = analyser()
    new_rules.provenance = base.provenance
    new_rules.red_cells = dataclasses.replace(new_rules.red_cells, min_radius=0.3)
    assert new_classifier.cells_sha256() == base.cells_sha256()
    assert new_classifier.settings_sha256() != base.settings_sha256()
    assert new_segmentation.cells_sha256() != base.cells_sha256()
    assert new_rules.cells_sha256() != base.cells_sha256()


@pytest.mark.parametrize("crop_side", [0, 400])
def test_a_crops_red_cells_cut_by_its_edge_are_left_out_of_the_scale(crop_side):
    """A 300x300 crop: 5 whole red cells of 48 px and 3 clumps running off the edge (90 px wide there)."""
    image = np.full((300, 300, 3), BACKGROUND, np.uint8)
    cv2.circle(image, (150, 150), 40, CYTOPLASM, -1)
    for x, y in [(55, 55), (245, 55), (55, 245), (245, 245), (150, 262)]:
        cv2.circle(image, (x, y), 24, RED, -1)
    for x, y in [(0, 150), (150, 0), (299, 150)]:
        cv2.circle(image, (x, y), 45, RED, -1)
    stub = analyser()
    stub.scale = replace(stub.scale, crop_side=crop_side)
    assert stub.scale.is_crop(image.shape) == (crop_side == 400)
    report = stub.analyse(image)
    assert report.scale_source == "estimated"
    if crop_side:
        assert report.rbc_diameter_px == pytest.approx(48, rel=0.08)
    else:  # the clumps' inscribed circles, unbounded beyond the edge, raise the upper percentile
        assert report.rbc_diameter_px > 48 * 1.3


class GluingSegmenter(ColourSegmenter):
    """The colour stand-in, but taking the slide in a box (fractions of the photo: top, bottom, left, right) for RBC."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.box = box

    def probabilities(self, image: np.ndarray, rbc_diameter_px: float | None) -> np.ndarray:
        probabilities = super().probabilities(image, rbc_diameter_px)
        height, width = probabilities.shape[1:]
        top, bottom, left, right = self.box
        probabilities[2, round(top * height) : round(bottom * height), round(left * width) : round(right * width)] = 1.0
        return probabilities


def _trimmed(stub, **scale):
    stub.scale = replace(stub.scale, **scale)
    stub.red_cells = replace(stub.red_cells, slide_trim_area=3.0, slide_trim_share=0.15, slide_trim_hole=0.3)
    return stub


@pytest.mark.parametrize("crop_trim", [False, True])
def test_a_crops_second_reading_takes_the_slide_off_red_cells_joined_with_it(crop_trim):
    """A 360x360 crop: a white cell, 9 red cells of 48 px, 4 of them in a row joined by the slide around them."""
    image = np.full((360, 360, 3), BACKGROUND, np.uint8)
    cv2.circle(image, (180, 140), 40, CYTOPLASM, -1)
    for x, y in [(40, 40), (180, 36), (320, 40), (40, 150), (320, 150)] + [(x, 285) for x in (90, 150, 210, 270)]:
        cv2.circle(image, (x, y), 24, RED, -1)
    stub = analyser()
    stub.segmenter = GluingSegmenter((0.64, 0.94, 0.14, 0.86))  # around the lower row of red cells
    stub = _trimmed(stub, crop_side=400, crop_trim=crop_trim)
    assert stub.estimate_scale(image) == (pytest.approx(108, rel=0.05), "estimated")  # the joined piece, read whole
    report = stub.analyse(image)
    if crop_trim:
        assert report.rbc_diameter_px == pytest.approx(48, rel=0.05) and report.counts()["rbc"] == 9
    else:
        assert report.rbc_diameter_px == pytest.approx(108, rel=0.05) and report.counts()["rbc"] == 1


@pytest.mark.parametrize(
    ("joined", "separate", "trim_gap", "trim_share", "px", "red_cells"),
    [
        (False, 9, 1.3, 0.75, 48, 13),  # a plain field's trimmed reading is no smaller: read as before
        (True, 9, None, 0.0, 113, 1),  # the joined piece, read whole
        (True, 9, 1.3, 0.0, 48, 13),
        (True, 9, 1.3, 0.75, 113, 1),  # the joined piece holds 70 % of the mask: not measured trimmed
        (True, 5, 1.3, 0.75, 48, 9),  # 80 %
    ],
)
def test_a_fields_second_reading_takes_the_trimmed_red_cells_only_where_they_read_far_smaller(
    joined, separate, trim_gap, trim_share, px, red_cells
):
    """A 640x480 field of 4 red cells of 48 px in a row and ``separate`` others; with ``joined``, the network takes
    the slide around the row for red cell too: the untrimmed reading gives 113 px and the trimmed one 47 px, which
    ``trim_gap`` 1.3 takes where the joined piece holds at least ``trim_share`` of the red-cell mask."""
    image = np.full((480, 640, 3), BACKGROUND, np.uint8)
    others = [(60, 60), (340, 60), (600, 60), (60, 420), (600, 420), (200, 60), (480, 60), (60, 200), (600, 200)]
    for x, y in others[:separate]:
        cv2.circle(image, (x, y), 24, RED, -1)
    for x in (200, 280, 360, 440):
        cv2.circle(image, (x, 324), 24, RED, -1)
    stub = analyser()
    if joined:
        stub.segmenter = GluingSegmenter((0.55, 0.8, 0.25, 0.75))
    report = _trimmed(stub, trim_gap=trim_gap, trim_share=trim_share).analyse(image)
    assert report.rbc_diameter_px == pytest.approx(px, rel=0.05) and report.counts()["rbc"] == red_cells
