from __future__ import annotations

import pytest
import torch

from hemseg.models import (
    ColourStandardised,
    SlideGrey,
    SlideReferenced,
    classification_network,
    segmentation_network,
)


def test_b0_unet_gives_one_logit_map_per_structure_at_input_size():
    net = segmentation_network(out_channels=3).eval()
    with torch.no_grad():
        assert net(torch.rand(2, 3, 256, 256)).shape == (2, 3, 256, 256)
        assert net(torch.rand(1, 3, 224, 320)).shape == (1, 3, 224, 320)


def test_b0_unet_is_small_enough_to_ship():
    net = segmentation_network(out_channels=3)
    parameters = sum(p.numel() for p in net.parameters())
    assert parameters * 2 < 25e6  # bytes in fp16, under the ~25 MB per weight file rule


def test_classifier_gives_one_logit_per_class_and_ships_small():
    net = classification_network(num_classes=9, in_channels=4).eval()
    with torch.no_grad():
        assert net(torch.rand(3, 4, 96, 96)).shape == (3, 9)
    assert all(m.momentum == 0.1 for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert sum(p.numel() for p in net.parameters()) * 2 < 25e6


def test_colour_standardisation_removes_a_per_channel_gain_and_offset_and_keeps_the_mask():
    torch.manual_seed(0)
    standardise = ColourStandardised(torch.nn.Identity()).eval()
    patch = torch.rand(2, 4, 96, 96)
    patch[:, 3] = (patch[:, 3] > 0.5).float()
    cast = patch.clone()
    cast[:, 0] = cast[:, 0] * 1.15 + 0.03  # warmer red, brighter
    cast[:, 2] = cast[:, 2] * 0.8 - 0.02
    with torch.no_grad():
        seen = standardise(patch)
        assert torch.allclose(standardise(cast), seen, atol=1e-2)
    assert torch.allclose(seen[:, :3].mean(dim=(2, 3)), torch.zeros(2, 3), atol=1e-5)
    assert torch.allclose(seen[:, :3].std(dim=(2, 3)), torch.ones(2, 3), atol=2e-2)
    assert torch.equal(seen[:, 3], patch[:, 3])


def test_slide_reference_removes_a_per_channel_gain_and_keeps_contrast_and_the_mask():
    torch.manual_seed(0)
    reference = SlideReferenced(torch.nn.Identity()).eval()
    patch = torch.full((2, 4, 96, 96), 0.9)
    patch[:, :3, 30:70, 30:70] = torch.rand(2, 3, 40, 40) * 0.5  # a dark cell on a bright slide
    patch[:, 3] = 0.0
    patch[:, 3, 30:70, 30:70] = 1.0
    cast = patch.clone()
    cast[:, 0] *= 1.1  # warmer red
    cast[:, 2] *= 0.8
    blurred = patch.clone()
    blurred[:, :3] = torch.nn.functional.avg_pool2d(patch[:, :3], 5, stride=1, padding=2, count_include_pad=False)
    with torch.no_grad():
        seen = reference(patch)
        assert torch.allclose(reference(cast), seen, atol=1e-5)
        assert torch.allclose(seen[:, :3, :10, :10], torch.ones(2, 3, 10, 10))  # the slide is 1
        assert torch.allclose(seen[:, :3], patch[:, :3] / 0.9)  # contrast kept, not stretched
        assert torch.allclose(reference(blurred)[:, :3, :10, :10], torch.ones(2, 3, 10, 10))
    assert torch.equal(seen[:, 3], patch[:, 3])


def test_slide_grey_keeps_brightness_and_drops_hue():
    torch.manual_seed(0)
    grey = SlideGrey(torch.nn.Identity()).eval()
    patch = torch.full((2, 4, 96, 96), 0.9)
    patch[:, :3, 30:70, 30:70] = 0.2 + torch.rand(2, 3, 40, 40) * 0.4  # a dark cell on a bright slide
    patch[:, 3] = 0.0
    patch[:, 3, 30:70, 30:70] = 1.0
    hue = patch.clone()  # the cell redder and less blue, at the same luma
    hue[:, 0, 30:70, 30:70] += 0.1
    hue[:, 2, 30:70, 30:70] -= 0.1 * 0.299 / 0.114
    cast = patch.clone()
    cast[:, 0] *= 1.1  # a warmer lamp
    with torch.no_grad():
        seen = grey(patch)
        assert torch.allclose(grey(hue), seen, atol=1e-5) and torch.allclose(grey(cast), seen, atol=1e-5)
        assert torch.equal(seen[:, 0], seen[:, 1]) and torch.equal(seen[:, 1], seen[:, 2])
        assert torch.allclose(seen[:, :3, :10, :10], torch.ones(2, 3, 10, 10))  # the slide is 1
        luma = (patch[:, :3] * torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(dim=1) / 0.9
        assert torch.allclose(seen[:, 0], luma, atol=1e-5)
    assert torch.equal(seen[:, 3], patch[:, 3])


@pytest.mark.parametrize(
    "colour_norm, wrapper", [("instance", ColourStandardised), ("slide", SlideReferenced), ("grey", SlideGrey)]
)
def test_a_colour_normalised_classifier_holds_the_plain_one_under_network(colour_norm, wrapper):
    net = classification_network(num_classes=9, in_channels=4, colour_norm=colour_norm).eval()
    plain = classification_network(num_classes=9, in_channels=4)
    assert isinstance(net, wrapper)
    assert set(net.state_dict()) == {f"network.{key}" for key in plain.state_dict()}
    with torch.no_grad():
        assert net(torch.rand(3, 4, 96, 96)).shape == (3, 9)
    with pytest.raises(ValueError, match="'True'"):
        classification_network(colour_norm="True")


def test_a_slide_referenced_segmenter_answers_a_white_balance_change_as_the_photo_itself():
    torch.manual_seed(0)
    net = segmentation_network(out_channels=3, colour_norm="slide").eval()
    plain = segmentation_network(out_channels=3)
    assert isinstance(net, SlideReferenced)
    assert set(net.state_dict()) == {f"network.{key}" for key in plain.state_dict()}
    window = torch.rand(1, 3, 64, 64) * 0.8
    with torch.no_grad():
        logits = net(window)
        cast = net(window * torch.tensor([1.1, 0.9, 0.7])[:, None, None])
    assert logits.shape == (1, 3, 64, 64)
    assert torch.allclose(logits, cast, atol=1e-4)
    with pytest.raises(ValueError, match="'slides'"):
        segmentation_network(colour_norm="slides")


def test_a_group_norm_classifier_scores_each_patch_without_the_others_of_its_batch():
    torch.manual_seed(0)
    patches = torch.rand(4, 4, 96, 96)
    for norm, alone in (("group", True), ("batch", False)):
        net = classification_network(num_classes=9, in_channels=4, norm=norm).eval()  # no dropout
        for module in net.modules():  # but batch norm as in training: the batch's statistics
            module.train(isinstance(module, torch.nn.BatchNorm2d))
        with torch.no_grad():
            together, first = net(patches)[0], net(torch.cat([patches[:1], torch.zeros(3, 4, 96, 96)]))[0]
        assert torch.allclose(together, first, atol=1e-5) is alone
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in classification_network(norm="group").modules())
    with pytest.raises(ValueError, match="'layer'"):
        classification_network(norm="layer")


def test_an_input_zoomed_classifier_is_the_same_network_on_the_enlarged_patch():
    torch.manual_seed(0)
    zoomed = classification_network(num_classes=9, in_channels=4, colour_norm="slide", input_zoom=1.4).eval()
    plain = classification_network(num_classes=9, in_channels=4, colour_norm="slide").eval()
    assert set(zoomed.state_dict()) == set(plain.state_dict())  # weights load at either zoom
    plain.load_state_dict(zoomed.state_dict())
    patches = torch.rand(2, 4, 80, 80)
    normalised = torch.cat([plain.normalise(patches[:, :3]), patches[:, 3:]], dim=1)
    enlarged = torch.nn.functional.interpolate(normalised, size=(112, 112), mode="bilinear", align_corners=False)
    stem_sides = []
    for net in (zoomed, plain):
        net.network._conv_stem.register_forward_hook(lambda module, args, out: stem_sides.append(out.shape[-1]))
    with torch.no_grad():
        assert torch.allclose(zoomed(patches), plain.network(enlarged), atol=1e-5)
        plain(patches)
    assert stem_sides == [56, 56, 40]  # the stride-2 stem of the 112-pixel, then the 80-pixel patch
