"""What red-cell morphology costs ``hemseg diagnose``: time per 640x480 field with and without it, in one run.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/red_cell_cost.py \
        --json benchmarks/results/red_cell_cost.json

The ``hemseg_diagnose`` analyser is loaded twice, as shipped (``red_cell_morphology: true``) and as
before red-cell morphology (``red_cell_morphology=false``, red cells counted, not classified,
``red_cells#overlap_split_distance=None``, clumps split as other cells, and ``red_cells#min_radius=0.2``
for every piece, ``#edge_min_radius=None``, no slide trimmed off large pieces, ``#slide_trim_area=None``),
both through ONNX Runtime.
Each validation field of ``bccd`` and ``chula_rbc`` (the first ``--fields`` of each, scale estimated
per photo as ``hemseg diagnose`` does) is analysed by both in turn after one warm-up, so both see
the same machine load, ``--repeats`` times; each field's time is the fastest of its repeats (the run
least disturbed by anything else on the machine). Prints the median time per field of each, their
ratio (issue 23 allows 1.3) with a 95 % bootstrap interval over the fields, the red cells classified
per field and the median time of the red-cell classifier's own call (``Classifier.probabilities``:
the network on every patch of the field) within it. ``--variant KEY=VALUE ...`` times a third
analyser in the same turns, the shipped one with these bundle overrides (values read as JSON, e.g.
``scale#trim_share=0``), and prints its ratio to the pipeline before red-cell morphology and the
median over the fields of its time over the shipped one's. ``--before-code DIR`` times, in the same
turns again, ``hemseg diagnose`` as it was when issue 23 was filed: a worker process that imports the
``hemseg`` packages and bundles of the checkout DIR (``git worktree add DIR 3481af7``, the commit
before the issue's first) and analyses each photo it is sent; its ratio is the issue's own ("within
1.3x of its current time"), while "before red-cell morphology" is today's code with the features off.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    """Time both analysers field by field and print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=40, help="validation fields per dataset")
    parser.add_argument("--repeats", type=int, default=3, help="times each field is analysed by each")
    parser.add_argument("--threads", type=int, default=2, help="torch / ONNX Runtime threads")
    parser.add_argument("--datasets", nargs="+", default=["bccd", "chula_rbc"], help="sets whose val fields are timed")
    parser.add_argument("--variant", nargs="+", metavar="KEY=VALUE", help="also time the shipped analyser so changed")
    parser.add_argument("--before-code", type=Path, help="also time the hemseg checkout in this folder")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.threads)

    import torch

    from hemseg.data import read_smear, split_datasets
    from hemseg.models import load_analyser

    torch.set_num_threads(args.threads)
    before = {
        "red_cell_morphology": False,
        "red_cells#overlap_split_distance": None,
        "red_cells#min_radius": 0.2,
        "red_cells#edge_min_radius": None,
        "red_cells#slide_trim_area": None,
    }
    analysers = {"with": load_analyser(), "without": load_analyser(**before)}
    variant = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.variant or [])}
    if variant:
        analysers["variant"] = load_analyser(**variant)
    classifier, network_ms = analysers["with"].red_cell_classifier, []
    probabilities = classifier.probabilities

    def timed_probabilities(patches):
        start = time.perf_counter()
        scores = probabilities(patches)
        network_ms.append((time.perf_counter() - start) * 1000.0)
        return scores

    classifier.probabilities = timed_probabilities
    before_code = BeforeCode(args.before_code, args.threads) if args.before_code else None
    results = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "threads": args.threads,
        **({"variant": variant} if variant else {}),
        "sets": {},
    }
    for dataset, samples in split_datasets(os.environ["HEMSEG_DATA"], args.datasets, "val"):
        paths = [s.image for s in samples[: args.fields]]
        photos = [read_smear(path) for path in paths]
        for analyser in analysers.values():
            analyser.analyse(photos[0])  # warm-up
        if before_code:
            before_code.analyse(paths[0])
        names = [*analysers, *(["before_code"] if before_code else [])]
        times = {name: np.full((len(photos), args.repeats), np.inf) for name in names}
        red = []
        network_ms.clear()
        for field, photo in enumerate(photos):
            for repeat in range(args.repeats):
                for name, analyser in analysers.items():
                    start = time.perf_counter()
                    report = analyser.analyse(photo)
                    times[name][field, repeat] = (time.perf_counter() - start) * 1000.0
                    if name == "with" and repeat == 0:
                        red.append(report.red_cells.classified)
                if before_code:
                    times["before_code"][field, repeat] = before_code.analyse(paths[field])
        fastest = {name: values.min(axis=1) for name, values in times.items()}
        medians = {name: float(np.median(values)) for name, values in fastest.items()}
        shipped = ratio(fastest["with"], fastest["without"])
        figures = results["sets"][dataset.name] = {
            "fields": len(photos),
            "repeats": args.repeats,
            "ms_with": round(medians["with"], 1),
            "ms_without": round(medians["without"], 1),
            **ratio_json(shipped),
            "red_cells_per_field": statistics.median(red),
            "ms_red_cell_network": round(statistics.median(network_ms), 1),
        }
        if before_code:
            old = ratio(fastest["with"], fastest["before_code"])
            figures["before_code"] = {
                "commit": before_code.commit,
                "ms": round(medians["before_code"], 1),
                **ratio_json(old),
            }
        if variant:
            changed = ratio(fastest["variant"], fastest["without"])
            figures["variant"] = {
                "ms": round(medians["variant"], 1),
                **ratio_json(changed),
                "over_shipped": round(float(np.median(fastest["variant"] / fastest["with"])), 3),
            }
        print(
            f"{dataset.name:<10} {len(photos)} fields: median {medians['without']:.0f} ms before red-cell "
            f"morphology, {medians['with']:.0f} ms as shipped ({ratio_text(shipped)}); "
            f"{statistics.median(red):.0f} red cells classified per field in "
            f"{statistics.median(network_ms):.0f} ms of the red-cell network"
        )
        if variant:
            print(
                f"{'':<10} variant {variant}: {medians['variant']:.0f} ms ({ratio_text(changed)}); "
                f"{figures['variant']['over_shipped']:.3f}x the shipped one's time, median over the fields"
            )
        if before_code:
            print(
                f"{'':<10} the code before issue 23 ({before_code.commit}): {medians['before_code']:.0f} ms "
                f"(as shipped over it: {ratio_text(old)})"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


class BeforeCode:
    """A worker process running ``hemseg diagnose``'s analyser from another checkout: path in, ms out."""

    def __init__(self, checkout: Path, threads: int) -> None:
        checkout = checkout.resolve()
        sources = sorted(str(src) for src in checkout.glob("packages/*/src"))
        if not sources:
            raise SystemExit(f"{checkout}: no packages/*/src (not a hemseg checkout)")
        self.commit = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sources)}
        env.pop("HEMSEG_BUNDLES", None)  # the checkout's own bundles
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--threads", str(threads)]
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
        self.process = subprocess.Popen(command, cwd=checkout, env=env, text=True, **pipes)
        loaded_from = Path(self.process.stdout.readline().strip())  # where the worker's hemseg.models lies
        if checkout not in loaded_from.parents:
            raise SystemExit(f"the worker imported hemseg.models from {loaded_from}, not from {checkout}")

    def analyse(self, path: Path) -> float:
        """Time (ms) of the checkout's analyser on the photo at ``path``, read beforehand."""
        self.process.stdin.write(f"{Path(path).resolve()}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())


def worker(threads: int) -> None:
    """The worker of :class:`BeforeCode`: read photo paths from stdin, print each analysis time (ms)."""
    import torch

    import hemseg.models
    from hemseg.data import read_smear
    from hemseg.models import load_analyser

    torch.set_num_threads(threads)
    analyser = load_analyser()
    print(Path(hemseg.models.__file__).resolve(), flush=True)
    for line in sys.stdin:
        photo = read_smear(line.strip())
        start = time.perf_counter()
        analyser.analyse(photo)
        print((time.perf_counter() - start) * 1000.0, flush=True)


def ratio(times: np.ndarray, before: np.ndarray) -> tuple[float, float, float]:
    """Median ``times`` over median ``before``, and its 95 % bootstrap interval (2,000 draws of the fields)."""
    draws = np.random.default_rng(0).integers(0, len(times), (2000, len(times)))
    ratios = np.median(times[draws], axis=1) / np.median(before[draws], axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(np.median(times) / np.median(before)), float(low), float(high)


def ratio_json(figures: tuple[float, float, float]) -> dict:
    """A :func:`ratio` as the JSON keeps it."""
    return {"ratio": round(figures[0], 3), "ratio_interval": [round(figures[1], 3), round(figures[2], 3)]}


def ratio_text(figures: tuple[float, float, float]) -> str:
    """A :func:`ratio` as printed."""
    return f"{figures[0]:.2f}x, 95 % interval {figures[1]:.2f}-{figures[2]:.2f}"


if __name__ == "__main__":
    main()
