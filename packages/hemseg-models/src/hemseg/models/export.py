"""ONNX export of the networks and an ONNX Runtime stand-in for them (``pip install hemseg-models[onnx]``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from hemseg.data.files import replacing


def export_onnx(
    network: nn.Module, path: str | Path, roi_size: int = 192, opset: int = 17, in_channels: int = 3
) -> Path:
    """Export ``network`` (eval mode, fp32) to ONNX with a dynamic batch axis; written atomically.

    Input ``image`` (B, in_channels, roi, roi) in [0, 1], output ``logits`` (the network's output:
    (B, C, roi, roi) for segmentation, (B, K) for classification).
    """
    network = network.float().eval()
    example = torch.rand(1, in_channels, roi_size, roi_size)
    with replacing(path) as tmp:
        torch.onnx.export(
            network,
            (example,),
            str(tmp),
            dynamo=False,
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=opset,
        )
    return Path(path)


class OnnxNetwork:
    """Call an exported network through ONNX Runtime like a torch module: tensor in, tensor out.

    Args:
        path: the ``.onnx`` file.
        threads: intra-op threads (None: ONNX Runtime's default).
        spinning: let idle ONNX Runtime threads spin-wait for work. Off by default: between network
            calls the pipeline does torch, NumPy and SciPy work, and spinning threads take the CPU
            from it (on 2 cores, ``hemseg diagnose`` ran about 20 % slower with it).
    """

    def __init__(self, path: str | Path, threads: int | None = None, spinning: bool = False) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(image.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(["logits"], {"image": array})[0])
