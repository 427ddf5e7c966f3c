"""A run's photos analysed at one shared scale (``hemseg diagnose --shared-scale``), stub networks."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from stubs import analyser, smear

from hemseg.diagnosis import diagnose_images
from hemseg.diagnosis.batch import shared_scale


def test_a_shared_scale_is_the_median_of_the_photos_own_and_survives_a_resume(tmp_path):
    """Two smears with 48 px red cells and one with 96 px: every photo is analysed at 48 px."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, scale in (("a", 1), ("b", 1), ("c", 2)):
        Image.fromarray(smear(scale)[0]).save(folder / f"{name}.png")
    (folder / "d.png").write_bytes(b"not a photo")
    stub = analyser()
    px, readings = shared_scale(stub, sorted(folder.iterdir()))
    assert readings == 3 and px == pytest.approx(48, rel=0.05)  # the unreadable photo left out
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
