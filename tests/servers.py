"""Servers the tests start: a free port on 127.0.0.1, and a command that must serve a page."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serves(command: list[str], url: str, expected: bytes, cwd: Path, env: dict | None = None) -> None:
    """Start a server, wait (at most a minute) until ``url`` answers with ``expected`` in it, stop it.

    The server runs in a process group of its own, stopped as a whole: servers that start helpers
    (``mlflow ui`` starts job runners) leave none behind.
    """
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    page = answer.read()
                assert answer.status == 200 and expected in page, page[:500]
                return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"{command[0]} did not answer within a minute")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
