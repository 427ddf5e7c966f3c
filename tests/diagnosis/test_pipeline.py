"""The whole per-photo pipeline on a constructed smear, with stub networks: exact counts, no torch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from stubs import BACKGROUND, CYTOPLASM, analyser, smear


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
