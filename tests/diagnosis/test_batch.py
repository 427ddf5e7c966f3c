"""A run's photos analysed at one shared scale (``hemseg diagnose --shared-scale``), stub networks."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from PIL import Image
from stubs import analyser, smear

from hemseg.diagnosis import diagnose_images
from hemseg.diagnosis.batch import crop_photos, scale_reading


def test_a_shared_scale_is_the_median_of_the_photos_own_and_survives_a_resume(tmp_path):
    """Two smears with 48 px red cells and one with 96 px: every photo is analysed at 48 px."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, scale in (("a", 1), ("b", 1), ("c", 2)):
        Image.fromarray(smear(scale)[0]).save(folder / f"{name}.png")
    (folder / "d.png").write_bytes(b"not a photo")
    stub = analyser()
    readings = [scale_reading(stub, path) for path in sorted(folder.iterdir())]
    assert readings[3] is None  # the unreadable photo gives no reading
    px = statistics.median(readings[:3])
    assert px == pytest.approx(48, rel=0.05)
    out = tmp_path / "out"
    rows = diagnose_images(stub, [folder], out, shared=True, on_error=lambda *_: None)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "error"]
    assert [r["scale_source"] for r in rows[:3]] == ["shared"] * 3
    assert [r["rbc_diameter_px"] for r in rows[:3]] == [pytest.approx(px, abs=0.01)] * 3
    red = smear(1)[1]
    assert [(r["wbc"], r["rbc"]) for r in rows[:2]] == [(3, red), (3, red)]
    report = json.loads((out / "c" / "report.json").read_text())
    assert (report["rbc_diameter_px"], report["scale_source"]) == (pytest.approx(px, abs=0.01), "shared")
    written = (out / "c" / "report.json").stat().st_mtime_ns
    again = diagnose_images(stub, [folder], out, shared=True, resume=True, on_error=lambda *_: None)
    assert (out / "c" / "report.json").stat().st_mtime_ns == written  # the same median, the same settings: kept
    assert [(r["rbc_diameter_px"], r["wbc"], r["rbc"]) for r in again] == [
        (r["rbc_diameter_px"], r["wbc"], r["rbc"]) for r in rows
    ]
    per_photo = diagnose_images(stub, [folder / "c.png"], tmp_path / "own")
    assert per_photo[0]["scale_source"] == "estimated" and float(per_photo[0]["rbc_diameter_px"]) > 90


def test_each_specimen_shares_its_own_scale(tmp_path):
    """Two slides at two magnifications in one run: each folder's photos at their own median."""
    low, high, blank = tmp_path / "low", tmp_path / "high", tmp_path / "blank"
    for folder, scales in ((low, (1, 1, 2)), (high, (2, 2, 1))):
        folder.mkdir()
        for index, scale in enumerate(scales):
            Image.fromarray(smear(scale)[0]).save(folder / f"{folder.name}{index}.png")
    blank.mkdir()
    Image.new("RGB", (300, 300), (228, 205, 215)).save(blank / "empty.png")  # no red cell: no reading
    rows = diagnose_images(analyser(), [low, high, blank], tmp_path / "out", shared=True)
    px = {Path(r["image"]).stem: (float(r["rbc_diameter_px"]), r["scale_source"]) for r in rows}
    assert {name: source for name, (_, source) in px.items()} == {
        **{f"low{i}": "shared" for i in range(3)},
        **{f"high{i}": "shared" for i in range(3)},
        "empty": "assumed",
    }
    assert {round(px[f"low{i}"][0]) for i in range(3)} == {round(px["low0"][0])}
    assert {round(px[f"high{i}"][0]) for i in range(3)} == {round(px["high0"][0])}
    assert px["low0"][0] == pytest.approx(48, rel=0.05) and px["high0"][0] == pytest.approx(96, rel=0.05)


def test_crops_are_told_from_fields_by_their_size_and_unreadable_files_are_left_out(tmp_path):
    """Scale rules take photos no larger than ``crop_side`` on either side for single-cell crops."""
    from dataclasses import replace

    stub = analyser()
    side = 400  # the hemseg_diagnose bundle's crop_side
    stub.scale = replace(stub.scale, crop_side=side)
    sizes = {"crop.png": (side, side), "wide.png": (side + 1, 50), "field.jpg": (640, 480), "tiny.png": (40, 30)}
    for name, size in sizes.items():
        Image.new("RGB", size, (230, 220, 225)).save(tmp_path / name)
    (tmp_path / "broken.png").write_bytes(b"not a photo")
    paths = sorted(tmp_path.iterdir())
    assert crop_photos(stub, paths) == [tmp_path / "crop.png", tmp_path / "tiny.png"]
