"""Fields per minute of `hemseg diagnose` with 1 and 2 worker processes, and peak memory per process.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/throughput.py --json benchmarks/results/throughput.json

Runs the command on the first 60 BCCD validation fields (640x480) with ``--workers 1`` and
``--workers 2`` and under torchrun with 2 processes (the ``hemseg_diagnose`` bundle's
``multi_gpu_inference`` override, gloo; models loaded once per process, included in the wall
time), then on one 2592x1944 ALL-IDB1 field, then on a stitched scan: 16 distinct 2592x1944
ALL-IDB1 fields in a 4x4 mosaic, 10368x7776 (81 M pixels), analysed tile by tile. ``--only`` picks
runs; ``--repeat N`` makes each 60-field command N times, the commands in turn, and keeps the
median time and rates. Each run is started by its own small parent process, whose ``ru_maxrss`` of finished
children is the peak resident memory of the largest process of that run (the command, or one of
its workers). ``steady_fields_per_minute`` leaves out the start-up (imports, networks loaded, the
first photo) and the end: photos finished per minute from the first photo's ``report.json`` to the
last one's (file times).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
        finished = sorted(path.stat().st_mtime for path in (Path(scratch) / "out").glob("*/report.json"))
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    peak_mb = int(done.stdout.split()[-1]) / 1024
    result = {"fields": len(photos), "workers": workers, "seconds": round(seconds, 1),
              "fields_per_minute": round(60 * len(photos) / seconds, 1), "peak_rss_mb": round(peak_mb)}  # fmt: skip
    if len(finished) > 2:  # once the networks are loaded: from the first finished report to the last
        result["steady_fields_per_minute"] = round(60 * (len(finished) - 1) / (finished[-1] - finished[0]), 1)
    return result


def _median(rounds: list[list[dict]]) -> list[dict]:
    """Each command's figures over the rounds: the median time and rates, the largest peak memory."""
    merged = []
    for runs in zip(*rounds, strict=True):
        result = {**runs[0], "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)}
        for key in ("seconds", "fields_per_minute", "steady_fields_per_minute"):
            result[key] = statistics.median(run[key] for run in runs)
        if len(runs) > 1:
            result["runs"] = len(runs)
        merged.append(result)
    return merged


def main() -> None:
    """Time the runs and print a line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--fields", type=int, default=60, help="BCCD validation fields")
    parser.add_argument("--only", choices=RUNS, action="append", help="runs to make (default: all)")
    parser.add_argument("--mosaic", type=int, default=4, help="fields per side of the stitched scan")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each 60-field command, in turn (median)")
    args = parser.parse_args()
    from hemseg.data import read_dataset, samples_of_split

    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    fields = [s.image for s in samples_of_split(read_dataset(root / "bccd"), "val")][: args.fields]
    from PIL import Image

    large = [p for p in sorted((root / "all_idb1" / "images").iterdir()) if Image.open(p).size == (2592, 1944)]
    results = []
    for run in args.only or RUNS:
        if run == "bccd":
            results += _median([[_diagnose(fields, 1), _diagnose(fields, 2)] for _ in range(args.repeat)])
        elif run == "torchrun":
            [torchrun] = _median([[_diagnose(fields, 2, torchrun=True)] for _ in range(args.repeat)])
            results.append({**torchrun, "note": "torchrun, 2 processes"})
        elif run == "field":
            results.append({**_diagnose(large[:1], 1), "note": f"one 2592x1944 field ({large[0].name})"})
        else:
            with tempfile.TemporaryDirectory() as scratch:
                side, (width, height) = args.mosaic, (2592, 1944)
                mosaic = Image.new("RGB", (side * width, side * height))
                for index, path in enumerate(large[: side * side]):
                    with Image.open(path) as field:
                        mosaic.paste(field.convert("RGB"), ((index % side) * width, (index // side) * height))
                path = Path(scratch) / "stitched.png"
                mosaic.save(path)
                del mosaic
                first, last = large[0].name, large[side * side - 1].name
                size = f"{side * width}x{side * height}"
                note = f"a {size} stitched scan of {side * side} ALL-IDB1 fields ({first} ... {last})"
                results.append({**_diagnose([path], 1), "note": note})
    for result in results:
        print(json.dumps(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
