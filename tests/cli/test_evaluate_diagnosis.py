"""``hemseg evaluate diagnosis``: flags against ALL-IDB1 image labels, on three validation fields."""

from __future__ import annotations

import json

import pytest
from subsets import linked_subset
from typer.testing import CliRunner

from hemseg.cli.main import app

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

#: Three ALL-IDB1 validation fields and the flags the shipped models raise on them
#: (docs/howto/diagnose.md gives the figures on all fields; the previous classifier flagged Im043_0).
FIELDS = {"Im014_1": "all", "Im086_0": "healthy", "Im043_0": "healthy"}


def test_leukaemia_flags_follow_the_image_labels(data_root, tmp_path):
    mini = linked_subset(data_root / "all_idb1", tmp_path / "all_idb1", FIELDS)
    (mini / "labels.csv").write_text("id,label\n" + "".join(f"{k},{v}\n" for k, v in FIELDS.items()))
    out = tmp_path / "result.json"
    result = CliRunner().invoke(app, ["evaluate", "diagnosis", str(mini), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["images"] == 3 and report["flags"]["images"] == {"all": 1, "healthy": 2}
    for name in ("blasts_present", "blast_fraction"):
        assert report["flags"][name]["accuracy"] == 1.0, report["per_image"]
    field = {r["id"]: r for r in report["per_image"]}
    assert field["Im014_1"]["counts"]["blast"] >= 5
    assert "blast" not in field["Im086_0"]["counts"] and "blast" not in field["Im043_0"]["counts"]


def test_image_transform_reaches_the_photo_as_unit_range_channels_first():
    """``evaluate_diagnosis(image_transform=...)``: photos go to the transform as (3, H, W) in [0, 1]."""
    import numpy as np

    from hemseg.diagnosis.evaluation import changed_photo as _changed

    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(_changed(rgb, lambda image: image), rgb)
    seen = []
    darker = _changed(rgb, lambda image: seen.append(image.shape) or image * np.array([0.5, 1.0, 1.0]).reshape(3, 1, 1))
    assert seen == [(3, 5, 7)]
    assert np.array_equal(darker[..., 1:], rgb[..., 1:])
    assert np.abs(darker[..., 0].astype(float) - rgb[..., 0] / 2.0).max() <= 0.5  # halved, rounded to uint8
