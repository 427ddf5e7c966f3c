"""Print how long ``hemseg diagnose``'s analysis takes per field on this machine (warm, networks loaded).

    python benchmarks/diagnose.py [--runs 10] [--threads 2]

Fields: a 640x480 and a 2592x1944 photo. With HEMSEG_DATA set, real ones (the first BCCD field and
the first 2592x1944 ALL-IDB1 field); otherwise the synthetic sample, drawn at both sizes. The scale
is estimated per photo, as ``hemseg diagnose`` does by default. Prints the median and the fastest
of the timed runs after one warm-up run, for ONNX Runtime and for eager torch.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np


def fields() -> dict[str, np.ndarray]:
    """The two benchmark photos, by name."""
    from hemseg.data import read_smear
    from hemseg.diagnosis import synthetic_smear

    root = os.environ.get("HEMSEG_DATA")
    if root:
        large = next(
            p for p in sorted((Path(root) / "all_idb1" / "images").iterdir()) if read_smear(p).shape[:2] == (1944, 2592)
        )
        return {
            "640x480 (bccd " + "BloodImage_00000.jpg)": read_smear(
                Path(root) / "bccd" / "images" / "BloodImage_00000.jpg"
            ),
            f"2592x1944 (all_idb1 {large.name})": read_smear(large),
        }
    return {
        "640x480 (synthetic)": synthetic_smear(640, 480)[0],
        "2592x1944 (synthetic)": synthetic_smear(2592, 1944, rbc_px=88.0)[0],
    }


def main() -> None:
    """Time the analysis of both fields with ONNX Runtime, then eager torch, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per field (after one warm-up)")
    parser.add_argument("--threads", type=int, default=2, help="torch / ONNX Runtime threads")
    args = parser.parse_args()

    import torch

    from hemseg.models import load_analyser

    torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {args.threads} threads")
    photos = fields()
    for backend, onnx in (("onnxruntime", True), ("torch", False)):
        analyser = load_analyser(onnx=onnx)
        for name, image in photos.items():
            analyser.analyse(image)  # warm-up
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                result = analyser.analyse(image)
                times.append((time.perf_counter() - start) * 1000.0)
            print(
                f"{backend:<12} {name:<34} median {statistics.median(times):7.0f} ms  "
                f"min {min(times):7.0f} ms  ({args.runs} runs; {result.differential.wbc} WBC, {result.rbc} RBC)"
            )


if __name__ == "__main__":
    main()
