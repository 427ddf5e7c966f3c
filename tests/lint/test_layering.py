"""Imports flow one way (docs/architecture.md): checked on the source text of every package."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"^\s*(?:from|import)\s+([\w.]+)|\$import\s+([\w.]+)", re.M)

#: package -> modules its source must never import
FORBIDDEN = {
    "hemseg-data": (
        "torch",
        "monai",
        "hemseg.models",
        "hemseg.postproc",
        "hemseg.diagnosis",
        "hemseg.review",
        "hemseg.cli",
    ),
    "hemseg-postproc": (
        "torch",
        "monai",
        "hemseg.data",
        "hemseg.models",
        "hemseg.diagnosis",
        "hemseg.review",
        "hemseg.cli",
    ),
    "hemseg-diagnosis": ("torch", "monai", "hemseg.models", "hemseg.review", "hemseg.cli", "hemseg.data.transforms"),
    "hemseg-models": ("hemseg.diagnosis", "hemseg.review", "hemseg.cli"),
    "hemseg-review": ("torch", "monai", "hemseg.models", "hemseg.cli", "hemseg.data.transforms"),
}


def _imports(path: Path) -> set[str]:
    return {a or b for a, b in IMPORT.findall(path.read_text(encoding="utf-8"))}


def _hits(imported: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imported for b in banned if m == b or m.startswith(f"{b}."))


def test_packages_import_only_downstream():
    for package, banned in FORBIDDEN.items():
        for path in (REPO / "packages" / package / "src").rglob("*.py"):
            if package == "hemseg-data" and "transforms" in path.parts:
                banned_here = tuple(b for b in banned if b not in ("torch", "monai"))  # the [transforms] extra
            else:
                banned_here = banned
            assert not _hits(_imports(path), banned_here), (path, _hits(_imports(path), banned_here))


def test_nothing_outside_apps_imports_the_cli():
    for folder in ("packages", "bundles", "benchmarks", "docs", "scripts"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".py", ".yaml", ".md", ".sh") and "_build" not in path.parts:
                text = path.read_text(encoding="utf-8")
                assert not _hits(_imports(path), ("hemseg.cli",)), path
                assert not re.search(r"(from|import) hemseg\.cli", text), path  # also inside strings
