"""How the packaging tests build their fresh virtual environments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: the hemseg distributions each one depends on (installed with it from this checkout)
REQUIRES = {
    "hemseg-data": [],
    "hemseg-postproc": [],
    "hemseg-diagnosis": ["hemseg-data", "hemseg-postproc"],
    "hemseg-review": ["hemseg-data", "hemseg-postproc", "hemseg-diagnosis"],
    "hemseg-models": ["hemseg-data", "hemseg-postproc"],
}
#: the distributions that need torch, installed first from the pinned CPU wheel
NEEDS_TORCH = {"hemseg-models"}
#: every distribution, built as a wheel for the test of the whole tool
DISTRIBUTIONS = [*(f"packages/{d}" for d in REQUIRES), "apps/hemseg-cli"]


def run(*args: str, cwd: Path = REPO, env: dict | None = None) -> str:
    """Run a command; fail the test with the end of its output unless it exits with 0."""
    result = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def pip_install(python: str | Path, *args: str, cwd: Path = REPO) -> None:
    """``pip install`` into the environment of ``python``, with the project's constraints.

    ``--no-compile``: the tests import a small part of what is installed (torch above all), so
    byte-compiling every module at install time would cost more than compiling those on import.
    """
    quiet = ["--quiet", "--disable-pip-version-check", "--no-compile", "-c", str(REPO / "constraints.txt")]
    run(str(python), "-m", "pip", "install", *quiet, *args, cwd=cwd)


def _venv(folder: Path) -> Path:
    run(sys.executable, "-m", "venv", str(folder))
    return folder / "bin" / "python"


def alone(distribution: str, folder: Path) -> Path:
    """A venv with ``distribution`` and the hemseg distributions it needs, from the checkout."""
    python = _venv(folder)
    if distribution in NEEDS_TORCH:
        pip_install(python, "torch==2.13.0")
    pip_install(python, *(f"packages/{d}" for d in [*REQUIRES[distribution], distribution]))
    return python


def wheels(folder: Path) -> Path:
    """Wheels of every distribution in ``folder/dist``, installed (with torch) in ``folder/elsewhere/venv``."""
    dist = folder / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), *DISTRIBUTIONS)
    work = folder / "elsewhere"
    work.mkdir()
    python = _venv(work / "venv")
    pip_install(python, "torch==2.13.0", cwd=work)
    pip_install(python, *map(str, sorted(dist.glob("*.whl"))), cwd=work)
    return python
