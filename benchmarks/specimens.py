"""Specimen differentials with 95 % intervals on the shared data, next to the image-level labels.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/specimens.py --json benchmarks/results/specimens.json

Each photo is analysed once (``hemseg.models.load_analyser``, scale estimated per photo) and pooled
with ``hemseg.diagnosis.pool_specimens`` three ways: ``bccd`` (validation and training fields) as one
specimen, beside the sum of BCCD's per-image white-cell types; every ``all_idb1`` field as its own
specimen; ``all_idb1`` fields grouped by their label (``all`` / ``healthy``), a check of the arithmetic.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

CLASSES = ("neutrophil", "eosinophil", "basophil", "lymphocyte", "monocyte", "immature_granulocyte", "blast")


def _line(specimen, reference: Counter | None = None) -> str:
    data = specimen.to_dict()
    cells = []
    for name in CLASSES:
        if data["counts"][name] or (reference and reference.get(name)):
            low, high = data["interval_percent"][name]
            shown = f"{name} {data['counts'][name]} ({data['percent'][name]:.1f} %, {low:.1f}-{high:.1f})"
            if reference is not None:
                shown += f" [labels {reference.get(name, 0)}]"
            cells.append(shown)
    flags = ", ".join(f.name for f in specimen.flags) or "-"
    return (
        f"| {specimen.name} | {data['fields']} | {data['wbc']} | {'; '.join(cells)} | "
        f"{100 * data['blast_fraction']:.1f} ({100 * data['blast_fraction_interval'][0]:.1f}-"
        f"{100 * data['blast_fraction_interval'][1]:.1f}) | {flags} | {data['note'] or '-'} |"
    )


def main() -> None:
    """Analyse, pool and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the specimens here")
    args = parser.parse_args()
    from hemseg.data import read_dataset, read_smear
    from hemseg.diagnosis import pool_specimens
    from hemseg.models import load_analyser

    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    analyser = load_analyser()
    header = (
        "| specimen | fields | white cells | class count (%, 95 % CI) | blast % (CI) | flags | note |\n" + "|---|" * 7
    )
    results = {}

    bccd = read_dataset(root / "bccd")
    reports = [(s, analyser.analyse(read_smear(s.image))) for s in bccd.samples]
    labels = Counter(label for s in bccd.samples for label in s.labels)
    (pooled,) = pool_specimens([("bccd", s.id, r) for s, r in reports], analyser.flag_rules, analyser.specimen_rules)
    print("bccd, all fields one specimen (labels: BCCD's per-image white-cell types, summed)\n" + header)
    print(_line(pooled, labels))
    results["bccd"] = {**pooled.to_dict(), "labels": dict(labels)}

    idb = read_dataset(root / "all_idb1")
    reports = [(s, analyser.analyse(read_smear(s.image))) for s in idb.samples]
    per_field = pool_specimens(
        [(f"{s.id} ({s.labels[0]})", s.id, r) for s, r in reports], analyser.flag_rules, analyser.specimen_rules
    )
    per_label = pool_specimens(
        [(s.labels[0], s.id, r) for s, r in reports], analyser.flag_rules, analyser.specimen_rules
    )
    print("\nall_idb1, each field its own specimen\n" + header)
    print("\n".join(_line(s) for s in per_field))
    print("\nall_idb1, fields grouped by label\n" + header)
    print("\n".join(_line(s) for s in per_label))
    results["all_idb1_per_field"] = [s.to_dict() for s in per_field]
    results["all_idb1_per_label"] = [s.to_dict() for s in per_label]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
