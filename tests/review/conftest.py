"""A diagnose output of constructed smears (stub networks) and the review app serving it on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from stubs import diagnosed

from hemseg.review import create_app


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Two photos, 3 white cells each (a neutrophil; two lymphocytes marked for review)."""
    return diagnosed(tmp_path)


@pytest.fixture
def server(out: Path):
    """The review of ``out`` served by uvicorn in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(out, reviewer="tester")
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the review server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)
