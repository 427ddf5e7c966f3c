"""The baseline architectures of the paper's comparison: shapes, and gradients through ResNet shortcuts."""

from __future__ import annotations

import pytest
import torch
from monai.networks.nets.flexible_unet import FLEXUNET_BACKBONE

from hemseg.models import ARCHITECTURES, segmentation_network
from hemseg.models.encoders import ResNet34Encoder


@pytest.mark.parametrize("backbone", sorted(ARCHITECTURES.values()))
def test_every_architecture_maps_image_to_one_logit_per_structure(backbone):
    network = segmentation_network(out_channels=3, backbone=backbone, decoder_channels=(32, 16, 16, 8, 8)).eval()
    with torch.no_grad():
        assert network(torch.rand(2, 3, 64, 96)).shape == (2, 3, 64, 96)


def test_encoders_registered_with_flexible_unet():
    assert {"hemseg-vgg16", "hemseg-resnet34"} <= set(FLEXUNET_BACKBONE.register_dict)


def _shortcut_gradient(encoder: torch.nn.Module) -> float:
    """Gradient reaching the input through the shortcuts alone (every residual branch silenced)."""
    for name, module in encoder.named_modules():
        if name.endswith("bn2"):
            torch.nn.init.zeros_(module.weight)
            torch.nn.init.zeros_(module.bias)
    x = torch.rand(1, 3, 64, 64, requires_grad=True)
    encoder.train()
    encoder(x)[-1].sum().backward()
    return float(x.grad.abs().sum())


def test_monai_resnet34_shortcuts_block_gradients_ours_do_not():
    monai_resnet34 = FLEXUNET_BACKBONE.register_dict["resnet34"]["type"]("resnet34", False, 2, 3)
    assert _shortcut_gradient(monai_resnet34) == 0.0
    assert _shortcut_gradient(ResNet34Encoder()) > 0.0
