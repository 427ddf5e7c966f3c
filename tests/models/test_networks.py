from __future__ import annotations

import torch

from hemseg.models import classification_network, segmentation_network


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
