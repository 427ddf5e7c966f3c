from __future__ import annotations

import numpy as np
import pytest
import torch

from hemseg.models.segmenter import Segmenter


def _dark_pixels(windows: torch.Tensor) -> torch.Tensor:
    """A stand-in network: logit +10 where the pixel is dark, -10 elsewhere (one channel)."""
    return (windows.mean(dim=1, keepdim=True) < 0.5).float() * 20 - 10


def test_probabilities_come_back_at_the_original_size_and_place():
    image = np.ones((3, 300, 500), np.float32)
    image[:, 100:200, 150:260] = 0.0  # a dark cell
    segmenter = Segmenter(_dark_pixels, target_rbc_px=48, roi_size=64, overlap=0.25)
    probabilities = segmenter.probabilities(image, rbc_diameter_px=96)  # zoomed by 0.5 inside
    assert probabilities.shape == (1, 300, 500)
    mask = probabilities[0] >= 0.5
    assert abs(int(mask.sum()) - 100 * 110) < 0.05 * 100 * 110
    assert mask[150, 200] and not mask[50, 50]
    assert segmenter.last_network_ms > 0


def test_small_crops_are_padded_to_the_window():
    image = np.zeros((3, 40, 30), np.float32)
    probabilities = Segmenter(_dark_pixels, target_rbc_px=48, roi_size=64).probabilities(image, None)
    assert probabilities.shape == (1, 40, 30)
    assert (probabilities > 0.99).all()


def test_the_preprocess_step_sees_the_image_before_the_network():
    image = np.full((3, 40, 30), 0.8, np.float32)  # bright: no "cell" for the stand-in network
    seen = []

    def darken(tensor: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(tensor.shape))
        return tensor * 0.5

    segmenter = Segmenter(_dark_pixels, target_rbc_px=48, roi_size=64, preprocess=darken)
    assert (segmenter.probabilities(image, None) > 0.99).all()
    assert seen == [(3, 40, 30)]
    assert (Segmenter(_dark_pixels, target_rbc_px=48, roi_size=64).probabilities(image, None) < 0.01).all()


def test_flips_average_the_four_flipped_passes_and_make_the_result_flip_equivariant():
    torch.manual_seed(0)
    network = torch.nn.Conv2d(3, 2, kernel_size=5, padding=2).eval()  # not flip-symmetric by itself
    image = torch.rand(3, 64, 64)
    plain = Segmenter(network, target_rbc_px=48.0, roi_size=64)
    flipped = Segmenter(network, target_rbc_px=48.0, roi_size=64, flips=True)
    with torch.no_grad():
        batch = image[None]
        logits = [network(batch.flip(d)).flip(d) if d else network(batch) for d in [(), (3,), (2,), (2, 3)]]
    expected = torch.sigmoid(torch.stack(logits).mean(dim=0))[0].numpy()
    assert np.allclose(flipped.probabilities(image, None), expected, atol=1e-5)
    assert not np.allclose(plain.probabilities(image, None), expected, atol=1e-3)
    mirrored = flipped.probabilities(image.flip(2), None)
    assert np.allclose(mirrored, flipped.probabilities(image, None)[:, :, ::-1], atol=1e-5)


class _TwoNorms(torch.nn.Module):
    """conv → batch norm → conv → batch norm: a stem whose statistics can be checked by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, kernel_size=1)
        self.first = torch.nn.BatchNorm2d(2)
        self.second = torch.nn.BatchNorm2d(1)
        self.head = torch.nn.Conv2d(2, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.head(self.first(self.conv(x))))


def test_adapted_takes_the_first_layers_statistics_from_the_zoomed_images():
    torch.manual_seed(0)
    network = _TwoNorms().eval()
    for norm in (network.first, network.second):
        norm.running_mean.fill_(5.0)
        norm.running_var.fill_(9.0)
    images = [torch.rand(3, 64, 64), torch.rand(3, 128, 128) * 0.5]  # the second zoomed to 64 px inside
    segmenter = Segmenter(network, target_rbc_px=40.0, roi_size=64)
    adapted = segmenter.adapted([(images[0], None), (images[1], 80.0)], layers=1)
    with torch.no_grad():  # each image one batch; the statistics are the plain average of the two
        features = [network.conv(segmenter._zoomed(image, px)) for image, px in ((images[0], None), (images[1], 80.0))]
    torch.testing.assert_close(
        adapted.network.first.running_mean, torch.stack([f.mean(dim=(0, 2, 3)) for f in features]).mean(dim=0)
    )
    torch.testing.assert_close(
        adapted.network.first.running_var, torch.stack([f.var(dim=(0, 2, 3)) for f in features]).mean(dim=0)
    )
    assert bool((adapted.network.second.running_mean == 5.0).all())
    assert not adapted.network.first.training and not adapted.network.second.training
    # the segmenter itself is unchanged, and the copy segments with the re-estimated network
    assert bool((network.first.running_mean == 5.0).all()) and segmenter.network is network
    assert not np.allclose(adapted.probabilities(images[0], None), segmenter.probabilities(images[0], None))


def test_adapted_pads_each_image_to_a_multiple_of_32_with_its_edge():
    network = _TwoNorms().eval()
    image = torch.zeros(3, 40, 50)
    image[:, :, 49] = 1.0  # the last column bright: repeated into the 14 columns of padding
    adapted = Segmenter(network, target_rbc_px=40.0, roi_size=64).adapted([(image, None)], layers=1)
    with torch.no_grad():
        padded = torch.zeros(1, 3, 64, 64)
        padded[..., 49:] = 1.0
        torch.testing.assert_close(adapted.network.first.running_mean, network.conv(padded).mean(dim=(0, 2, 3)))


def test_adapted_needs_a_torch_network_with_enough_layers():
    image = [(torch.rand(3, 64, 64), None)]
    with pytest.raises(TypeError, match="torch"):
        Segmenter(_dark_pixels, target_rbc_px=40.0, roi_size=64).adapted(image, 1)
    with pytest.raises(ValueError, match="has 2 batch-norm layers, fewer than the 3"):
        Segmenter(_TwoNorms().eval(), target_rbc_px=40.0, roi_size=64).adapted(image, 3)
