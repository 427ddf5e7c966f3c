from __future__ import annotations

import numpy as np
import pytest
import torch

from hemseg.models import (
    COLOUR_NORMS,
    OnnxNetwork,
    Segmenter,
    classification_network,
    export_onnx,
    segmentation_network,
)


def test_onnx_runtime_matches_torch(tmp_path):
    torch.manual_seed(0)
    net = segmentation_network(out_channels=3, decoder_channels=(32, 32, 16, 16, 8)).eval()
    path = export_onnx(net, tmp_path / "seg.onnx", roi_size=64)
    onnx_net = OnnxNetwork(path, threads=1)
    windows = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(onnx_net(windows), net(windows), atol=1e-4)
    image = np.random.default_rng(0).random((3, 100, 90), dtype=np.float32)
    with torch.no_grad():
        by_torch = Segmenter(net, target_rbc_px=48, roi_size=64).probabilities(image, 60)
    by_onnx = Segmenter(onnx_net, target_rbc_px=48, roi_size=64).probabilities(image, 60)
    assert np.abs(by_torch - by_onnx).max() < 1e-4


@pytest.mark.parametrize("colour_norm, input_zoom", [(norm, 1.0) for norm in COLOUR_NORMS] + [("slide", 1.4)])
def test_onnx_runtime_matches_the_torch_classifier_with_each_colour_norm(tmp_path, colour_norm, input_zoom):
    torch.manual_seed(0)
    net = classification_network(num_classes=9, in_channels=4, colour_norm=colour_norm, input_zoom=input_zoom).eval()
    onnx_net = OnnxNetwork(export_onnx(net, tmp_path / "cls.onnx", roi_size=96, in_channels=4), threads=1)
    patches = torch.rand(3, 4, 96, 96)
    with torch.no_grad():
        assert torch.allclose(onnx_net(patches), net(patches), atol=1e-4)


def test_onnx_runtime_threads_do_not_spin_unless_asked(tmp_path):
    net = segmentation_network(out_channels=3, decoder_channels=(32, 32, 16, 16, 8)).eval()
    path = export_onnx(net, tmp_path / "seg.onnx", roi_size=64)
    key = "session.intra_op.allow_spinning"
    assert OnnxNetwork(path).session.get_session_options().get_session_config_entry(key) == "0"
    assert OnnxNetwork(path, spinning=True).session.get_session_options().get_session_config_entry(key) == "1"
