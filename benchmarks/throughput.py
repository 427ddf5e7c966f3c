"""Fields per minute of `hemseg diagnose` with 1 and 2 worker processes, and peak memory per process.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/throughput.py --json benchmarks/results/throughput.json

Runs the command on the first 60 BCCD validation fields (640x480) with ``--workers 1`` and
``--workers 2`` and under torchrun with 2 processes (the ``hemseg_diagnose`` bundle's
``multi_gpu_inference`` override, gloo; models loaded once per process, included in the wall
time), then on one 2592x1944 ALL-IDB1 field, then on a stitched scan: 16 distinct 2592x1944
ALL-IDB1 fields in a 4x4 mosaic, 10368x7776 (81 M pixels), analysed tile by tile. ``--only`` picks
runs. Each run is started by its own small parent process, whose ``ru_maxrss`` of finished
children is the peak resident memory of the largest process of that run (the command, or one of
its workers).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Runs a command and prints the peak resident memory (KiB) of its largest process.
MEASURE = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
    "sys.stderr.write(done.stderr); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
    "sys.exit(done.returncode)"
)


#: The runs, in order: 60 BCCD fields with 1 and 2 workers, and under torchrun with 2 processes;
#: one large field; a stitched scan.
RUNS = ("bccd", "torchrun", "field", "stitched")
#: The hemseg_diagnose bundle (its multi_gpu_inference override runs under torchrun).
BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "hemseg_diagnose"


def _diagnose(photos: list[Path], workers: int, torchrun: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "in"
        folder.mkdir()
        for photo in photos:
            (folder / photo.name).symlink_to(photo.resolve())
        if torchrun:  # gloo, ONNX Runtime; torchrun sets OMP_NUM_THREADS=1 in each process
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1"]
            command += [f"--nproc_per_node={workers}", "-m", "monai.bundle", "run", "--config_file"]
            command += [str([str(BUNDLE / "configs" / f) for f in ("inference.yaml", "multi_gpu_inference.yaml")])]
            command += [
                "--bundle_root",
                str(BUNDLE),
                "--input_dir",
                str(folder),
                "--output_dir",
                str(Path(scratch) / "out"),
            ]
        else:
            command = [str(Path(sys.executable).parent / "hemseg"), "diagnose", str(folder)]  # the installed command
            command += ["--out", str(Path(scratch) / "out"), "--workers", str(workers)]
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    peak_mb = int(done.stdout.split()[-1]) / 1024
    return {"fields": len(photos), "workers": workers, "seconds": round(seconds, 1),
            "fields_per_minute": round(60 * len(photos) / seconds, 1), "peak_rss_mb": round(peak_mb)}  # fmt: skip


def main() -> None:
    """Time the runs and print a line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--fields", type=int, default=60, help="BCCD validation fields")
    parser.add_argument("--only", choices=RUNS, action="append", help="runs to make (default: all)")
    args = parser.parse_args()
    from hemseg.data import read_dataset, samples_of_split

    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    fields = [s.image for s in samples_of_split(read_dataset(root / "bccd"), "val")][: args.fields]
    from PIL import Image

    large = [p for p in sorted((root / "all_idb1" / "images").iterdir()) if Image.open(p).size == (2592, 1944)]
    results = []
    for run in args.only or RUNS:
        if run == "bccd":
            results += [_diagnose(fields, 1), _diagnose(fields, 2)]
        elif run == "torchrun":
            results.append({**_diagnose(fields, 2, torchrun=True), "note": "torchrun, 2 processes"})
        elif run == "field":
            results.append({**_diagnose(large[:1], 1), "note": f"one 2592x1944 field ({large[0].name})"})
        else:
            with tempfile.TemporaryDirectory() as scratch:
                mosaic = Image.new("RGB", (4 * 2592, 4 * 1944))
                for index, path in enumerate(large[:16]):
                    with Image.open(path) as field:
                        mosaic.paste(field.convert("RGB"), ((index % 4) * 2592, (index // 4) * 1944))
                path = Path(scratch) / "stitched.png"
                mosaic.save(path)
                del mosaic
                note = f"a 10368x7776 stitched scan of 16 ALL-IDB1 fields ({large[0].name} ... {large[15].name})"
                results.append({**_diagnose([path], 1), "note": note})
    for result in results:
        print(json.dumps(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
