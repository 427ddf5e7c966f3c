"""Batches that survive crashes: incremental summary, SIGKILL then --resume, SIGTERM, several workers."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from hemseg.diagnosis import synthetic_smear

#: columns that differ between two runs of the same analysis
RUN_COLUMNS = ("ms", "date")
#: photos in the batch: enough that a run stopped after one or two has some left
PHOTOS = 5

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for seed in range(PHOTOS):
        Image.fromarray(synthetic_smear(seed=seed)[0]).save(folder / f"field{seed}.png")
    return folder


def _hemseg(*args: str) -> list[str]:
    return [sys.executable, "-c", "from hemseg.cli.main import main; main()", *args]


def _rows(out: Path) -> list[dict]:
    rows = list(csv.DictReader((out / "summary.csv").open()))
    return [{k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in rows]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(_hemseg(*args), capture_output=True, text=True, timeout=300)


def _wait_for_rows(process: subprocess.Popen, out: Path, count: int) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "summary.csv").is_file() and len(_rows(out)) >= count:
            return
        time.sleep(0.02)
    pytest.fail(f"no {count} finished rows before the run ended ({process.poll()})")


@pytest.fixture(scope="module")
def whole(photos, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole")
    done = _run("diagnose", str(photos), "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_two_workers_give_the_results_of_one(photos, whole, tmp_path):
    out = tmp_path / "out"
    done = _run("diagnose", str(photos), "--out", str(out), "--workers", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _rows(out) == _rows(whole) and len(_rows(out)) == PHOTOS
    for name in ("field0", f"field{PHOTOS - 1}"):
        assert (out / name / "cells.csv").read_text() == (whole / name / "cells.csv").read_text()
    assert (out / "specimens.csv").read_text() == (whole / "specimens.csv").read_text()


def test_sigkill_leaves_a_valid_summary_and_resume_finishes_only_the_rest(photos, whole, tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(_hemseg("diagnose", str(photos), "--out", str(out)), stderr=subprocess.DEVNULL)
    _wait_for_rows(process, out, 2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    finished = _rows(out)  # whole, parseable, every row with its complete reports
    assert 2 <= len(finished) < PHOTOS and finished == _rows(whole)[: len(finished)]
    for row in finished:
        folder = out / Path(row["image"]).stem
        assert {p.name for p in folder.iterdir() if not p.name.startswith(".")} >= {"report.json", "overlay.png"}
    assert not (out / "report.html").exists()
    kept = {row["image"]: (out / Path(row["image"]).stem / "report.json").stat().st_mtime_ns for row in finished}
    done = _run("diagnose", str(photos), "--out", str(out), "--resume")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _rows(out) == _rows(whole)
    assert all((out / Path(i).stem / "report.json").stat().st_mtime_ns == t for i, t in kept.items())  # not redone
    assert not [p for p in out.rglob(".*")]  # temporaries of the killed run removed
    assert (out / "report.html").is_file() and (out / "specimens.csv").read_text() == (
        whole / "specimens.csv"
    ).read_text()


def test_resume_redoes_photos_made_with_other_settings(photos, whole, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(whole, out)
    done = _run("diagnose", str(photos), "--out", str(out), "--resume", "--rbc-diameter-px", "48")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _rows(out)
    assert {r["scale_source"] for r in rows} == {"given"} and {r["rbc_diameter_px"] for r in rows} == {"48.0"}


@pytest.mark.parametrize(("number", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_finishes_the_current_photo_and_writes_the_reports(photos, whole, tmp_path, number, code):
    out = tmp_path / "out"
    process = subprocess.Popen(
        _hemseg("diagnose", str(photos), "--out", str(out)), stderr=subprocess.PIPE, text=True, env=os.environ
    )
    _wait_for_rows(process, out, 1)
    process.send_signal(number)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr[-2000:]
    rows = _rows(out)
    assert 1 <= len(rows) < PHOTOS and rows == _rows(whole)[: len(rows)]
    assert (out / "report.html").is_file() and "--resume finishes the rest" in stderr
