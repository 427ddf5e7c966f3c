"""``hemseg review``: the server as a user starts it, killed mid-review; errors; the export command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from servers import free_port
from stubs import diagnosed
from typer.testing import CliRunner

from hemseg.cli.main import app

HEMSEG = [sys.executable, "-c", "from hemseg.cli.main import main; main()"]


def _start(out: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [*HEMSEG, "review", str(out), "--port", str(port), "--reviewer", "kim"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"hemseg review did not answer: {server.stderr.read()}")


def _post(port: int, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_killed_server_loses_no_decision(tmp_path):
    out = diagnosed(tmp_path)
    port = free_port()
    server = _start(out, port)
    cells = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/images/b").read())["cells"]
    found = _post(port, f"/api/images/b/cells/{cells[0]['id']}", {"label": "blast"})
    assert found["counts"]["blast"] == 1
    os.kill(server.pid, signal.SIGKILL)
    server.wait(10)
    assert server.stdout.read().startswith(f"hemseg: reviewing {out} at http://127.0.0.1:{port}/")
    server = _start(out, port)  # reopened: the decision is there
    try:
        state = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/images/b").read())
        assert state["counts"]["blast"] == 1 and state["reviewers"] == ["kim"]
        assert [c["label"] for c in state["cells"]] == ["blast", None, None]
    finally:
        server.terminate()
        server.wait(10)


def test_errors_are_one_line_with_an_exit_code(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["review", str(tmp_path / "missing")])
    assert result.exit_code == 1 and result.output.strip().count("\n") == 0
    assert "not a hemseg diagnose output" in result.output
    result = runner.invoke(app, ["review", "export", str(tmp_path)])
    assert result.exit_code == 2 and "--to" in result.output
    out = diagnosed(tmp_path)
    result = runner.invoke(app, ["review", "export", str(out), "--to", str(tmp_path / "none")])
    assert result.exit_code == 0 and "0 reviewed white cells exported" in result.output
    result = runner.invoke(app, ["review", "export", str(out), "--to", str(tmp_path / "none")])
    assert result.exit_code == 1 and "exists and is not empty" in result.output
