"""``hemseg evaluate segmentation`` with the shipped weights on the validation split of real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hemseg.cli.main import app

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "hemseg_segmentation"
SHIPPED = json.loads((BUNDLE / "configs" / "metadata.json").read_text())["hemseg"]["model_sha256"] is not None

# Figures of the shipped weights on the validation split (bundles/hemseg_segmentation/docs/README.md);
# the test allows 0.005 below them.
DOCUMENTED = {"all_idb2": {"wbc": 0.943, "nucleus": 0.929}, "jtsc_wbc": {"wbc": 0.973, "nucleus": 0.957}}


@pytest.mark.skipif(not SHIPPED, reason="no trained weights shipped yet")
@pytest.mark.parametrize("dataset", ["all_idb2", "jtsc_wbc"])
def test_shipped_weights_reproduce_documented_dice(data_root, tmp_path, dataset):
    out = tmp_path / "result.json"
    args = ["evaluate", "segmentation", str(data_root / dataset), "--split", "val", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["dataset"] == dataset and report["images"] > 30
    assert set(report["structures"]) == {"wbc", "nucleus"}
    for structure, dice in DOCUMENTED[dataset].items():
        assert report["structures"][structure]["dice"] >= dice - 0.005, (structure, report["structures"][structure])
    assert report["ms_per_image"] > 0


def test_bad_folder_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "segmentation", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"hemseg: error: {tmp_path / 'dataset.json'}: missing (every dataset folder needs a dataset.json)"
    ]


def test_central_cell_masks_keep_only_the_cell_nearest_the_centre():
    from skimage.draw import disk

    from hemseg.cli.evaluation import _central_cell_masks

    wbc = np.zeros((100, 100), bool)
    nucleus = np.zeros((100, 100), bool)
    wbc[disk((50, 50), 15)] = True  # the central cell
    wbc[disk((8, 8), 10)] = True  # a neighbour cut by the crop's edge
    nucleus[disk((50, 50), 6)] = True
    nucleus[disk((8, 8), 4)] = True
    central = _central_cell_masks({"wbc": wbc, "nucleus": nucleus}, rbc_diameter_px=20)
    assert central["wbc"].sum() == disk((50, 50), 15, shape=(100, 100))[0].size
    assert not central["wbc"][:20, :20].any()
    assert central["nucleus"].sum() == disk((50, 50), 6)[0].size
    empty = _central_cell_masks({"wbc": np.zeros((10, 10), bool)}, rbc_diameter_px=20)
    assert set(empty) == {"wbc"} and not empty["wbc"].any()


@pytest.mark.skipif(not SHIPPED, reason="no trained weights shipped yet")
def test_image_transform_changes_what_is_segmented_not_the_reference(data_root, tmp_path):
    """``image_transform`` (benchmarks/robustness.py) is applied to the photo before segmentation."""
    import torch

    from hemseg.cli.evaluation import evaluate_segmentation

    source, mini = data_root / "jtsc_wbc", tmp_path / "jtsc_wbc"
    ids = ["001", "002", "003"]
    for folder in ("images", "masks/wbc", "masks/nucleus"):
        (mini / folder).mkdir(parents=True)
        for i in ids:
            (mini / folder / f"{i}.png").symlink_to((source / folder / f"{i}.png").resolve())
    (mini / "dataset.json").write_text((source / "dataset.json").read_text())
    plain = evaluate_segmentation(mini)["structures"]["wbc"]
    blank = evaluate_segmentation(mini, image_transform=torch.ones_like)["structures"]["wbc"]
    assert plain["images"] == blank["images"] == 3
    assert plain["dice"] > 0.9 and blank["dice"] == 0.0 and blank["recall"] == 0.0
