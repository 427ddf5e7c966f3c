"""A diagnose output of constructed smears (stub networks) and the review app serving it on 127.0.0.1."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from servers import free_port
from stubs import RULES, RedSizeClassifier, analyser, diagnosed, smear

from hemseg.review import create_app


@pytest.fixture(scope="session")
def diagnosed_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two photos, 3 white cells each (a neutrophil; two lymphocytes marked for review), diagnosed once."""
    return diagnosed(tmp_path_factory.mktemp("diagnosed"))


@pytest.fixture
def out(diagnosed_once: Path, tmp_path: Path) -> Path:
    """A copy of :func:`diagnosed_once`'s output for one test to review and correct."""
    return Path(shutil.copytree(diagnosed_once, tmp_path / "out"))


@pytest.fixture
def red_out(tmp_path: Path) -> Path:
    """One photo, ``a``, whose red cells are classified (stub: all normal, 0.7) with a flag on normal cells >= 50 %.

    And a schistocyte flag defined on 1,000 red cells, which the photo's few hold back.
    """
    from dataclasses import replace

    from PIL import Image

    from hemseg.diagnosis import RedCellFlag, RedCellFlagRules, diagnose_images

    red_flags = {
        "normal_cells": RedCellFlag(("normal",), 50.0, "test"),
        "schistocytes": RedCellFlag(("schistocyte",), 1.0, "test", min_rbc=1000),
    }
    rules = replace(RULES, red_cells=RedCellFlagRules(min_rbc=10, flags=red_flags))
    Image.fromarray(smear()[0]).save(tmp_path / "a.png")
    diagnose_images(analyser(RedSizeClassifier(), rules), [tmp_path / "a.png"], tmp_path / "red")
    return tmp_path / "red"


@pytest.fixture
def server(out: Path):
    """The review of ``out`` served by uvicorn in a thread; yields its base URL."""
    yield from _serve(out)


@pytest.fixture
def red_server(red_out: Path):
    """The review of ``red_out``, as :func:`server`."""
    yield from _serve(red_out)


def _serve(out: Path):
    port = free_port()
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
