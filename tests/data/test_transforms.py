from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import DataLoader, Dataset
from PIL import Image

from hemseg.data import UNKNOWN, class_balanced_weights, classification_records, read_mask, segmentation_records
from hemseg.data.transforms import (
    ClampSlideColour,
    ClampSlideColourd,
    EdgeGaussianSmooth,
    EdgeGaussianSmoothd,
    HEDAdjust,
    HEDAdjustd,
    JPEGCompress,
    NormalizeRGB,
    RandConvolution,
    RandConvolutiond,
    RandEdgeGaussianSmoothd,
    RandHEDJitter,
    RandJPEGd,
    RandPaleCell,
    RandPaleCelld,
    RandStainAmount,
    RandStainAmountd,
    RandUnsharpMaskd,
    ScaleToCellSize,
    StainAmount,
    StructureMasks,
    classification_train_transforms,
    classification_val_transforms,
    segmentation_train_transforms,
    segmentation_val_transforms,
    slide_colour,
)

# Red-cell diameters (px) used to bring the sets to one scale in these tests.
RBC_PX = {"bccd": 100.0, "all_idb1": 85.0, "all_idb2": 85.0, "jtsc_wbc": 55.0, "pbc": 60.0}


def test_normalize_rgb_handles_gray_alpha_and_16_bit():
    gray = np.full((1, 2, 2), 51, np.uint8)
    assert torch.allclose(NormalizeRGB()(gray), torch.full((3, 2, 2), 0.2))
    rgba = np.zeros((4, 2, 2), np.uint8)
    rgba[3] = 255
    assert NormalizeRGB()(rgba).shape == (3, 2, 2)
    assert float(NormalizeRGB()(rgba).max()) == 0.0
    deep = np.full((3, 2, 2), 65535, np.uint16)
    assert torch.allclose(NormalizeRGB()(deep), torch.ones(3, 2, 2))
    with pytest.raises(ValueError, match="channel-first"):
        NormalizeRGB()(np.zeros((5, 2, 2), np.uint8))


def test_structure_masks_mark_missing_structures_unknown(tmp_path):
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 255
    Image.fromarray(mask).save(tmp_path / "wbc.png")
    label, known = StructureMasks(("wbc", "nucleus", "rbc"))({"wbc": tmp_path / "wbc.png", "rbc": None}, (4, 6))
    assert label.shape == (3, 4, 6)
    assert known.tolist() == [1.0, 0.0, 0.0]
    assert label[0].sum() == 6 and label[1:].sum() == 0
    with pytest.raises(ValueError, match=r"wbc\.png: mask is"):
        StructureMasks(("wbc",))({"wbc": tmp_path / "wbc.png"}, (5, 6))


def test_pixels_a_mask_leaves_doubtful_are_unknown_in_the_target(tmp_path):
    mask = np.array([[0, 128, 255], [40, 100, 200]], np.uint8)  # pseudo-labels write 128 for doubtful
    Image.fromarray(mask).save(tmp_path / "wbc.png")
    label, known = StructureMasks(("wbc", "nucleus"))({"wbc": tmp_path / "wbc.png"}, (2, 3))
    assert label[0].tolist() == [[0.0, UNKNOWN, 1.0], [0.0, UNKNOWN, 1.0]]
    assert known.tolist() == [1.0, 0.0]
    assert read_mask(tmp_path / "wbc.png").tolist() == [[False, True, True], [False, False, True]]


def test_scale_to_cell_size_zooms_by_target_over_source():
    image = torch.rand(3, 480, 640)
    assert ScaleToCellSize(48)(image, 100).shape == (3, 230, 307)
    assert ScaleToCellSize(48)(image, None).shape == (3, 480, 640)


def test_hed_jitter_keeps_range_and_is_identity_without_change():
    image = torch.rand(3, 32, 32) * 0.8 + 0.1
    jitter = RandHEDJitter(scale=0.0, shift=0.0, prob=1.0)
    assert torch.allclose(jitter(image), image, atol=1e-3)
    out = RandHEDJitter(scale=0.3, shift=0.1, prob=1.0).set_random_state(0)(image)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert not torch.allclose(out, image, atol=1e-2)


def test_hed_adjust_scales_the_stain_amounts_it_is_given():
    from skimage.color import rgb2hed

    image = torch.rand(3, 16, 16) * 0.6 + 0.2
    before = rgb2hed(np.moveaxis(image.numpy().astype(np.float64), 0, -1))
    out = HEDAdjust(scale=(1.3, 0.7, 1.0))(image)
    after = rgb2hed(np.moveaxis(out.numpy().astype(np.float64), 0, -1))
    assert np.allclose(after[..., 0], 1.3 * before[..., 0], atol=2e-3)
    assert np.allclose(after[..., 1], 0.7 * before[..., 1], atol=2e-3)
    assert torch.allclose(HEDAdjustd("image")({"image": image})["image"], image, atol=1e-4)


def _smear(slide: tuple[float, float, float]) -> torch.Tensor:
    """A 40 x 50 image: slide of the given colour on the top 30 rows, dark purple cells below."""
    image = torch.empty(3, 40, 50)
    image[:, :30] = torch.tensor(slide).view(3, 1, 1)
    image[:, 30:] = torch.tensor([0.4, 0.2, 0.5]).view(3, 1, 1)
    return image


def test_slide_colour_is_the_mean_of_the_brightest_pixels():
    assert np.allclose(slide_colour(_smear((0.7, 0.8, 0.9))), [0.7, 0.8, 0.9])
    assert np.allclose(slide_colour(_smear((0.7, 0.8, 0.9)), bright_fraction=0.9), [0.65, 0.7, 1.5 / 1.8])


def test_a_cast_outside_the_range_is_brought_to_its_edge_and_a_photo_inside_is_untouched():
    clamp = ClampSlideColour(red_green=(0.95, 1.2), blue_green=(0.5, 1.0))
    cool = _smear((0.7, 0.8, 0.9))  # red/green 0.875, blue/green 1.125
    assert np.allclose(clamp.gains(cool), [0.95 / 0.875, 1.0, 1.0 / 1.125])
    out = clamp(cool)
    assert np.allclose(slide_colour(out), [0.76, 0.8, 0.8], atol=1e-6)
    assert torch.allclose(out[:, 35, 5], torch.tensor([0.4 * 0.95 / 0.875, 0.2, 0.5 / 1.125]))
    inside = _smear((0.85, 0.8, 0.6))  # red/green 1.06, blue/green 0.75
    assert clamp(inside) is inside
    yellow = _smear((1.0, 0.9, 0.4))  # red/green 1.11: in range; blue/green 0.44: too low
    assert torch.allclose(clamp(yellow)[:, 0, 0], torch.tensor([1.0, 0.9, 0.45]))
    assert torch.equal(ClampSlideColourd("image", (0.95, 1.2), (0.5, 1.0))({"image": cool})["image"], out)


def test_pale_cells_move_cytoplasm_and_nucleus_toward_the_slide_and_nothing_else():
    image = torch.full((3, 64, 64), 0.9)  # slide
    image[:, 10:54, 10:54] = torch.tensor([0.6, 0.5, 0.8])[:, None, None]  # cytoplasm
    image[:, 26:38, 26:38] = torch.tensor([0.3, 0.2, 0.6])[:, None, None]  # nucleus
    wbc, nucleus = torch.zeros(64, 64), torch.zeros(64, 64)
    wbc[10:54, 10:54] = 1
    nucleus[26:38, 26:38] = 1
    pale = RandPaleCell(cytoplasm=0.5, nucleus=0.2, sigma=1.0, prob=1.0)
    pale.set_random_state(0)
    out = pale(image, wbc, nucleus)
    a, b = pale._shares
    assert 0 < a <= 0.5 and 0 < b <= 0.2
    assert torch.equal(out[:, :5], image[:, :5])  # the slide, beyond the blur, untouched
    assert torch.allclose(out[:, 16, 16], image[:, 16, 16] + a * (0.9 - image[:, 16, 16]), atol=1e-5)
    assert torch.allclose(out[:, 32, 32], image[:, 32, 32] + b * (0.9 - image[:, 32, 32]), atol=1e-5)
    assert torch.equal(RandPaleCell(prob=0.0)(image, wbc, nucleus), image)
    label = torch.stack([wbc, nucleus, torch.zeros(64, 64)])
    record = {"image": image, "label": label, "label_known": torch.tensor([1.0, 0.0, 0.0])}
    assert RandPaleCelld("image", prob=1.0)(record)["image"] is image  # nucleus not annotated: unchanged
    record["label_known"] = torch.tensor([1.0, 1.0, 0.0])
    assert float(RandPaleCelld("image", prob=1.0)(record)["image"][:, 16, 16].mean()) > float(image[:, 16, 16].mean())


def test_stain_amount_scales_each_structures_optical_density_and_keeps_slide_and_hue():
    slide = torch.tensor([0.95, 0.9, 0.8])[:, None, None]
    image = slide.expand(3, 40, 40).clone()
    image[:, 10:30, 10:30] = torch.tensor([0.6, 0.5, 0.7])[:, None, None]  # cytoplasm
    image[:, 16:24, 16:24] = torch.tensor([0.2, 0.1, 0.4])[:, None, None]  # nucleus
    density = -torch.log(image / slide)
    for factor in (0.25, 3.0):
        out = StainAmount(factor)(image)
        assert torch.allclose(out[:, :5], image[:, :5])  # the bare slide keeps its colour
        # every channel of every structure gets `factor` times its optical density: hue kept
        assert torch.allclose(-torch.log(out[:, 12, 12] / slide[:, 0, 0]), factor * density[:, 12, 12], atol=1e-4)
        assert torch.allclose(-torch.log(out[:, 20, 20] / slide[:, 0, 0]), factor * density[:, 20, 20], atol=1e-4)
    assert torch.allclose(StainAmount(1.0)(image), image)
    draws = RandStainAmount(factors=(0.5, 2.0), prob=1.0).set_random_state(0)
    factors = []
    for _ in range(200):
        draws.randomize()
        factors.append(draws._factor)
    assert min(factors) >= 0.5 and max(factors) <= 2.0 and 0.8 < float(np.median(factors)) < 1.25  # log-uniform
    assert RandStainAmount(prob=0.0)(image) is image
    with pytest.raises(ValueError, match="positive"):
        RandStainAmount(factors=(0.0, 2.0))
    both = RandStainAmountd(["image", "other"], prob=1.0).set_random_state(1)({"image": image, "other": image.clone()})
    assert torch.equal(both["image"], both["other"]) and not torch.allclose(both["image"], image)
    patch = {"image": (image * 255).byte().numpy(), "mask": np.ones((1, 40, 40), np.uint8), "target": np.ones(9)}
    for prob, changed in ((0.0, False), (1.0, True)):
        pipeline = classification_train_transforms(colour_strength=0.0, blur_prob=0.0, stain_amount_prob=prob)
        nucleus = pipeline.set_random_state(seed=0)(dict(patch))["image"][:3, 19:21, 19:21].mean(dim=(1, 2))
        assert bool((nucleus - torch.tensor([0.2, 0.1, 0.4])).abs().amax() > 0.02) == changed
    segmentation = segmentation_train_transforms(stain_amount_prob=0.5).transforms
    assert sum(isinstance(t, RandStainAmountd) for t in segmentation) == 1


def test_random_convolution_changes_the_look_and_keeps_the_shapes():
    image = torch.full((3, 48, 48), 0.85)
    image[:, 12:36, 12:36] = torch.tensor([0.35, 0.25, 0.6])[:, None, None]  # a cell on the slide
    inside = torch.zeros(48, 48, dtype=torch.bool)
    inside[12:36, 12:36] = True
    colours = RandConvolution(kernel_sizes=(1,), prob=1.0)
    colours.set_random_state(3)
    out = colours(image)
    share = colours._share
    assert out.shape == image.shape and float(out.min()) >= 0 and float(out.max()) <= 1
    assert not torch.allclose(out, image, atol=1e-3)
    # a 1x1 kernel recolours: each region stays one colour, the cell's outline stays where it was
    for region in (inside, ~inside):
        pixels = out[:, region]
        assert float((pixels - pixels[:, :1]).abs().max()) < 1e-5
    assert float((out[:, inside][:, 0] - out[:, ~inside][:, 0]).abs().max()) > 0
    assert 0.0 < share <= 1.0
    # unblended and within range, each channel keeps its mean and spread
    faint = 0.5 + 0.2 * (image - 0.6)
    unblended = RandConvolution(kernel_sizes=(3,), mix=1.0, prob=1.0)
    unblended.set_random_state(5)
    unblended.randomize()
    unblended._share = 1.0
    raw = unblended(faint, randomize=False)
    assert float(raw.min()) > 0 and float(raw.max()) < 1 and not torch.allclose(raw, faint, atol=1e-3)
    assert torch.allclose(raw.mean(dim=(1, 2)), faint.mean(dim=(1, 2)), atol=1e-5)
    assert torch.allclose(raw.std(dim=(1, 2)), faint.std(dim=(1, 2)), atol=1e-4)
    assert torch.allclose(RandConvolution(prob=0.0)(image), image)
    with pytest.raises(ValueError, match="odd"):
        RandConvolution(kernel_sizes=(2,))
    record = {"image": image, "other": image.clone()}
    both = RandConvolutiond(["image", "other"], prob=1.0).set_random_state(0)(record)
    assert torch.equal(both["image"], both["other"])  # one draw for every key
    patch = {"image": (image * 255).byte().numpy(), "mask": inside[None].byte().numpy(), "target": np.ones(9)}
    for randconv_prob, changed in ((0.0, False), (1.0, True)):
        pipeline = classification_train_transforms(colour_strength=0.0, blur_prob=0.0, randconv_prob=randconv_prob)
        pipeline.set_random_state(seed=0)
        draws = [pipeline(dict(patch))["image"] for _ in range(4)]
        colours = torch.stack([d[:3].amax(dim=(1, 2)) - d[:3].amin(dim=(1, 2)) for d in draws])
        assert bool((colours - (0.85 - torch.tensor([0.35, 0.25, 0.6]))).abs().amax() > 0.02) == changed


def _records(datasets, names, per_set=2):
    records = []
    for name in names:
        dataset = datasets[name]
        records += segmentation_records(dataset, dataset.samples[:per_set], rbc_diameter_px=RBC_PX[name])
    return records


def test_segmentation_training_batch_shape_range_and_known_flags(datasets):
    records = _records(datasets, ["bccd", "all_idb1", "jtsc_wbc", "all_idb2"])
    transforms = segmentation_train_transforms(patch_size=256)
    transforms.set_random_state(0)
    batch = next(iter(DataLoader(Dataset(records, transforms), batch_size=8)))
    assert batch["image"].shape == (8, 3, 256, 256)
    assert batch["image"].dtype == torch.float32
    assert float(batch["image"].min()) >= 0.0 and float(batch["image"].max()) <= 1.0
    assert batch["label"].shape == (8, 3, 256, 256)
    assert set(batch["label"].unique().tolist()) == {0.0, 1.0}
    # bccd, jtsc_wbc and all_idb2 annotate wbc + nucleus; these two all_idb1 fields only wbc
    expected = [[1, 1, 0]] * 2 + [[1, 0, 0]] * 2 + [[1, 1, 0]] * 4
    assert batch["label_known"].tolist() == expected
    assert (batch["label"][:, 0].sum(dim=(1, 2)) > 0).sum() >= 6  # most patches hold a white cell


def test_segmentation_validation_keeps_whole_images_at_cell_scale(datasets):
    record = _records(datasets, ["bccd"], per_set=1)[0]
    item = segmentation_val_transforms(target_rbc_px=48)(record)
    assert item["image"].shape == (3, 230, 307)
    assert item["label"].shape == (3, 230, 307)
    # the white cell keeps its share of the field after zooming
    original = np.asarray(Image.open(record["label"]["wbc"])) > 127
    assert abs(float(item["label"][0].mean()) - original.mean()) < 0.01


def test_classification_batch_of_patches_with_partial_labels(datasets):
    records = classification_records(datasets["pbc"], datasets["pbc"].samples[:3], RBC_PX["pbc"])
    records += classification_records(datasets["all_idb2"], datasets["all_idb2"].samples[-3:], RBC_PX["all_idb2"])
    rng = np.random.default_rng(0)
    for record in records:  # patches as hemseg.cli.cells.patch_records stores them
        record["image"] = rng.integers(0, 256, (3, 96, 96), dtype=np.uint8)
        record["mask"] = np.zeros((1, 96, 96), np.uint8)
        record["mask"][0, 30:66, 30:66] = 255
    batch = next(iter(DataLoader(Dataset(records, classification_train_transforms()), batch_size=6)))
    assert batch["image"].shape == (6, 4, 96, 96)
    assert float(batch["image"].min()) >= 0.0 and float(batch["image"].max()) <= 1.0
    assert set(torch.unique(batch["image"][:, 3]).tolist()) <= {0.0, 1.0}  # the mask stays binary
    assert batch["target"].sum(dim=1).tolist() == [1, 1, 1, 6, 6, 6]  # non_blast allows 6 classes
    item = classification_val_transforms()(records[0])
    assert item["image"].shape == (4, 96, 96)
    assert torch.allclose(item["image"][:3], torch.as_tensor(records[0]["image"] / 255.0, dtype=torch.float32))
    assert float(item["image"][3].sum()) == 36 * 36


def test_classification_blur_augmentation_defocuses_patches():
    checkers = (np.indices((96, 96)).sum(axis=0) // 2 % 2 * 255).astype(np.uint8)
    record = {"image": np.stack([checkers] * 3), "mask": np.zeros((1, 96, 96), np.uint8), "target": np.ones(9)}

    def edge_strength(blur_prob: float) -> float:  # mean step between neighbouring pixels, over draws
        pipeline = classification_train_transforms(colour_strength=0.0, blur_sigma=2.0, blur_prob=blur_prob)
        pipeline.set_random_state(seed=0)
        return float(np.mean([pipeline(dict(record))["image"][:3].diff(dim=-1).abs().mean() for _ in range(8)]))

    assert edge_strength(1.0) < 0.5 * edge_strength(0.0)


def test_classification_zoom_range_sets_how_much_a_cell_may_change_size():
    mask = np.zeros((1, 80, 80), np.uint8)
    mask[0, 20:60, 20:60] = 255  # a 40 px cell: 1,600 px
    record = {"image": np.full((3, 80, 80), 128, np.uint8), "mask": mask, "target": np.ones(12)}

    def areas(zoom: tuple[float, float]) -> np.ndarray:  # the cell's area in 40 draws
        pipeline = classification_train_transforms(colour_strength=0.0, blur_prob=0.0, zoom=zoom)
        pipeline.set_random_state(seed=0)
        return np.array([float(pipeline(dict(record))["image"][3].sum()) for _ in range(40)])

    kept = areas((1.0, 1.0))  # rotations and flips only: a square turned by up to 45 degrees
    assert kept.min() > 0.97 * 1600 and kept.max() < 1.03 * 1600
    zoomed = areas((0.8, 1.25))  # the default: half the cells drawn 0.8-1.25 times as wide
    assert zoomed.min() < 0.8 * 1600 and zoomed.max() > 1.25 * 1600


def test_classification_sharpen_augmentation_steepens_edges():
    checkers = (np.indices((96, 96)).sum(axis=0) // 4 % 2 * 128 + 64).astype(np.uint8)
    record = {"image": np.stack([checkers] * 3), "mask": np.zeros((1, 96, 96), np.uint8), "target": np.ones(9)}

    def edge_strength(sharpen_prob: float) -> float:
        pipeline = classification_train_transforms(colour_strength=0.0, blur_prob=0.0, sharpen_prob=sharpen_prob)
        pipeline.set_random_state(seed=0)
        return float(np.mean([pipeline(dict(record))["image"][:3].diff(dim=-1).abs().mean() for _ in range(8)]))

    assert edge_strength(1.0) > 1.1 * edge_strength(0.0)


def test_blur_repeats_the_edges_so_a_flat_patch_stays_flat_and_the_inside_is_monais_blur():
    from monai.transforms import GaussianSmooth

    flat = torch.full((3, 40, 48), 0.8)
    assert float(GaussianSmooth(2.0)(flat)[0, 0, 0]) < 0.3  # MONAI pads with zeros: a dark frame
    assert torch.allclose(EdgeGaussianSmooth(2.0)(flat), flat, atol=1e-4)
    draw = RandEdgeGaussianSmoothd(["image"], sigma_x=(2.0, 2.0), sigma_y=(2.0, 2.0), prob=1.0)
    assert torch.allclose(torch.as_tensor(draw({"image": flat})["image"]), flat, atol=1e-4)
    noise = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    blurred = EdgeGaussianSmoothd(["image"], sigma=1.5)({"image": noise})["image"]
    assert blurred.shape == noise.shape and blurred.std() < 0.5 * noise.std()
    assert torch.allclose(blurred[:, 10:-10, 10:-10], GaussianSmooth(1.5)(noise)[:, 10:-10, 10:-10], atol=1e-6)


def test_unsharp_mask_sharpens_detail_and_leaves_a_flat_patch_flat():
    flat = torch.full((3, 40, 40), 0.6)
    checkers = torch.as_tensor(np.indices((40, 40)).sum(axis=0) // 3 % 2 * 0.4 + 0.3, dtype=torch.float32)
    sharpen = RandUnsharpMaskd(["image"], amount=2.0, sigma=(1.5, 1.5), prob=1.0)
    sharpen.set_random_state(seed=0)
    assert torch.allclose(torch.as_tensor(sharpen({"image": flat})["image"]), flat, atol=1e-4)  # no dark frame
    out = torch.as_tensor(sharpen({"image": checkers.expand(3, 40, 40)})["image"])
    assert out.diff(dim=-1).abs().mean() > 1.1 * checkers.diff(dim=-1).abs().mean()  # steeper edges
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    off = RandUnsharpMaskd(["image"], prob=0.0)
    assert torch.equal(torch.as_tensor(off({"image": checkers.expand(3, 40, 40)})["image"]), checkers.expand(3, 40, 40))


def test_jpeg_keeps_a_flat_patch_loses_fine_detail_with_quality_and_is_opencvs_encoding():
    import cv2

    flat = torch.full((3, 40, 40), 128 / 255)
    assert torch.allclose(JPEGCompress(20)(flat), flat, atol=1 / 255)
    noise = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    error = {q: float((JPEGCompress(q)(noise) - noise).abs().mean()) for q in (20, 90)}
    assert error[20] > error[90] > 0.0
    rgb = (noise * 255).round().to(torch.uint8).permute(1, 2, 0).numpy().copy()
    _, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 20])
    expected = torch.from_numpy(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].transpose(2, 0, 1).copy()) / 255.0
    assert torch.equal(JPEGCompress(20)(noise), expected.float())  # robustness.py's row, as measured with OpenCV
    draw = RandJPEGd(["image"], quality=(20, 20), prob=1.0)
    assert torch.equal(torch.as_tensor(draw({"image": noise})["image"]), JPEGCompress(20)(noise))
    off = RandJPEGd(["image"], prob=0.0)
    assert torch.equal(torch.as_tensor(off({"image": noise})["image"]), noise)


def test_class_balanced_weights_give_each_set_its_share_split_by_label():
    records = [
        {"dataset": "a", "label": "x"},
        {"dataset": "a", "label": "x"},
        {"dataset": "a", "label": "x"},
        {"dataset": "a", "label": "y"},
        {"dataset": "b", "label": "z"},
    ]
    weights = class_balanced_weights(records, {"a": 0.6, "b": 0.4})
    assert weights == pytest.approx([0.1, 0.1, 0.1, 0.3, 0.4])
    with pytest.raises(KeyError):
        class_balanced_weights(records, {"a": 1.0})
    # as often as they occur: 3 x and 1 y share a's 0.6 as 3 : 1
    assert class_balanced_weights(records, {"a": 0.6, "b": 0.4}, balance=0.0) == pytest.approx([0.15] * 4 + [0.4])
    # square roots of the counts: x gets sqrt(3) / (sqrt(3) + 1) of a's share, spread over its 3 records
    half = class_balanced_weights(records, {"a": 0.6, "b": 0.4}, balance=0.5)
    assert sum(half[:3]) == pytest.approx(0.6 * 3**0.5 / (3**0.5 + 1)) and half[3] == pytest.approx(0.6 / (3**0.5 + 1))
    # each set its own balance: a's labels equally often, b's as they occur
    mixed = class_balanced_weights(records, {"a": 0.6, "b": 0.4}, balance={"a": 1.0, "b": 0.0})
    assert mixed == pytest.approx([0.1, 0.1, 0.1, 0.3, 0.4])
    records.append({"dataset": "b", "label": "w"})
    mixed = class_balanced_weights(records, {"a": 0.6, "b": 0.4}, balance={"a": 0.0, "b": 1.0})
    assert mixed == pytest.approx([0.15] * 4 + [0.2, 0.2])


@pytest.mark.parametrize(
    ("mode", "dtype", "channels"),
    [("L", np.uint8, 1), ("RGBA", np.uint8, 4), ("I;16", np.uint16, 1), ("P", np.uint8, 1)],
)
def test_unusual_image_files_load_as_rgb(tmp_path, mode, dtype, channels):
    shape = (20, 30) if channels == 1 else (20, 30, channels)
    array = np.full(shape, np.iinfo(dtype).max // 2, dtype)
    image = Image.fromarray(array)
    image = image.convert(mode) if mode == "P" else image
    assert image.mode == mode
    image.save(tmp_path / "odd.png")
    record = {"image": str(tmp_path / "odd.png"), "label": {"wbc": None}, "rbc_diameter_px": None}
    item = segmentation_val_transforms(structures=("wbc",))(record)
    assert item["image"].shape == (3, 20, 30)
    assert abs(float(item["image"].mean()) - 0.5) < 0.01
