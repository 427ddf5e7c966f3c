"""The red-cell scale estimate on single-cell crops (few red cells), against each set's measured diameter.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/crop_scale.py [--shared] \
        --json benchmarks/results/crop_scale.json

Runs ``hemseg diagnose``'s analysis (``hemseg.models.load_analyser``, scale estimated) on ``--crops``
crops of each crop set, spread evenly over its ids, and compares the red-cell diameter it used with the
set's entry in ``hemseg.data.RBC_DIAMETER_PX`` (measured on whole red cells): the share estimated
from the red cells (``estimated``), from the central white cell (``white_cell``, a crop with too few
red cells; the others fall back to the assumed diameter), and for each the 10th / 50th / 90th
percentile of the relative error. What the error costs: the class of the white cell nearest the
crop's centre against the crop's label (crops labelled with one of the white-cell classifier's
classes), with the scale estimated and with the set's diameter given (``accuracy_estimated``,
``accuracy_given``; a crop where no white cell is found counts as wrong). ``--shared`` also
analyses every crop of a set at one scale, the median of the crops' own first readings, as
``hemseg diagnose --shared-scale`` does for one specimen (``shared_px``, ``shared_readings``,
``accuracy_shared``). ``--percentiles 50 75``
also scores other percentiles of the red cells' inscribed diameters as the estimate (one
segmentation of the whole crop at the assumed diameter, as ``hemseg.postproc.rbc_diameter``
measures them, red cells cut by the edge of a crop left out as ``hemseg diagnose`` leaves them
out: the bundle's ``scale#crop_side``).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

#: Crop sets: PBC (CellaVision DM96, the held-out analyser's kind), jtsc_wbc and ALL-IDB2.
DATASETS = ("pbc", "jtsc_wbc", "all_idb2")


def main() -> None:
    """Estimate, compare, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--crops", type=int, default=200, help="crops per set")
    parser.add_argument("--percentiles", type=float, nargs="*", default=[], help="also score these percentiles")
    parser.add_argument("--shared", action="store_true", help="also score each set at its crops' shared scale")
    args = parser.parse_args()
    from hemseg.data import RBC_DIAMETER_PX, read_dataset, read_smear
    from hemseg.diagnosis.batch import scale_reading
    from hemseg.models import load_analyser
    from hemseg.postproc import chw_float, postprocess, rbc_diameter

    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data"))
    analyser = load_analyser()
    figures = []
    for name in DATASETS:
        every = read_dataset(root / name).samples
        samples = every[:: max(1, len(every) // args.crops)][: args.crops]  # spread over the set
        truth = RBC_DIAMETER_PX[name]
        errors, by_percentile = {"estimated": [], "white_cell": []}, {q: [] for q in args.percentiles}
        right = {"estimated": 0, "given": 0}
        labelled = {s.id for s in samples if len(s.labels) == 1 and s.labels[0] in analyser.classifier.classes}
        shared, shared_px = {}, None
        if args.shared:  # as hemseg diagnose --shared-scale: the median of the crops' own first readings
            readings = [px for s in samples if (px := scale_reading(analyser, s.image)) is not None]
            shared_px = float(np.median(readings))
            shared = {"shared_px": round(shared_px, 2), "shared_readings": len(readings)}
            right["shared"] = 0
        for sample in samples:
            rgb = read_smear(sample.image)
            report = analyser.analyse(rgb)
            if report.scale_source in errors:
                errors[report.scale_source].append(report.rbc_diameter_px / truth - 1)
            if sample.id in labelled:
                scales = {"estimated": report, "given": analyser.analyse(rgb, truth)}
                if shared_px is not None:
                    scales["shared"] = analyser.analyse(rgb, shared_px)
                for scale, analysed in scales.items():
                    right[scale] += central_class(analysed, rgb.shape) == sample.labels[0]
            if by_percentile:
                px = analyser.scale.assumed_px
                probabilities = analyser.segmenter.probabilities(chw_float(rgb), px)
                rbc = postprocess(probabilities, analyser.structures, analyser.mask_rules, px, ["rbc"])["rbc"]
                crop = analyser.scale.is_crop(rgb.shape)
                for q, found in by_percentile.items():
                    if (estimate := rbc_diameter(rbc, px, q, 1, crop)[0]) is not None:
                        found.append(estimate / truth - 1)
        figures.append(
            {
                "dataset": name,
                "crops": len(samples),
                "rbc_diameter_px": truth,
                "assumed_px": analyser.scale.assumed_px,
                **{k: v for source, found in errors.items() for k, v in error_figures(source, found, len(samples))},
                **shared,
                "classified": len(labelled),
                **{f"accuracy_{k}": round(n / len(labelled), 3) if labelled else None for k, n in right.items()},
            }
        )
        if by_percentile:  # 10th / 50th / 90th percentile of each estimator's error
            figures[-1]["percentiles"] = {
                str(q): [round(float(e), 3) for e in np.percentile(found, [10, 50, 90])]
                for q, found in by_percentile.items()
            }
        print(json.dumps(figures[-1]))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


def error_figures(source: str, errors: list[float], crops: int) -> list[tuple[str, float | None]]:
    """``<source>_share`` of the crops and the 10th / 50th / 90th percentile of their relative errors."""
    percentiles = np.percentile(errors, [10, 50, 90]) if errors else [None] * 3
    return [(f"{source}_share", round(len(errors) / crops, 3))] + [
        (f"{source}_error_p{q}", None if e is None else round(float(e), 3))
        for q, e in zip((10, 50, 90), percentiles, strict=True)
    ]


def central_class(report, shape: tuple[int, ...]) -> str | None:
    """The class of the report's white cell nearest the photo's centre (None: no white cell)."""
    centre = (shape[1] / 2, shape[0] / 2)
    white = [c for c in report.cells if c.kind == "wbc"]
    if not white:
        return None
    return min(white, key=lambda c: (c.centroid[0] - centre[0]) ** 2 + (c.centroid[1] - centre[1]) ** 2).cls


if __name__ == "__main__":
    main()
