"""Fresh virtual environments for the packaging tests, all built at once when the first is needed.

Building one is mostly pip unpacking wheels on one core, so the builds run side by side in threads
rather than one after another.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from venvs import alone, wheels


def _environment(item: pytest.Item) -> str:
    """The environment a test asks for: its ``distribution`` parameter, else ``"wheels"``."""
    callspec = getattr(item, "callspec", None)
    return callspec.params["distribution"] if callspec and "distribution" in callspec.params else "wheels"


@pytest.fixture(scope="session")
def environments(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Path]]]:
    """The python of each selected test's venv: a distribution's alone, or ``"wheels"`` (every wheel in one)."""
    needed = {_environment(item) for item in request.session.items if "environments" in item.fixturenames}
    root = tmp_path_factory.mktemp("environments")
    with ThreadPoolExecutor(max_workers=len(needed)) as pool:
        yield {
            name: pool.submit(wheels, root / name) if name == "wheels" else pool.submit(alone, name, root / name)
            for name in sorted(needed)
        }
