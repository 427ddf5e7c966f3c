"""Shared fixtures. Tests that read the real blood-smear data find it through HEMSEG_DATA."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The shared data folder (``HEMSEG_DATA``); tests using it skip when the variable is unset."""
    value = os.environ.get("HEMSEG_DATA")
    if not value:
        pytest.skip("HEMSEG_DATA is not set: point it at the shared blood-smear data (../shared/data)")
    root = Path(value)
    if not root.is_dir():
        pytest.fail(f"HEMSEG_DATA={value} is not a directory")
    return root


@pytest.fixture(scope="session")
def datasets(data_root: Path) -> dict:
    """Every dataset of the shared data, by name."""
    from hemseg.data import find_datasets

    return {d.name: d for d in find_datasets(data_root)}
