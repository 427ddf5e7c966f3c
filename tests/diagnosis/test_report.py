"""Report files of one smear: summary row, cells.csv, GeoJSON, HTML."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from stubs import RULES

from hemseg.diagnosis import (
    NOTICE,
    SUMMARY_COLUMNS,
    Cell,
    Flag,
    SmearReport,
    cells_csv,
    cells_geojson,
    differential,
    html_page,
    review_flags,
    summary_csv,
    summary_row,
)


def report() -> SmearReport:
    square = [(0, 0), (10, 0), (10, 10), (0, 10)]
    cells = [
        Cell(1, "wbc", "blast", 0.9, False, (0, 0, 11, 11), (5.0, 5.0), 121, True, square),
        Cell(2, "wbc", "lymphocyte", 0.4, True, (20, 20, 31, 31), (25.0, 25.0), 121, False, square, "blast", 0.45),
        Cell(3, "rbc", "rbc", None, False, (40, 40, 51, 51), (45.0, 45.0), 100, False, square),
        Cell(4, "platelet", "platelet", None, False, (60, 60, 63, 63), (61.0, 61.0), 9, False, []),
    ]
    result = differential(["blast", "lymphocyte"])
    return SmearReport(640, 480, 48.0, "estimated", cells, result, review_flags(result, 1, RULES), 12.3)


def test_summary_row_counts_and_flags():
    row = summary_row("a.png", report())
    assert row["status"] == "ok" and row["error"] == ""
    assert (row["wbc"], row["rbc"], row["platelet"], row["blast"], row["lymphocyte"], row["neutrophil"]) == (
        2, 1, 1, 1, 1, 0,
    )  # fmt: skip
    assert row["blast_fraction"] == 0.5
    assert row["flags"] == "blasts_present;blast_fraction;uncertain_cells"
    assert (row["rbc_diameter_px"], row["scale_source"], row["hemseg_version"], row["models"]) == (
        48.0,
        "estimated",
        None,
        None,
    )
    provenance = {
        "hemseg_version": "0.2.0",
        "bundles": {"seg": {"version": "0.1.2", "sha256": "ab" * 32}, "pipeline": {"version": "0.1.0", "sha256": None}},
        "date": "2026-12-01T08:00:00+00:00",
    }
    stamped = summary_row("a.png", report(), provenance=provenance)
    assert (stamped["hemseg_version"], stamped["models"], stamped["date"]) == (
        "0.2.0", "seg 0.1.2 abababababab; pipeline 0.1.0", "2026-12-01T08:00:00+00:00",
    )  # fmt: skip
    assert report().to_dict("a.png", provenance)["provenance"] == provenance
    page = html_page([(stamped, report(), None)], provenance)
    assert "hemseg 0.2.0, 2026-12-01T08:00:00+00:00" in page and f"<code>{'ab' * 32}</code>" in page
    failed = summary_row("b.png", error="not an image")
    assert failed["status"] == "error" and failed["wbc"] is None
    rows = list(csv.DictReader(io.StringIO(summary_csv([row, failed]))))
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    assert rows[1]["error"] == "not an image" and rows[1]["wbc"] == ""


def test_flags_held_back_for_too_few_red_cells_are_written_read_back_and_shown():
    held = [Flag("schistocytes", "schistocyte 5 of 350 red cells = 1.4% (95% CI 0.5-3.3%) >= 1%, ...")]
    shown = replace(report(), held_back=held)
    assert summary_row("a.png", shown)["held_back"] == "schistocytes"
    assert summary_row("a.png", report())["held_back"] == ""
    data = json.loads(json.dumps(shown.to_dict("a.png")))
    assert data["held_back"] == [{"name": "schistocytes", "rule": held[0].rule}]
    assert SmearReport.from_dict(data).held_back == held
    page = html_page([(summary_row("a.png", shown), shown, None)])
    assert "Not flagged, too few red cells counted" in page and "schistocyte 5 of 350 red cells" in page
    assert "Not flagged" not in html_page([(summary_row("a.png", report()), report(), None)])


def test_cells_csv_one_row_per_cell():
    rows = list(csv.DictReader(io.StringIO(cells_csv(report().cells))))
    assert [r["class"] for r in rows] == ["blast", "lymphocyte", "rbc", "platelet"]
    assert rows[1]["review"] == "1" and rows[0]["on_border"] == "1" and rows[2]["probability"] == ""
    assert (rows[0]["x_min"], rows[0]["y_max"], rows[0]["area"]) == ("0", "11", "121")
    assert (rows[1]["alternative"], rows[1]["alternative_probability"]) == ("blast", "0.4500")
    assert (rows[2]["alternative"], rows[2]["alternative_probability"]) == ("", "")


def test_geojson_closed_polygons_with_classification():
    document = json.loads(cells_geojson(report().cells))
    assert document["type"] == "FeatureCollection" and len(document["features"]) == 4
    for feature in document["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) >= 4
        assert feature["properties"]["objectType"] == "detection"
    assert document["features"][0]["properties"]["classification"]["name"] == "blast"
    assert document["features"][3]["geometry"]["coordinates"][0][:2] == [[60, 60], [63, 60]]  # from the bbox


def test_json_and_html_carry_the_notice_and_escape_names():
    data = report().to_dict("a.png")
    assert data["notice"] == NOTICE and len(data["cells"]) == 4
    assert [f["name"] for f in data["flags"]] == ["blasts_present", "blast_fraction", "uncertain_cells"]
    row = summary_row("<b>.png", report())
    page = html_page([(row, report(), "b/overlay.png"), (summary_row("c.png", error="bad & broken"), None, None)])
    assert NOTICE in page and "&lt;b&gt;.png" in page and "bad &amp; broken" in page
    assert "blast fraction 50.0% &gt;= 20%" in page and "b/overlay.png" in page
    assert "Too few red cells" not in page
    assumed = SmearReport(640, 480, 70.0, "assumed", [], differential([]), [], 1.0)
    assert "a red-cell diameter of 70 px was assumed" in html_page([(summary_row("c.png", assumed), assumed, None)])
    white = SmearReport(300, 300, 50.0, "white_cell", [], differential([]), [], 1.0)
    page = html_page([(summary_row("d.png", white), white, None)])
    assert "taken from the central white cell (50 px per red cell)" in page and "was assumed" not in page


def test_overlay_outlines_stay_visible_on_small_and_large_images():
    from hemseg.diagnosis.batch import outline_thickness

    assert [outline_thickness(s) for s in [(300, 300), (480, 640), (1944, 2592), (8000, 10000)]] == [2, 3, 10, 40]


def test_the_page_embeds_overlays_and_leaves_out_one_that_cannot_be_read(tmp_path):
    from PIL import Image

    from hemseg.diagnosis.batch import overlay_data_uri

    Image.new("RGB", (3200, 100), (10, 20, 30)).save(tmp_path / "overlay.png")
    uri = overlay_data_uri(tmp_path / "overlay.png")
    assert uri.startswith("data:image/jpeg;base64,")
    import base64
    import io

    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as embedded:
        assert embedded.size == (1600, 50)  # longest side at most 1600 px
    (tmp_path / "broken.png").write_bytes(b"not a png")
    assert overlay_data_uri(tmp_path / "broken.png") is None and overlay_data_uri(tmp_path / "none.png") is None
