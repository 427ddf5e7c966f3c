"""Wheels of every distribution, installed in a fresh venv outside the checkout, run the whole tool."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = [
    "packages/hemseg-data",
    "packages/hemseg-postproc",
    "packages/hemseg-diagnosis",
    "packages/hemseg-models",
    "packages/hemseg-review",
    "apps/hemseg-cli",
]


def _run(*args: str, cwd: Path, env: dict | None = None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_wheels_run_hemseg_diagnose_without_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), *DISTRIBUTIONS, cwd=REPO)
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 6
    work = tmp_path / "elsewhere"
    work.mkdir()
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", str(venv), cwd=work)
    python, bin_dir = str(venv / "bin" / "python"), venv / "bin"
    pip = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-c",
        str(REPO / "constraints.txt"),
    ]
    _run(*pip, "torch==2.13.0", cwd=work)
    _run(*pip, *map(str, wheels), cwd=work)
    env = {k: v for k, v in os.environ.items() if k not in ("HEMSEG_BUNDLES", "PYTHONPATH")}
    env["HEMSEG_CACHE"] = str(work / "cache")
    # nothing of the checkout is importable; training packages are not installed
    probe = (
        "import hemseg.models, importlib.util as u, sys;"
        f"assert not hemseg.models.__file__.startswith({str(REPO)!r});"
        "assert not [m for m in ('ignite', 'mlflow', 'fire') if u.find_spec(m)], 'training packages installed'"
    )
    _run(python, "-c", probe, cwd=work, env=env)
    _run(str(bin_dir / "hemseg"), "sample", "photo.png", cwd=work, env=env)
    _run(str(bin_dir / "hemseg"), "diagnose", "photo.png", "--out", "o", cwd=work, env=env)
    (row,) = csv.DictReader((work / "o" / "summary.csv").open())
    assert (row["status"], row["wbc"], row["neutrophil"], row["lymphocyte"]) == ("ok", "2", "1", "1")
    assert "hemseg_classification 0.3.2" in row["models"] and row["hemseg_version"] == "0.2.0"
    assert (work / "o" / "photo" / "overlay.png").is_file()
    _serves(
        [str(bin_dir / "hemseg"), "review", "o", "--port", str(port := _free_port())],
        f"http://127.0.0.1:{port}/images/photo",
        b"neutrophil",
        work,
        env,
    )

    # the [train] extra: the documented MLflow UI serves the runs' store
    _run(*pip, "--find-links", str(dist), "hemseg-cli[train]", cwd=work)
    port = _free_port()
    _serves(
        [str(bin_dir / "mlflow"), "ui", "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}", "--port", str(port)],
        f"http://127.0.0.1:{port}/",
        b"MLflow",
        work,
        env,
    )


def _serves(command: list[str], url: str, expected: bytes, cwd: Path, env: dict) -> None:
    """Start a server, wait (at most a minute) until ``url`` answers with ``expected`` in its page, stop it."""
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url, timeout=2) as page:
                    assert page.status == 200 and expected in page.read()
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"{command[0]} did not answer within a minute")
    finally:
        server.terminate()
        server.wait(timeout=30)
