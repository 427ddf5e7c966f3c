"""A field's two second readings of the red-cell scale, untrimmed and trimmed, and the share that gates the trimmed one.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/trim_readings.py \
        --json benchmarks/results/scale_trim/trim_share/readings.json

Runs ``hemseg diagnose``'s cell finding (``hemseg.models.load_analyser``, scale estimated,
``SmearAnalyser.find_cells``) on every photo of ``--datasets`` (fields: larger than the bundle's
``scale#crop_side``) with the trimmed reading measured on every field (``scale#trim_share`` 0), and
records for each field its second reading of the red-cell mask as the network gives it
(``untrimmed``) and with the slide taken off the pieces of more than ``red_cells#slide_trim_area``
red-cell areas (``trimmed``), both in the working image's pixels, their ratio (``gap``), and the share
of the red-cell mask in those pieces (``share``, ``hemseg.postproc.large_piece_share``). Per set:
the fields whose trimmed reading ``scale#trim_gap`` takes, the smallest share among them, the fields
the shipped ``scale#trim_share`` measures trimmed (and so pays the trim for), and the fields whose
reading the gate changes (taken by ``trim_gap`` but not measured: should be none).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from hemseg.diagnosis import ScaleRules


@dataclasses.dataclass(frozen=True)
class RecordingScale(ScaleRules):
    """The bundle's scale rules, measuring every field trimmed and keeping what the last photo's readings were."""

    seen: dict = dataclasses.field(default_factory=dict)

    def reads_trimmed(self, shape: tuple[int, ...], rbc_mask: np.ndarray, trim_area: float) -> bool:
        from hemseg.postproc import large_piece_share

        self.seen["share"] = large_piece_share(rbc_mask, trim_area)
        return super().reads_trimmed(shape, rbc_mask, trim_area)

    def refine(
        self, rbc_mask: np.ndarray, work_px: float, shape: tuple[int, ...], trimmed: np.ndarray | None = None
    ) -> float | None:
        self.seen["untrimmed"] = super().refine(rbc_mask, work_px, shape)
        self.seen["trimmed"] = None if trimmed is None else super().refine(trimmed, work_px, shape)
        return super().refine(rbc_mask, work_px, shape, trimmed)


def main() -> None:
    """Read, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["chula_rbc", "all_idb1", "bccd"])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.data import read_dataset, read_smear
    from hemseg.models import load_analyser

    analyser = load_analyser(red_cell_morphology=False)
    shipped = analyser.scale
    analyser.scale = RecordingScale(**{**dataclasses.asdict(shipped), "trim_share": 0.0})
    data = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    results = {"trim_gap": shipped.trim_gap, "trim_share": shipped.trim_share, "sets": {}, "fields": {}}
    for name in args.datasets:
        rows = {}
        for sample in read_dataset(data / name).samples:
            rgb = read_smear(sample.image)
            if shipped.is_crop(rgb.shape):
                continue
            analyser.scale.seen.clear()
            found = analyser.find_cells(rgb)
            seen = dict(analyser.scale.seen)
            if found.scale_source != "estimated" or seen.get("untrimmed") is None or not seen.get("trimmed"):
                continue
            row = {
                **{key: round(value, 3) for key, value in seen.items()},
                "gap": round(seen["untrimmed"] / seen["trimmed"], 3),
            }
            row["taken"] = row["gap"] > shipped.trim_gap
            row["measured"] = row["share"] >= shipped.trim_share
            rows[sample.id] = row
            print(name, sample.id, json.dumps(row), flush=True)
        taken = [row for row in rows.values() if row["taken"]]
        measured = sum(row["measured"] for row in rows.values())
        results["sets"][name] = {
            "fields": len(rows),
            "taken": sorted(key for key, row in rows.items() if row["taken"]),
            "least_share_taken": min((row["share"] for row in taken), default=None),
            "measured": measured,
            "measured_share": round(measured / max(len(rows), 1), 3),
            "changed_by_gate": sorted(key for key, row in rows.items() if row["taken"] and not row["measured"]),
        }
        results["fields"][name] = rows
        print(name, json.dumps(results["sets"][name]), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
