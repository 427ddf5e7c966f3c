"""Wheels of every distribution, installed in a fresh venv outside the checkout, run the whole tool."""

from __future__ import annotations

import csv
import os

import pytest
from packaging.requirements import Requirement
from servers import free_port, serves
from venvs import DISTRIBUTIONS, REPO, run


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
    assert "hemseg_classification 0.5.0" in row["models"] and row["hemseg_version"] == "0.2.0"
    assert (work / "o" / "photo" / "overlay.png").is_file()
    serves(
        [str(bin_dir / "hemseg"), "review", "o", "--port", str(port := free_port())],
        f"http://127.0.0.1:{port}/images/photo",
        b"neutrophil",
        work,
        env,
    )

    # `pip install hemseg-cli[train]` brings MLflow with its UI (not mlflow-skinny), which the bundle
    # tests serve from the project's venv (installed with that extra)
    def train_extra(distribution: str) -> list[str]:
        code = f"import importlib.metadata as m; print(*m.requires({distribution!r}), sep='\\n')"
        found = [Requirement(r) for r in run(str(python), "-c", code, cwd=work, env=env).splitlines()]
        train = [r for r in found if r.marker and r.marker.evaluate({"extra": "train"})]
        for requirement in train:
            requirement.marker = None
        return sorted(map(str, train))

    assert train_extra("hemseg-cli") == ["hemseg-models[train]==0.2.0"]
    assert [r.split(">=")[0] for r in train_extra("hemseg-models")] == ["fire", "mlflow", "pytorch-ignite"]
