"""Each distribution installs alone into a clean environment and works there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# distribution -> (needs torch, code run in the clean environment)
CHECKS = {
    "hemseg-data": (
        False,
        "from hemseg.data import find_datasets, read_smear, split_samples, RBC_DIAMETER_PX;"
        "assert RBC_DIAMETER_PX['bccd'] == 104.0",
    ),
    "hemseg-postproc": (
        False,
        "import numpy as np; from hemseg.postproc import clean_mask, label_instances;"
        "m = np.zeros((9, 9)); m[1:4, 1:4] = m[5:8, 5:8] = 1;"
        "assert label_instances(clean_mask(m, closing_radius=0)).max() == 2;"
        "from hemseg.postproc import rbc_diameter, platelet_instances, instance_polygons",
    ),
    "hemseg-diagnosis": (
        False,
        "from hemseg.diagnosis import differential, summary_csv, summary_row, SmearAnalyser;"
        "assert differential(['blast', 'lymphocyte']).blast_fraction == 0.5;"
        "assert summary_csv([summary_row('a.png', error='x')]).startswith('image,status,error')",
    ),
    "hemseg-review": (
        False,
        "from hemseg.review import create_app, label_keys;"
        "assert label_keys(('a', 'b', 'not_wbc', 'smudge'))[-2:] == [('0', 'not_wbc'), ('s', 'smudge')]",
    ),
    "hemseg-models": (
        True,
        "import torch; from hemseg.models import segmentation_network;"
        "from hemseg.data.transforms import NormalizeRGB;"
        "assert NormalizeRGB()(torch.zeros(1, 4, 4, dtype=torch.uint8)).shape == (3, 4, 4);"
        "assert segmentation_network(2).eval()(torch.rand(1, 3, 64, 64)).shape == (1, 2, 64, 64);"
        "assert segmentation_network(2, 'hemseg-vgg16').eval()(torch.rand(1, 3, 64, 64)).shape == (1, 2, 64, 64)",
    ),
}

#: the hemseg distributions each one depends on (installed with it from this checkout)
REQUIRES = {
    "hemseg-data": [],
    "hemseg-postproc": [],
    "hemseg-diagnosis": ["hemseg-data", "hemseg-postproc"],
    "hemseg-review": ["hemseg-data", "hemseg-postproc", "hemseg-diagnosis"],
    "hemseg-models": ["hemseg-data", "hemseg-postproc"],
}

PROBE = """
import importlib.util, sys
import hemseg
assert getattr(hemseg, "__file__", None) is None, "hemseg must stay a namespace package"
others = {"data", "models", "postproc", "diagnosis", "review", "cli"} - set(sys.argv[1].split(","))
assert not [o for o in others if importlib.util.find_spec(f"hemseg.{o}")], "other hemseg packages installed"
if sys.argv[2] == "no-torch":
    assert importlib.util.find_spec("torch") is None, "torch was installed"
"""


def _run(*args: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("distribution", sorted(CHECKS))
def test_distribution_installs_alone(distribution, tmp_path):
    needs_torch, check = CHECKS[distribution]
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", "constraints.txt"]
    if needs_torch:
        _run(*pip, "torch==2.13.0")
    _run(*pip, *(f"packages/{d}" for d in [*REQUIRES[distribution], distribution]))
    installed = ",".join(d.removeprefix("hemseg-") for d in [*REQUIRES[distribution], distribution])
    _run(python, "-c", PROBE, installed, "torch" if needs_torch else "no-torch")
    _run(python, "-c", check)
