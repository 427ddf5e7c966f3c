from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from hemseg.data import UNKNOWN, read_dataset, segmentation_records
from hemseg.data.transforms import segmentation_val_transforms
from hemseg.models import pseudo_label_dataset


class _Teacher:
    """White cell: probability 0.95 in a 4x4 square, 0.6 on the ring around it, 0.02 elsewhere."""

    def probabilities(self, image, rbc_diameter_px):
        assert rbc_diameter_px == 38.0  # pbc's entry in RBC_DIAMETER_PX
        wbc = np.full(image.shape[1:], 0.02, np.float32)
        wbc[1:9, 1:9] = 0.6
        wbc[3:7, 3:7] = 0.95
        return np.stack([wbc, wbc * 0.5, np.full_like(wbc, 0.99)])


def _unannotated(root, labels):
    (root / "images").mkdir(parents=True)
    for index in range(len(labels)):
        Image.fromarray(np.full((10, 12, 3), 200, np.uint8)).save(root / "images" / f"c{index}.png")
    (root / "labels.csv").write_text("id,label\n" + "".join(f"c{i},{x}\n" for i, x in enumerate(labels)))
    (root / "dataset.json").write_text(json.dumps({"name": "pbc", "license": "CC BY 4.0", "structures": {}}))


def test_confident_pixels_become_masks_and_doubtful_ones_unknown(tmp_path):
    _unannotated(tmp_path / "pbc", ["lymphocyte"] * 3 + ["monocyte"] * 2 + ["platelet"] * 2)
    out = tmp_path / "pseudo" / "pbc"
    written = pseudo_label_dataset(
        _Teacher(), tmp_path / "pbc", out, keep=["wbc", "nucleus"], per_label=2, teacher="t", skip_labels=["platelet"]
    )
    assert written == 4  # 2 lymphocytes drawn of 3, both monocytes, no platelet
    dataset = read_dataset(out)
    assert dataset.name == "pbc" and dataset.structures == ("wbc", "nucleus")
    assert sorted(s.labels[0] for s in dataset.samples) == ["lymphocyte", "lymphocyte", "monocyte", "monocyte"]
    assert all((out / "images" / s.image.name).is_symlink() for s in dataset.samples)
    info = json.loads((out / "dataset.json").read_text())
    assert info["pseudo_labels"] == {
        "teacher": "t",
        "confidence": 0.9,
        "per_label": 2,
        "seed": 0,
        "skip_labels": ["platelet"],
        "margins": {},
    }
    wbc = np.asarray(Image.open(out / "masks" / "wbc" / "c3.png"))
    assert (wbc == 255).sum() == 16 and (wbc == 128).sum() == 64 - 16 and (wbc == 0).sum() == 120 - 64
    assert set(np.unique(np.asarray(Image.open(out / "masks" / "nucleus" / "c3.png")))) == {0, 128}
    assert not (out / "masks" / "rbc").exists()  # not kept: unannotated, not background
    (record,) = segmentation_records(dataset, [dataset.samples[0]], 38.0)
    sample = segmentation_val_transforms(target_rbc_px=38.0)(record)
    assert sample["label_known"].tolist() == [1.0, 1.0, 0.0]
    assert int((sample["label"][0] == UNKNOWN).sum()) == 48 and int((sample["label"][0] == 1).sum()) == 16


def test_background_near_a_confident_cell_is_not_known_within_the_margin(tmp_path):
    _unannotated(tmp_path / "pbc", ["neutrophil"])
    out = tmp_path / "pseudo" / "pbc"
    pseudo_label_dataset(_Teacher(), tmp_path / "pbc", out, keep=["wbc", "nucleus"], margins={"wbc": 3 / 38})
    wbc = np.asarray(Image.open(out / "masks" / "wbc" / "c0.png"))
    # background within 3 px (3/38 of pbc's 38 px red cell) of the confident square: the 4 pixels
    # straight out from each side on rows 0 and 9 and columns 0 and 9; the diagonals lie farther
    assert (wbc == 255).sum() == 16 and (wbc == 128).sum() == 48 + 16 and (wbc == 0).sum() == 120 - 64 - 16
    assert (wbc[0, 3:7] == 128).all() and (wbc[3:7, 9] == 128).all() and wbc[0, 2] == 0 and wbc[3, 10] == 0
    nucleus = np.asarray(Image.open(out / "masks" / "nucleus" / "c0.png"))
    assert (nucleus == 0).sum() == 120 - 64  # no confident nucleus, no margin
    assert json.loads((out / "dataset.json").read_text())["pseudo_labels"]["margins"] == {"wbc": 3 / 38}


def test_an_unreadable_photo_is_named_and_the_others_written(tmp_path, capfd):
    _unannotated(tmp_path / "pbc", ["lymphocyte", "monocyte"])
    (tmp_path / "pbc" / "images" / "c0.png").write_bytes(b"not a png")
    with pytest.raises(RuntimeError, match="1 of 2 images could not be read"):
        pseudo_label_dataset(_Teacher(), tmp_path / "pbc", tmp_path / "out")
    assert "c0.png: cannot read image" in capfd.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out" / "masks" / "wbc").iterdir()) == ["c1.png"]
    assert [s.id for s in read_dataset(tmp_path / "out").samples] == ["c1"]
    with pytest.raises(ValueError, match="confidence"):
        pseudo_label_dataset(_Teacher(), tmp_path / "pbc", tmp_path / "out", confidence=0.3)
