"""Wheels of every distribution, installed in a fresh venv outside the checkout, run the whole tool."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from venvs import DISTRIBUTIONS, REPO, pip_install, run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_wheels_run_hemseg_diagnose_without_the_checkout(environments):
    python = environments["wheels"].result()  # .../wheels/elsewhere/venv/bin/python
    bin_dir, work = python.parent, python.parents[2]
    dist = work.parent / "dist"
    assert len(list(dist.glob("*.whl"))) == len(DISTRIBUTIONS)
    env = {k: v for k, v in os.environ.items() if k not in ("HEMSEG_BUNDLES", "PYTHONPATH")}
    env["HEMSEG_CACHE"] = str(work / "cache")
    # nothing of the checkout is importable; training packages are not installed
    probe = (
        "import hemseg.models, importlib.util as u, sys;"
        f"assert not hemseg.models.__file__.startswith({str(REPO)!r});"
        "assert not [m for m in ('ignite', 'mlflow', 'fire') if u.find_spec(m)], 'training packages installed'"
    )
    run(str(python), "-c", probe, cwd=work, env=env)
    run(str(bin_dir / "hemseg"), "sample", "photo.png", cwd=work, env=env)
    run(str(bin_dir / "hemseg"), "diagnose", "photo.png", "--out", "o", cwd=work, env=env)
    (row,) = csv.DictReader((work / "o" / "summary.csv").open())
    assert (row["status"], row["wbc"], row["neutrophil"], row["lymphocyte"]) == ("ok", "2", "1", "1")
    assert "hemseg_classification 0.4.0" in row["models"] and row["hemseg_version"] == "0.2.0"
    assert (work / "o" / "photo" / "overlay.png").is_file()
    _serves(
        [str(bin_dir / "hemseg"), "review", "o", "--port", str(port := _free_port())],
        f"http://127.0.0.1:{port}/images/photo",
        b"neutrophil",
        work,
        env,
    )

    # the [train] extra: the documented MLflow UI serves the runs' store
    pip_install(python, "--find-links", str(dist), "hemseg-cli[train]", cwd=work)
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
