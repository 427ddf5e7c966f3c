"""Nox sessions: tests, docs, lint, isolated (each distribution alone).

Every session installs torch first from constraints.txt (the CPU wheel), then what it needs.
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "tests", "docs"]
nox.options.default_venv_backend = "venv"

DISTRIBUTIONS = [
    "packages/hemseg-data",
    "packages/hemseg-models",
    "packages/hemseg-postproc",
    "packages/hemseg-diagnosis",
    "packages/hemseg-review",
    "apps/hemseg-cli[train]",
]


def _install_project(session: nox.Session) -> None:
    session.install("-c", "constraints.txt", "torch==2.13.0")
    editable = [arg for path in DISTRIBUTIONS for arg in ("-e", path)]
    session.install("-c", "constraints.txt", "-r", "requirements/dev.txt", *editable)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the whole test suite (HEMSEG_DATA points at the shared data; data tests skip without it)."""
    _install_project(session)
    env = {}
    if os.environ.get("HEMSEG_DATA"):
        env["HEMSEG_DATA"] = os.path.abspath(os.environ["HEMSEG_DATA"])
    session.run("python", "-m", "pytest", *session.posargs, env=env)


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs (API reference + how-to pages); any warning fails the build."""
    _install_project(session)
    session.run("python", "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("-c", "constraints.txt", "-r", "requirements/dev.txt")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def isolated(session: nox.Session) -> None:
    """Install each distribution alone in a clean venv and use it (tests/packaging)."""
    session.install("-c", "constraints.txt", "-r", "requirements/dev.txt")
    session.run("python", "-m", "pytest", "tests/packaging", *session.posargs)


@nox.session(python="3.11")
def benchmark(session: nox.Session) -> None:
    """Time hemseg diagnose and the four networks; regenerate the tables and plot of docs/benchmarks.md.

    The segmentation and classification scores are read from benchmarks/results (written by
    scripts/compare-architectures.sh and scripts/evaluate-*.sh: hours of training, not rerun here).
    """
    _install_project(session)
    env = {"HEMSEG_DATA": os.path.abspath(os.environ["HEMSEG_DATA"])} if os.environ.get("HEMSEG_DATA") else {}
    session.run("python", "benchmarks/diagnose.py", *session.posargs, env=env)
    session.run("python", "benchmarks/networks.py", "--json", "benchmarks/results/speed.json")
    session.run("python", "benchmarks/tables.py")
