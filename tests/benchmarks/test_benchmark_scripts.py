"""Smoke run of the benchmark scripts (the full runs regenerate docs/benchmarks.md)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_network_speed_of_one_architecture(tmp_path):
    _run("benchmarks/networks.py", "--runs", "1", "--backbones", "basic-unet", "--json", str(tmp_path / "speed.json"))
    speed = json.loads((tmp_path / "speed.json").read_text())
    (unet,) = speed["networks"]
    assert unet["backbone"] == "basic-unet"
    assert unet["gflop"] == pytest.approx(9.97, abs=0.01)  # FLOPs are counted, not timed
    assert unet["limit_ms"] == pytest.approx(unet["gflop"] / speed["peak_gflops"] * 1000)
    best = min(unet["eager_ms"], unet["channels_last_ms"], unet["onnx_ms"])
    assert unet["fraction_of_limit"] == pytest.approx(unet["limit_ms"] / best)


def test_tables_and_plot_from_the_committed_results(tmp_path):
    results = REPO / "benchmarks" / "results"
    _run("benchmarks/tables.py", "--results", str(results), "--docs", str(tmp_path))
    speed = json.loads((results / "speed.json").read_text())
    segmentation = (tmp_path / "benchmarks_segmentation.inc").read_text()
    speed_table = (tmp_path / "benchmarks_speed.inc").read_text()
    trained = {path.name.removesuffix("-train.json") for path in (results / "segmentation").glob("*-train.json")}
    for network in speed["networks"]:
        assert f"| {network['architecture']} | `{network['backbone']}` |" in speed_table
        assert (f"| {network['architecture']} |" in segmentation) == (network["backbone"] in trained)
    shipped = json.loads((results / "segmentation" / "shipped-bccd.json").read_text())
    assert f"{shipped['structures']['wbc']['dice']:.3f}" in segmentation
    pbc = json.loads((results / "classification" / "pbc.json").read_text())
    classifier = (tmp_path / "benchmarks_classifier.inc").read_text()
    assert f"accuracy {pbc['accuracy']:.3f}" in classifier
    assert classifier.count("| platelet |") == 1
    assert (tmp_path / "_static" / "architectures.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # leave one source out: each source's Dice (crops: the central cell's), then the mean of the three
    loso = (tmp_path / "benchmarks_loso_segmentation.inc").read_text()
    folder = results / "loso_segmentation" / "baseline"
    central = json.loads((folder / "jtsc_wbc-jtsc_wbc.json").read_text())["central_cell"]["wbc"]["dice"]
    assert f"| baseline | jtsc_wbc → `jtsc_wbc` | {central:.3f} |" in loso
    dice = [
        json.loads((folder / f"{name}.json").read_text())
        for name in ("bccd-bccd", "all_idb-all_idb2", "all_idb-all_idb1")
    ]
    idb = (dice[1]["central_cell"]["wbc"]["dice"] + dice[2]["structures"]["wbc"]["dice"]) / 2
    mean = (dice[0]["structures"]["wbc"]["dice"] + central + idb) / 3
    assert f"| **baseline** | **mean of the 3 sources** | **{mean:.3f}** |" in loso
    # a recipe run with several seeds: its seeds' means span the range of the replicates table
    seeds = dict(re.findall(r"^\| \*\*colour3_pbc2_margin(_seed\d+)?\*\* \| [^|]+ \| \*\*([0-9.]+)\*\*", loso, re.M))
    replicates = (tmp_path / "benchmarks_loso_replicates.inc").read_text()
    (row,) = [line for line in replicates.splitlines() if line.startswith("| colour3_pbc2_margin | 0, 1")]
    assert len(seeds) >= 2 and f"({min(seeds.values())} to {max(seeds.values())})** |" in row
    # the classifier's: an arm that continued another's checkpoint says so
    lines = (tmp_path / "benchmarks_loso_classification.inc").read_text().splitlines()
    (continued,) = [line for line in lines if line.startswith("| stain_ft | `jtsc_wbc` |")]
    (scratch,) = [line for line in lines if line.startswith("| stain | `jtsc_wbc` |")]
    assert "continuing a checkpoint" in continued and "continuing a checkpoint" not in scratch


def test_robustness_changes_keep_the_image_valid_and_change_it():
    """benchmarks/robustness.py's changes: (3, H, W) in [0, 1] in and out, each one a real change."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("robustness", REPO / "benchmarks" / "robustness.py")
    robustness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(robustness)
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0)) * 0.7 + 0.15
    for name, (change, factor) in robustness.changes().items():
        if change is None:
            assert (name == "none") == (factor == 1.0), name
            continue
        out = torch.as_tensor(change(image.clone()))
        assert out.shape == image.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0, name
        assert float((out - image).abs().mean()) > 0.005, name
    flat = torch.full((3, 32, 32), 0.8)
    blurred = torch.as_tensor(robustness.changes()["defocus (Gaussian blur, sigma 2 px)"][0](flat))
    assert torch.allclose(blurred, flat, atol=1e-4)  # the photo's edges repeated: no dark frame


def test_stain_amount_measures_a_crops_nucleus_and_writes_a_scaled_copy(tmp_path, monkeypatch):
    """benchmarks/stain_amount.py: a constructed crop's nucleus density, found by mask or by the dark class."""
    import importlib.util

    import numpy as np
    from PIL import Image

    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # it imports its sibling photo_sets.py
    spec = importlib.util.spec_from_file_location("stain_amount", REPO / "benchmarks" / "stain_amount.py")
    stain_amount = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stain_amount)
    slide = np.array([0.95, 0.9, 0.8])
    image = np.tile(slide[:, None, None], (1, 80, 80))
    image[:, 25:55, 25:55] = np.array([0.7, 0.6, 0.75])[:, None, None]  # cytoplasm
    image[:, 32:48, 32:48] = np.array([0.3, 0.2, 0.5])[:, None, None]  # nucleus
    nucleus = np.zeros((80, 80), bool)
    nucleus[32:48, 32:48] = True
    expected = float(-np.log(np.array([0.3, 0.2, 0.5]) / slide).sum())
    assert stain_amount.nucleus_density(image, nucleus) == pytest.approx(expected)
    assert np.array_equal(stain_amount.central_dark_class(image), nucleus)  # photo_sets.py's
    # a dataset copy with three times the stain: three times the nucleus density, annotations linked
    source = tmp_path / "data" / "crops"
    (source / "images").mkdir(parents=True)
    (source / "dataset.json").write_text(json.dumps({"name": "crops", "kind": "single-cell crop"}))
    (source / "labels.csv").write_text("id,label\ncell,lymphocyte\n")
    Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(source / "images" / "cell.png")
    stain_amount.scale(tmp_path / "data", "crops", 3.0, tmp_path / "darker")
    darker = np.asarray(Image.open(tmp_path / "darker" / "images" / "cell.png"), np.float64).transpose(2, 0, 1) / 255
    assert stain_amount.nucleus_density(darker, nucleus) == pytest.approx(3 * expected, rel=0.03)
    assert (tmp_path / "darker" / "labels.csv").read_text() == "id,label\ncell,lymphocyte\n"
    # one side of the split: its photos and only their labels
    for name in ("a", "b", "c", "d", "e"):
        Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(
            source / "images" / f"{name}.png"
        )
    (source / "labels.csv").write_text("id,label\n" + "".join(f"{n},lymphocyte\n" for n in ("cell", *"abcde")))
    stain_amount.scale(tmp_path / "data", "crops", 0.5, tmp_path / "paler", split="val")
    copied = sorted(p.stem for p in (tmp_path / "paler" / "images").iterdir())
    rows = (tmp_path / "paler" / "labels.csv").read_text().splitlines()
    assert 0 < len(copied) < 6 and rows[0] == "id,label"
    assert sorted(rows[1:]) == [f"{n},lymphocyte" for n in copied]


def test_focus_reads_a_known_blur_and_writes_a_blurred_copy(tmp_path, monkeypatch):
    """benchmarks/focus.py: a disc blurred by a known Gaussian reads that sigma; its copy is blurred."""
    import importlib.util

    import numpy as np
    from PIL import Image
    from scipy import ndimage

    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # focus.py imports its sibling photo_sets.py
    spec = importlib.util.spec_from_file_location("focus", REPO / "benchmarks" / "focus.py")
    focus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(focus)
    rows, columns = np.mgrid[:96, :96]
    nucleus = (rows - 48) ** 2 + (columns - 48) ** 2 < 18**2
    image = np.where(nucleus, 0.3, 0.8)
    for sigma in (1.5, 2.0, 3.0):
        assert focus.edge_sigma(ndimage.gaussian_filter(image, sigma), nucleus) == pytest.approx(sigma, abs=0.15)
    assert focus.edge_sigma(image, nucleus) < 0.85  # a sharp step: the gradient's own width
    source = tmp_path / "data" / "crops"
    (source / "images").mkdir(parents=True)
    (source / "dataset.json").write_text(json.dumps({"name": "crops", "kind": "single-cell crop"}))
    (source / "labels.csv").write_text("id,label\ncell,lymphocyte\n")
    Image.fromarray((np.repeat(image[..., None], 3, axis=2) * 255).round().astype(np.uint8)).save(
        source / "images" / "cell.png"
    )
    photo_sets = sys.modules["photo_sets"]  # what focus.py's command line calls
    photo_sets.write_copy(tmp_path / "data", "crops", focus.blur(2.0), tmp_path / "blurred")
    blurred = np.asarray(Image.open(tmp_path / "blurred" / "images" / "cell.png"), np.float64).mean(axis=2) / 255
    assert focus.edge_sigma(blurred, nucleus) == pytest.approx(np.hypot(2.0, 0.5), abs=0.25)
    assert (tmp_path / "blurred" / "labels.csv").read_text() == "id,label\ncell,lymphocyte\n"


def test_specimen_mix_scores_each_least_share_on_the_common_classes(monkeypatch):
    """benchmarks/specimen_mix.py: cells in doubt follow the mix; a rare class's cells are kept at a least share."""
    import importlib.util

    import numpy as np

    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # it imports its sibling bn_adaptation.py
    spec = importlib.util.spec_from_file_location("specimen_mix", REPO / "benchmarks" / "specimen_mix.py")
    specimen_mix = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(specimen_mix)
    classes = np.array(["neutrophil", "lymphocyte", "erythroblast"])
    # 8 sure neutrophils, 3 clear lymphocytes, 2 lymphocytes the network leans to call erythroblasts,
    # 1 erythroblast
    probabilities = np.array(
        [[0.96, 0.02, 0.02]] * 8 + [[0.05, 0.85, 0.1]] * 3 + [[0.05, 0.45, 0.5]] * 2 + [[0.1, 0.1, 0.8]]
    )
    labels = np.array(["neutrophil"] * 8 + ["lymphocyte"] * 5 + ["erythroblast"])
    scores = specimen_mix._scores(probabilities, labels, classes, [None, 0.0, 0.5, 0.9])
    assert scores["none"]["accuracy_5_common_classes"] == round(11 / 13, 4)  # two lymphocytes wrong
    assert scores["none"]["recall"]["erythroblast"] == 1.0
    # the plain mix: the two lymphocytes turn right, the erythroblast, rare, is lost
    assert scores["0.0"]["recall"] == {"erythroblast": 0.0, "lymphocyte": 1.0, "neutrophil": 1.0}
    # held at half an equal share, the rare class keeps its sure cell and the doubtful ones still turn
    assert scores["0.5"]["recall"] == {"erythroblast": 1.0, "lymphocyte": 1.0, "neutrophil": 1.0}
    # a least share near 1 leaves nearly the equal shares: the answer as it was
    assert scores["0.9"] == scores["none"]


def test_morphometry_fuses_the_measures_on_each_specimens_own_scale(monkeypatch):
    """benchmarks/morphometry.py: a lymphocyte is small against its own specimen's cells, whatever the lab's scale."""
    import importlib.util

    import numpy as np

    from hemseg.data import CELL_CLASSES
    from hemseg.postproc import MORPHOMETRY_NAMES

    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # it imports its sibling bn_adaptation.py
    spec = importlib.util.spec_from_file_location("morphometry", REPO / "benchmarks" / "morphometry.py")
    morphometry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(morphometry)
    area = MORPHOMETRY_NAMES.index("cell_area")

    class Size:
        """Calls a cell a lymphocyte when it is smaller than its specimen's typical cell."""

        classes_ = np.array(["lymphocyte", "neutrophil"])

        def predict_proba(self, measures):
            small = (measures[:, area] < 1).astype(float)
            return np.c_[0.9 * small + 0.1 * (1 - small), 0.1 * small + 0.9 * (1 - small)]

    # a lab whose photos are shown at twice the scale: 60 neutrophils of 4,000 px, 40 lymphocytes of 2,000
    labels = np.array(["neutrophil"] * 60 + ["lymphocyte"] * 40)
    measures = np.zeros((100, len(MORPHOMETRY_NAMES)))
    measures[:, area] = np.where(labels == "neutrophil", 4000.0, 2000.0)
    # the network calls every cell a neutrophil, just
    network = np.full((100, len(CELL_CLASSES)), 0.01)
    network[:, CELL_CLASSES.index("neutrophil")] = 0.5
    network[:, CELL_CLASSES.index("lymphocyte")] = 0.4
    smear, rich = [np.arange(100)], [np.r_[60:100, 0:10]]  # 40 of 100 lymphocytes; 40 of 50
    assert morphometry._per_specimen(smear, network, measures, labels, Size(), 0.0)["lymphocyte_recall"] == 0.0
    fused = morphometry._per_specimen(smear, network, measures, labels, Size(), 1.0)
    assert fused == {"accuracy_5_common_classes": 1.0, "lymphocyte_recall": 1.0}
    # where most cells are lymphocytes, the typical cell is one: the hazard of a specimen's own scale
    fused = morphometry._per_specimen(rich, network, measures, labels, Size(), 1.0)
    assert fused == {"accuracy_5_common_classes": 0.2, "lymphocyte_recall": 0.0}


def test_specimen_zoom_adapts_each_specimen_at_the_zoom_it_is_least_uncertain_at(monkeypatch):
    """benchmarks/specimen_zoom.py: a specimen whose cells look small is classified magnified."""
    import importlib.util

    import numpy as np
    import torch

    from hemseg.data import CELL_CLASSES
    from hemseg.models import Classifier

    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # it imports its siblings
    spec = importlib.util.spec_from_file_location("specimen_zoom", REPO / "benchmarks" / "specimen_zoom.py")
    specimen_zoom = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(specimen_zoom)
    lymphocyte = CELL_CLASSES.index("lymphocyte")

    class Sized(torch.nn.Module):
        """Sure of a lymphocyte when the cell covers a quarter of the patch; 4 batch norms on the colours."""

        def __init__(self):
            super().__init__()
            self.norms = torch.nn.Sequential(*[torch.nn.BatchNorm2d(3) for _ in range(4)])

        def forward(self, x):
            self.norms(x[:, :3])
            m = x[:, 3].mean(dim=(1, 2))
            logits = torch.zeros(len(x), len(CELL_CLASSES))
            logits[:, lymphocyte] = 10 - 80 * (m - 0.25).abs()
            return logits

    patches = np.zeros((10, 32, 32, 4), np.uint8)
    patches[:, 12:20, 12:20] = 255  # lymphocytes of 8 px: a sixteenth of the patch, a quarter at zoom 2
    labels = np.array(["lymphocyte"] * 10)
    classifier = Classifier(Sized().eval(), CELL_CLASSES)
    as_cut = specimen_zoom._per_specimen(classifier, patches, labels, [np.arange(10)], None)
    assert as_cut == {"accuracy_5_common_classes": 0.0, "lymphocyte_recall": 0.0, "zooms_chosen": {"1": 1}}
    zoomed = specimen_zoom._per_specimen(classifier, patches, labels, [np.arange(10), np.arange(5)], [1.0, 2.0])
    assert zoomed == {"accuracy_5_common_classes": 1.0, "lymphocyte_recall": 1.0, "zooms_chosen": {"2": 2}}


def test_lab_look_changes_a_patchs_colours_keeps_its_mask_and_counts_what_lymphocytes_are_called(monkeypatch):
    """benchmarks/lab_look.py: the paler, pinker look pales a nucleus and reddens a surround; the mask stays."""
    import importlib.util

    import numpy as np

    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # it imports its siblings
    spec = importlib.util.spec_from_file_location("lab_look", REPO / "benchmarks" / "lab_look.py")
    lab_look = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lab_look)

    patches = np.zeros((1, 4, 4, 4), np.uint8)
    patches[0, :2, :, :3], patches[0, 2:, :, :3] = (90, 60, 150), (230, 180, 200)  # a nucleus, a pink surround
    patches[0, :2, :, 3] = 255
    looks = lab_look._looks()
    assert list(looks)[: len(lab_look.LOOKS)] == list(lab_look.LOOKS) and len(looks) == len(lab_look.LOOKS) + 4
    assert lab_look._changed(patches, looks["none"]) is patches
    changed = lab_look._changed(patches, looks["paler nuclei, pinker surround (haematoxylin x0.6, eosin x1.5)"])
    assert (changed[..., 3] == patches[..., 3]).all()
    assert changed[0, 0, 0, :3].tolist() == [133, 78, 176]  # paler
    assert changed[0, 3, 0, :3].tolist() == [230, 166, 199]  # less green: pinker
    flat = np.full((1, 8, 8, 4), 100, np.uint8)
    assert (lab_look._changed(flat, looks["sharper (unsharp mask, sigma 1.5 px, amount 2)"]) == flat).all()  # no border
    halved = lab_look._changed(patches, lambda image: image * 0.5)
    assert (halved[0, 0, 0, :3] == [45, 30, 75]).all()

    class Stub:
        classes = ("lymphocyte", "monocyte", "neutrophil")

        @staticmethod
        def probabilities(found):
            return np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.0, 0.0, 1.0]])

    scored = lab_look._scored(Stub(), np.zeros((4, 1, 1, 4)), np.array(["lymphocyte"] * 3 + ["neutrophil"]))
    assert scored["lymphocytes_called"] == {"monocyte": 2, "lymphocyte": 1}
    assert scored["accuracy_5_common_classes"] == 0.5 and scored["recall"]["lymphocyte"] == round(1 / 3, 3)

    # the look check as hemseg diagnose asks it: a specimen's median sharpness outside its stain source's range
    from hemseg.postproc import StainReference

    class Bundle:
        def __init__(self, sharpness):
            reference = StainReference({"any": (np.zeros(6), np.eye(6))}, np.inf, {"any": sharpness})
            self.items = {"stain_reference": reference, "adapt_min_cells": 3, "adapt_unfamiliar_share": 0.5}

        def item(self, name):
            return self.items[name]

    rng = np.random.default_rng(0)
    cells = np.zeros((3, 64, 64, 4), np.uint8)
    cells[..., :3] = rng.integers(100, 200, (3, 64, 64, 1))  # a textured surround, grey
    cells[:, 24:40, 24:40, 3] = 255
    assert lab_look._look(Bundle((-10.0, 10.0)), cells) is None
    assert lab_look._look(Bundle((-10.0, -9.0)), cells)["source"] == "any"


@pytest.mark.parametrize(
    ("before", "after", "gain", "above_zero"),
    [
        # "The prior chosen again": +0.009 over the prior 0.4 (the same weights and cells), 95 % interval
        # +0.004 to +0.016, higher in 99.8 % of the draws
        ("prior04/chula_rbc.json", "field_off/chula_rbc.json", 0.009, 0.998),
        # "The field prior switched on": +0.005 over it off, 95 % interval -0.004 to +0.014, higher in 86.5 %
        ("field_off/chula_rbc.json", "field_on/chula_rbc.json", 0.005, 0.865),
        # "The slide trimmed off crowded red cells": +0.001 over none, -0.006 to +0.007, higher in 66.4 %
        ("field_on/chula_rbc.json", "dfcf3e87/chula_rbc.json", 0.001, 0.664),
        # "Cells split at their distance map's peaks, the last stage trained on them": +0.0025 over the weights
        # and cells before, -0.0036 to +0.0087, higher in 82.7 %
        ("dfcf3e87/chula_rbc.json", "chula_rbc.json", 0.003, 0.827),
    ],
)
def test_paired_gain_of_the_shipped_red_cell_pipeline_from_the_committed_results(
    tmp_path, before, after, gain, above_zero
):
    """The card's paired gains, when the 22 validation blocks are drawn again for both, from the committed
    results (each ``paired_gain.json`` beside its ``after``)."""
    results = REPO / "benchmarks" / "results" / "rbc"
    before, after = results / before, results / after
    printed = _run("benchmarks/paired_gain.py", str(before), str(after), "--json", str(tmp_path / "gain.json"))
    committed = after.parent / "paired_gain.json"
    found, committed = (json.loads(p.read_text()) for p in (tmp_path / "gain.json", committed))
    assert {k: found[k] for k in ("gain", "interval", "share_above_zero", "unit_count")} == {
        k: committed[k] for k in ("gain", "interval", "share_above_zero", "unit_count")
    }
    assert found["unit_count"] == 22 and found["interval"][0] < found["gain"] < found["interval"][1]
    assert round(found["gain"], 3) == gain and found["share_above_zero"] == pytest.approx(above_zero, abs=0.001)
    assert found["accuracy"] == [json.loads(p.read_text())["accuracy"] for p in (before, after)]
    assert f"gain +{found['gain']:.4f}" in printed


def test_rbc_split_counts_red_cells_and_the_points_on_a_cell_of_two_classes():
    """benchmarks/rbc_split.py: of three points on one joined pair (two classes) and one on a lone cell, three
    lie on a cell of two classes; an unclassified point and one on the bare slide are no such point."""
    import importlib.util
    from collections import Counter
    from types import SimpleNamespace

    import numpy as np

    spec = importlib.util.spec_from_file_location("rbc_split", REPO / "benchmarks" / "rbc_split.py")
    rbc_split = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rbc_split)
    labels = np.zeros((60, 100), np.int32)
    labels[10:30, 10:50] = 1  # a joined pair
    labels[40:55, 70:90] = 2  # a lone cell
    points = [
        SimpleNamespace(x=x, y=y, label=label)
        for x, y, label in [
            (15, 20, "normal"),
            (45, 20, "schistocyte"),
            (30, 15, "normal"),
            (30, 25, "unclassified"),
            (80, 47, "spherocyte"),
            (95, 5, "normal"),
        ]
    ]
    tally = Counter()
    find = rbc_split.counting(
        lambda image, rbc_px: SimpleNamespace(rbc=labels, rbc_px=20.0), [SimpleNamespace(points=points)], tally
    )
    find(np.zeros((60, 100, 3), np.uint8), 20.0)
    assert tally == {"red_cells": 2, "points_on_mixed_cells": 3}


def test_segmentation_bn_adaptation_re_estimates_the_stem_on_each_image_alone(monkeypatch):
    """benchmarks/segmentation_bn_adaptation.py: ``image`` adapts on the photo being segmented, not on the set."""
    import importlib.util

    import numpy as np
    import torch

    from hemseg.models import Segmenter

    spec = importlib.util.spec_from_file_location("seg_bn", REPO / "benchmarks" / "segmentation_bn_adaptation.py")
    seg_bn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seg_bn)
    torch.manual_seed(0)
    network = torch.nn.Sequential(
        torch.nn.Conv2d(3, 2, 1), torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.Conv2d(2, 1, 1)
    ).eval()
    segmenter = Segmenter(network, target_rbc_px=40.0, roi_size=64)
    images = [torch.rand(3, 64, 64) * 0.3, torch.rand(3, 64, 64) * 0.3 + 0.7]  # a dark and a bright photo
    each = seg_bn._EachImageAdapted(segmenter, layers=1)
    on_the_set = segmenter.adapted([(image, None) for image in images], 1)
    for image in images:
        alone = segmenter.adapted([(image, None)], 1).probabilities(image, None)
        np.testing.assert_allclose(each.probabilities(image, None), alone, atol=1e-6)
        assert not np.allclose(alone, on_the_set.probabilities(image, None), atol=1e-3)
    assert each.last_network_ms > 0


def test_segmentation_bn_adaptation_stem_shift_is_the_standardised_difference_of_means():
    """benchmarks/segmentation_bn_adaptation.py --shift: a photo's stem means against the learnt ones."""
    import importlib.util

    import pytest
    import torch

    from hemseg.models import Segmenter

    spec = importlib.util.spec_from_file_location("seg_bn", REPO / "benchmarks" / "segmentation_bn_adaptation.py")
    seg_bn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seg_bn)
    network = torch.nn.Sequential(torch.nn.BatchNorm2d(3, eps=1e-12)).eval()
    network[0].running_var.fill_(4.0)  # learnt means 0, standard deviations 2
    image = torch.stack([torch.full((40, 40), v) for v in (0.2, 0.6, 1.0)])  # flat channels
    shift = seg_bn._stem_shift(Segmenter(network, target_rbc_px=40.0, roi_size=64), image, 40.0)
    assert shift == pytest.approx((0.2 + 0.6 + 1.0) / 2 / 3)


def test_a_leave_one_out_arm_copy_builds_the_network_its_run_trained(tmp_path):
    """scripts/override-inference.py: the run's --colour_norm reaches the copy; training-only keys do not."""
    from monai.bundle import ConfigParser

    from hemseg.models import SlideReferenced

    config = tmp_path / "inference.yaml"
    original = (REPO / "bundles" / "hemseg_segmentation" / "configs" / "inference.yaml").read_text()
    config.write_text(original)
    _run("scripts/override-inference.py", str(config), "--colour_strength", "3", "--colour_norm", "slide")
    changed = config.read_text()
    assert changed == original.replace("\ncolour_norm: none\n", "\ncolour_norm: slide\n")
    parser = ConfigParser()
    parser.read_config(str(config))
    parser["network_def"]["out_channels"] = 3
    assert isinstance(parser.get_parsed_content("network_def"), SlideReferenced)
