"""Inference speed of the four segmentation architectures on this CPU, against the FLOP limit.

    python benchmarks/networks.py [--runs 50] [--threads 2] [--json benchmarks/results/speed.json]

For U-Net, VGG16 + U-Net, ResNet34 + U-Net and EfficientNet-B0 + U-Net (``hemseg.models.ARCHITECTURES``,
3 output structures, randomly initialised: speed does not depend on the weights): one 256x256 image,
batch 1, the median of ``--runs`` timed runs after 5 warm-up runs, in eager torch, eager torch with
channels-last memory, and ONNX Runtime. FLOPs are counted by ``torch.utils.flop_counter`` (a
multiply-add counts 2); the CPU's peak is measured as the best of 5 runs of a 2048x2048 fp32 matmul
on the same threads. "Limit" = FLOPs / peak, the time the network would take at that peak.
``--json`` writes the figures for ``benchmarks/tables.py`` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch


def median_ms(call, runs: int, warmup: int = 5) -> float:
    """Median wall time of ``call()`` in ms over ``runs`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best fp32 matmul rate (GFLOP/s) on the current torch threads."""
    a, b = torch.rand(size, size), torch.rand(size, size)
    best = min(median_ms(lambda: a @ b, 1, warmup=1) for _ in range(repeats))
    return 2 * size**3 / (best / 1000.0) / 1e9


def network_gflops(network: torch.nn.Module, image: torch.Tensor) -> float:
    """FLOPs of one forward pass, in GFLOP."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        network(image)
    return counter.get_total_flops() / 1e9


def main() -> None:
    """Measure every architecture; print the figures and optionally write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    parser.add_argument("--backbones", nargs="+", default=None, help="only these (default: all four)")
    args = parser.parse_args()

    from hemseg.models import ARCHITECTURES, OnnxNetwork, export_onnx, segmentation_network

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    peak = peak_gflops()
    image = torch.rand(1, 3, 256, 256)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        for label, backbone in ARCHITECTURES.items():
            if args.backbones and backbone not in args.backbones:
                continue
            network = segmentation_network(out_channels=3, backbone=backbone).eval()
            params = sum(p.numel() for p in network.parameters()) / 1e6
            gflop = network_gflops(network, image)
            eager = median_ms(lambda n=network: n(image), args.runs)
            last = network.to(memory_format=torch.channels_last)
            image_last = image.contiguous(memory_format=torch.channels_last)
            channels_last = median_ms(lambda n=last, x=image_last: n(x), args.runs)
            onnx_path = export_onnx(
                network.to(memory_format=torch.contiguous_format), Path(tmp) / f"{backbone}.onnx", 256
            )
            onnx = OnnxNetwork(onnx_path, threads=args.threads)
            onnx_ms = median_ms(lambda o=onnx: o(image), args.runs)
            limit = gflop / peak * 1000.0
            best = min(eager, channels_last, onnx_ms)
            rows.append((label, backbone, params, gflop, eager, channels_last, onnx_ms, limit, limit / best))
            print(
                "{}: {:.1f} M params, {:.2f} GFLOP, eager {:.1f} ms, channels_last {:.1f} ms, ONNX {:.1f} ms, "
                "limit {:.1f} ms ({:.0%} of it reached)".format(label, *rows[-1][2:]),
                flush=True,
            )
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"{machine}, {args.threads} threads, torch {torch.__version__}, matmul peak {peak:.1f} GFLOP/s")
    if args.json:
        keys = (
            "architecture",
            "backbone",
            "params_m",
            "gflop",
            "eager_ms",
            "channels_last_ms",
            "onnx_ms",
            "limit_ms",
            "fraction_of_limit",
        )
        result = {
            "machine": machine,
            "threads": args.threads,
            "torch": torch.__version__,
            "runs": args.runs,
            "peak_gflops": peak,
            "networks": [dict(zip(keys, row, strict=True)) for row in rows],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
