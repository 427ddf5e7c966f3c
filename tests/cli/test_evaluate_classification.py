"""``hemseg evaluate classification`` with the shipped weights on the validation split of real data."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hemseg.cli.main import app

# Figures of the shipped weights on the validation split (bundles/hemseg_classification/docs/README.md):
# images, accuracy (the test allows one image fewer right), cells marked for review (measured
# 2026-12-03: 19 of 39 ALL-IDB2 crops, 3 of 58 jtsc_wbc crops, all for a low probability: the shipped
# stain reference knows both sources' stains; one cell either way allowed)
DOCUMENTED = {"all_idb2": (39, 1.0, 19), "jtsc_wbc": (58, 0.914, 4)}


@pytest.mark.parametrize("dataset", sorted(DOCUMENTED))
def test_shipped_weights_reproduce_documented_accuracy(data_root, tmp_path, dataset):
    out = tmp_path / "result.json"
    args = ["evaluate", "classification", str(data_root / dataset), "--split", "val", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    images, accuracy, marked = DOCUMENTED[dataset]
    assert report["dataset"] == dataset and report["images"] == images and report["skipped"] == 0
    assert report["accuracy"] >= accuracy - 1.5 / images, report["accuracy"]
    assert set(report) >= {"macro_f1", "per_class", "confusion", "ece", "ms_per_image"}
    low, high = report["interval"]["accuracy"]  # the crops' source fields drawn again
    assert low <= report["accuracy"] <= high and high - low < 0.25
    assert abs(report["review_share"] * images - marked) <= 1
    assert report["low_confidence_share"] == report["review_share"]  # top probability below review_below (0.6)
    assert report["unfamiliar_share"] == 0.0
    assert sum(v["support"] for v in report["per_class"].values()) == images
    assert sum(map(sum, report["confusion"]["matrix"])) == images


def test_images_with_several_labels_or_none_are_skipped_and_counted(data_root, tmp_path):
    import shutil

    root = tmp_path / "crops"
    (root / "images").mkdir(parents=True)
    for sample_id in ("001", "002", "003"):
        shutil.copy(data_root / "jtsc_wbc" / "images" / f"{sample_id}.png", root / "images")
    (root / "dataset.json").write_text(json.dumps({"name": "crops", "structures": {}}))
    (root / "labels.csv").write_text("id,label\n001,neutrophil;lymphocyte\n002,\n003,neutrophil\n")
    out = tmp_path / "result.json"
    args = ["evaluate", "classification", str(root), "--rbc-diameter-px", "48", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert (report["images"], report["skipped"]) == (1, 2)
    assert list(report["per_class"]) == ["neutrophil"]
    assert (report["rbc_diameter_px"], report["scale_source"]) == (48.0, "given")


def test_a_dataset_without_a_known_scale_is_scored_at_its_images_shared_estimate(data_root, tmp_path):
    """A dataset not in hemseg.data.RBC_DIAMETER_PX: the median of its images' own estimates, or each one's."""
    import shutil

    root = tmp_path / "other_lab"
    (root / "images").mkdir(parents=True)
    for sample_id in ("BloodImage_00008", "BloodImage_00013"):
        shutil.copy(data_root / "bccd" / "images" / f"{sample_id}.jpg", root / "images")
    (root / "dataset.json").write_text(json.dumps({"name": "other_lab", "structures": {}}))
    (root / "labels.csv").write_text("id,label\nBloodImage_00008,neutrophil\nBloodImage_00013,neutrophil\n")
    reports = []
    for args in ([], ["--rbc-diameter-px", "auto"]):
        out = tmp_path / "result.json"
        result = CliRunner().invoke(app, ["evaluate", "classification", str(root), "--json", str(out), *args])
        assert result.exit_code == 0, result.output
        reports.append(json.loads(out.read_text()))
    shared, auto = reports
    assert (shared["rbc_diameter_px"], shared["scale_source"]) == ("shared", "shared (not in the table)")
    assert (auto["rbc_diameter_px"], auto["scale_source"]) == ("auto", "estimated per image")
    assert shared["scale_readings"] == 2 and shared["images"] == auto["images"] == 2
    # the two fields' readings: their median shared, or each field at its own (the same median)
    assert shared["rbc_diameter_px_median"] == auto["rbc_diameter_px_median"]
    assert 80 < shared["rbc_diameter_px_median"] < 125  # BCCD red cells: about 104 px (boxes)


def test_one_analysers_crops_share_the_median_of_their_own_estimates(data_root, tmp_path):
    """``--rbc-diameter-px shared``: every crop at one scale, the median of the per-crop first readings."""
    import shutil

    root = tmp_path / "one_analyser"
    (root / "images").mkdir(parents=True)
    crops = {"SNE_102699": "neutrophil", "LY_100275": "lymphocyte", "MO_100695": "monocyte"}
    crops |= {"EO_103649": "eosinophil", "BNE_101007": "neutrophil"}
    for stem in crops:
        shutil.copy(data_root / "pbc" / "images" / f"{stem}.jpg", root / "images")
    rows = [f"{stem},{label}" for stem, label in crops.items()]
    (root / "dataset.json").write_text(json.dumps({"name": "one_analyser", "structures": {}}))
    (root / "labels.csv").write_text("id,label\n" + "\n".join(rows) + "\n")
    reports = {}
    for mode in ("auto", "shared"):
        out = tmp_path / f"{mode}.json"
        args = ["evaluate", "classification", str(root), "--rbc-diameter-px", mode, "--json", str(out)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        reports[mode] = json.loads(out.read_text())
    shared = reports["shared"]
    assert (shared["rbc_diameter_px"], shared["scale_source"], shared["scale_readings"]) == ("shared", "shared", 5)
    assert shared["images"] == 5
    # PBC crops all hold red cells, so each crop's auto estimate is its reading: the same five readings
    assert shared["rbc_diameter_px_median"] == reports["auto"]["rbc_diameter_px_median"]
    assert 30 < shared["rbc_diameter_px_median"] < 50  # pbc's red cells: 38 px (hemseg.data.RBC_DIAMETER_PX)


def test_a_bad_scale_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "classification", str(tmp_path), "--rbc-diameter-px", "big"])
    assert result.exit_code == 2
    words = "a positive number, 'auto' or 'shared'"
    assert result.stderr.strip() == f"hemseg: error: --rbc-diameter-px must be {words}, not 'big'"


def test_bad_folder_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "classification", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"hemseg: error: {tmp_path / 'dataset.json'}: missing (every dataset folder needs a dataset.json)"
    ]


def test_cells_of_a_stain_unlike_the_training_sources_count_as_marked_for_review(data_root, tmp_path):
    """As in ``hemseg diagnose``: marked for a low probability or for an unfamiliar stain."""
    import shutil

    from hemseg.models import bundle_dir

    copy = tmp_path / "bundles" / "hemseg_classification"
    shutil.copytree(bundle_dir("hemseg_classification"), copy, ignore=shutil.ignore_patterns("runs"))
    (tmp_path / "bundles" / "hemseg_segmentation").symlink_to(bundle_dir("hemseg_segmentation"))
    reference = json.loads((copy / "models" / "stain_reference.json").read_text())
    (copy / "models" / "stain_reference.json").write_text(json.dumps({**reference, "threshold": -1.0}))
    args = ["evaluate", "classification", str(data_root / "jtsc_wbc"), "--split", "val", "--bundle", str(copy)]
    reports = {}
    for name, options in (("as_is", ["--no-adapt"]), ("adapt", [])):
        out = tmp_path / f"{name}.json"
        result = CliRunner().invoke(app, [*args, *options, "--json", str(out)])
        assert result.exit_code == 0, result.output
        reports[name] = report = json.loads(out.read_text())
        assert (report["review_share"], report["unfamiliar_share"]) == (1.0, 1.0)
        assert "marked for review 100.0%" in result.output and "100.0% for their stain" in result.output
    assert abs(reports["as_is"]["low_confidence_share"] * 58 - DOCUMENTED["jtsc_wbc"][2]) <= 1
    # every crop of an unfamiliar stain: the first 4 layers' statistics are re-estimated on them
    assert "adapted_layers" not in reports["as_is"] and reports["adapt"]["adapted_layers"] == 4
    assert "first 4 normalisation layers re-estimated" in result.output
    # at the magnification of least uncertainty among adapt_zooms: on a training lab's stain, as cut
    assert reports["adapt"]["zoom"] == 1.0 and "at a magnification of 1, where" in result.output
    # and taken in their own mix (34 of the 58 are neutrophils), no class below half an equal share
    mix = reports["adapt"]["class_mix"]
    assert sum(mix.values()) == pytest.approx(1.0, abs=1e-3) and max(mix, key=mix.get) == "neutrophil"
    assert min(mix.values()) >= 0.5 / 9 - 1e-4 and "in their own mix of classes: neutrophil" in result.output
    assert reports["adapt"]["confusion"] != reports["as_is"]["confusion"]


def test_adapt_leaves_a_lab_whose_stain_is_familiar_as_it_is(data_root, tmp_path):
    args = ["evaluate", "classification", str(data_root / "jtsc_wbc"), "--split", "val"]
    reports = []
    for options in (["--no-adapt"], []):
        out = tmp_path / "result.json"
        result = CliRunner().invoke(app, [*args, *options, "--json", str(out)])
        assert result.exit_code == 0, result.output
        reports.append(json.loads(out.read_text()))
    assert reports[1]["adapted_layers"] == 0 and "statistics as learnt" in result.output
    assert reports[1]["confusion"] == reports[0]["confusion"] and reports[1]["accuracy"] == reports[0]["accuracy"]


def test_crops_sharper_than_the_training_photos_of_their_stain_are_adapted_and_marked(data_root, tmp_path):
    """A lab of a known stain photographed sharper: adapted for its sharpness, every crop marked for review."""
    import shutil

    from hemseg.models import bundle_dir

    copy = tmp_path / "bundles" / "hemseg_classification"
    shutil.copytree(bundle_dir("hemseg_classification"), copy, ignore=shutil.ignore_patterns("runs"))
    (tmp_path / "bundles" / "hemseg_segmentation").symlink_to(bundle_dir("hemseg_segmentation"))
    reference = json.loads((copy / "models" / "stain_reference.json").read_text())
    reference["sharpness"]["jtsc_wbc"] = [-10.0, -9.0]  # every jtsc_wbc photo is sharper than that
    (copy / "models" / "stain_reference.json").write_text(json.dumps(reference))
    out = tmp_path / "result.json"
    args = ["evaluate", "classification", str(data_root / "jtsc_wbc"), "--split", "val", "--bundle", str(copy)]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["adapted_layers"] == 4 and report["unfamiliar_share"] == 0.0  # the stain is familiar
    found = report["unfamiliar_sharpness"]
    assert found["source"] == "jtsc_wbc" and found["sharpness_range"] == [-10.0, -9.0] and found["sharpness"] > -9
    assert report["review_share"] == 1.0 and "because their median sharpness" in result.output
    # --no-adapt: the same look found and every crop marked, the classes as learnt (those of the shipped bundle)
    result = CliRunner().invoke(app, [*args, "--no-adapt", "--json", str(out)])
    assert result.exit_code == 0, result.output
    plain = json.loads(out.read_text())
    assert "adapted_layers" not in plain and plain["unfamiliar_sharpness"] == found and plain["review_share"] == 1.0
    assert "every crop marked for review (not adapted): their median sharpness" in result.output
    assert plain["accuracy"] == pytest.approx(DOCUMENTED["jtsc_wbc"][1], abs=0.001)
