from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hemseg.data import LayoutError, find_datasets, read_dataset, summarize

# Counts documented in the shared data README.
README_COUNTS = {
    "bccd": (295, {"wbc": 295, "nucleus": 295}),
    "jtsc_wbc": (300, {"wbc": 300, "nucleus": 300}),
    "all_idb2": (138, {"wbc": 138, "nucleus": 138}),
    "all_idb1": (52, {"wbc": 51, "rbc": 11}),
    "pbc": (10803, {}),
}
README_LABELS = {
    "bccd": {"neutrophil": 169, "eosinophil": 67, "lymphocyte": 29, "monocyte": 17, "basophil": 1},
    "jtsc_wbc": {"neutrophil": 176, "lymphocyte": 53, "monocyte": 48, "eosinophil": 22, "basophil": 1},
    "all_idb2": {"blast": 66, "non_blast": 72},
    "all_idb1": {"all": 24, "healthy": 28},
    "pbc": {
        "neutrophil": 1500,
        "eosinophil": 1500,
        "immature_granulocyte": 1500,
        "platelet": 1500,
        "erythroblast": 1401,
        "monocyte": 1270,
        "basophil": 1068,
        "lymphocyte": 1064,
    },
}


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_counts_match_the_data_readme(datasets, name):
    images, masks = README_COUNTS[name]
    summary = summarize(datasets[name])
    assert summary["images"] == images
    assert summary["masks"] == masks
    assert summary["labels"] == README_LABELS[name]


def test_bccd_multi_label_unlabelled_and_boxes(datasets):
    summary = summarize(datasets["bccd"])
    assert (summary["multi_label"], summary["unlabelled"]) == (11, 1)
    assert set(summary["boxes"]) == {"RBC", "WBC", "Platelets"}
    assert summary["box_files"] == 292  # three BCCD images have no VOC file


def test_red_cell_points_are_read_and_neighbouring_fields_share_a_block(datasets):
    samples = {s.id: s for s in datasets["chula_rbc"].samples}
    assert len(samples) == 498
    assert sum(len(s.points) for s in samples.values()) == 18985  # data README
    first = samples["1"].points[0]
    assert (first.x, first.y, first.label) == (594.0, 95.0, "normal")
    # ids come in runs of neighbouring fields: blocks of 5 consecutive ids share a group
    assert samples["250"].group == samples["254"].group == "chula_rbc:block50"
    assert samples["254"].group != samples["255"].group


def test_crops_share_the_group_of_their_source_field(datasets, data_root):
    idb1 = {s.id: s.group for s in datasets["all_idb1"].samples}
    idb2 = {s.id: s.group for s in datasets["all_idb2"].samples}
    sources = (data_root / "all_idb2" / "sources.csv").read_text().splitlines()[1:]
    for line in sources:
        crop, field, *_ = line.split(",")
        assert idb2[crop] == idb1[field], (crop, field)
    # fields showing the same smear area (README) share one group
    assert idb1["Im014_1"] == idb1["Im015_1"]
    assert idb1["Im020_1"] == idb1["Im021_1"] == idb1["Im022_1"]
    assert idb1["Im093_0"] == idb1["Im108_0"]
    assert idb1["Im012_1"] != idb1["Im013_1"]


def _write_dataset(root: Path, structures=("wbc",), info=None) -> Path:
    (root / "images").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / "images" / "a.png")
    for s in structures:
        (root / "masks" / s).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "masks" / s / "a.png")
    (root / "dataset.json").write_text(json.dumps(info or {"name": "tiny", "structures": {s: "" for s in structures}}))
    (root / "labels.csv").write_text("id,label\na,blast;lymphocyte\n")
    return root


def test_reads_a_constructed_dataset(tmp_path):
    dataset = read_dataset(_write_dataset(tmp_path / "tiny"))
    (sample,) = dataset.samples
    assert dataset.structures == ("wbc",)
    assert sample.labels == ("blast", "lymphocyte")
    assert sample.masks == {"wbc": tmp_path / "tiny" / "masks" / "wbc" / "a.png"}
    assert sample.group == "tiny:a"


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda r: (r / "dataset.json").write_text("{oops"), "dataset.json: not valid JSON"),
        (lambda r: (r / "dataset.json").unlink(), "dataset.json: missing"),
        (lambda r: (r / "dataset.json").write_text('{"structures": {"cytoplasm": ""}}'), "unknown structure"),
        (lambda r: (r / "labels.csv").write_text("name,class\na,blast\n"), "labels.csv: header must be"),
        (lambda r: (r / "labels.csv").write_text("id,label\nb,blast\n"), "labels.csv: ids without an image"),
        (
            lambda r: ((r / "images" / "a.png").rename(r / "images" / "z.png"), (r / "labels.csv").unlink()),
            "wbc/a.png: mask without an image",
        ),
        (lambda r: [p.unlink() for p in (r / "images").iterdir()] and (r / "images").rmdir(), "images: missing"),
        (lambda r: (r / "points.csv").write_text("id,x,y\na,1,2\n"), "points.csv: header must be"),
        (lambda r: (r / "points.csv").write_text("id,x,y,label\na,one,2,normal\n"), "points.csv:2: expected"),
        (lambda r: (r / "points.csv").write_text("id,x,y,label\nb,1,2,normal\n"), "points.csv: ids without an image"),
    ],
)
def test_broken_layouts_name_the_path(tmp_path, breakage, message):
    root = _write_dataset(tmp_path / "tiny")
    breakage(root)
    with pytest.raises(LayoutError, match=message) as info:
        read_dataset(root)
    assert str(root) in str(info.value)


def test_folders_without_datasets_are_errors(tmp_path):
    with pytest.raises(LayoutError, match="no such directory"):
        find_datasets(tmp_path / "missing")
    with pytest.raises(LayoutError, match="no dataset folders"):
        find_datasets(tmp_path)


def test_single_round_red_cells_give_the_scale_clumps_do_not(tmp_path):
    from skimage.draw import disk

    from hemseg.data import measure_cell_sizes

    root = _write_dataset(tmp_path / "tiny", structures=("rbc",))
    mask = np.zeros((200, 200), np.uint8)
    for centre in [(40, 40), (40, 120)]:  # two single round cells, 20 px radius
        mask[disk(centre, 20)] = 255
    for row in (100, 160):  # two clumps of two overlapping cells
        for col in (40, 70):
            mask[disk((row, col), 20)] = 255
    Image.fromarray(mask).save(root / "masks" / "rbc" / "a.png")
    sizes = measure_cell_sizes(read_dataset(root))
    single = 2 * np.sqrt((mask[:80, :80] > 0).sum() / np.pi)  # equivalent diameter of one disc
    assert sizes["rbc_single"] == round(single, 1)
    assert sizes["rbc"] > single + 5  # the median of all components is pulled up by the clumps


def test_nuclei_are_measured_per_label_on_single_label_cells(tmp_path):
    from hemseg.data import measure_nuclei

    root = _write_dataset(tmp_path / "tiny", structures=("wbc", "nucleus"))
    wbc, nucleus = np.zeros((40, 40), np.uint8), np.zeros((40, 40), np.uint8)
    wbc[0:20, 0:20] = 255  # a 400 px cell whose nucleus is two lobes of 10 x 4 px, traced apart
    nucleus[5:15, 2:6] = nucleus[5:15, 14:18] = 255
    wbc[30:35, 30:35] = nucleus[31:34, 31:34] = 255  # 25 px: under min_area, left out
    for name, mask in (("wbc", wbc), ("nucleus", nucleus)):
        Image.fromarray(mask).save(root / "masks" / name / "a.png")
    assert measure_nuclei(read_dataset(root)) == {}  # image "a" has two labels
    (root / "labels.csv").write_text("id,label\na,neutrophil\n")
    figures = measure_nuclei(read_dataset(root), min_area=100)
    # 80 px of nucleus in a 400 px cell; its convex hull spans rows 5-14, columns 2-17: 160 px
    assert figures == {"neutrophil": {"cells": 1, "nucleus_share": 0.2, "nucleus_solidity": 0.5}}
