"""Each distribution installs alone into a clean environment and works there."""

from __future__ import annotations

import pytest
from venvs import NEEDS_TORCH, REQUIRES, run

#: distribution -> code run in its clean environment
CHECKS = {
    "hemseg-data": (
        "from hemseg.data import find_datasets, read_smear, split_samples, RBC_DIAMETER_PX;"
        "assert RBC_DIAMETER_PX['bccd'] == 104.0"
    ),
    "hemseg-postproc": (
        "import numpy as np; from hemseg.postproc import clean_mask, label_instances;"
        "m = np.zeros((9, 9)); m[1:4, 1:4] = m[5:8, 5:8] = 1;"
        "assert label_instances(clean_mask(m, closing_radius=0)).max() == 2;"
        "from hemseg.postproc import rbc_diameter, platelet_instances, instance_polygons"
    ),
    "hemseg-diagnosis": (
        "from hemseg.diagnosis import differential, summary_csv, summary_row, SmearAnalyser;"
        "assert differential(['blast', 'lymphocyte']).blast_fraction == 0.5;"
        "assert summary_csv([summary_row('a.png', error='x')]).startswith('image,status,error')"
    ),
    "hemseg-review": (
        "from hemseg.review import create_app, label_keys;"
        "assert label_keys(('a', 'b', 'not_wbc', 'smudge'))[-2:] == [('0', 'not_wbc'), ('s', 'smudge')]"
    ),
    "hemseg-models": (
        "import torch; from hemseg.models import segmentation_network;"
        "from hemseg.data.transforms import NormalizeRGB;"
        "assert NormalizeRGB()(torch.zeros(1, 4, 4, dtype=torch.uint8)).shape == (3, 4, 4);"
        "assert segmentation_network(2).eval()(torch.rand(1, 3, 64, 64)).shape == (1, 2, 64, 64);"
        "assert segmentation_network(2, 'hemseg-vgg16').eval()(torch.rand(1, 3, 64, 64)).shape == (1, 2, 64, 64)"
    ),
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


@pytest.mark.slow
@pytest.mark.parametrize("distribution", sorted(CHECKS))
def test_distribution_installs_alone(distribution, environments):
    python = str(environments[distribution].result())
    installed = ",".join(d.removeprefix("hemseg-") for d in [*REQUIRES[distribution], distribution])
    run(python, "-c", PROBE, installed, "torch" if distribution in NEEDS_TORCH else "no-torch")
    run(python, "-c", CHECKS[distribution])
