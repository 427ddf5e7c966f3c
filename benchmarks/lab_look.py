r"""The training lab's own cells in another lab's look: does a look alone make the shipped classifier fail?

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/lab_look.py \
        --json benchmarks/results/classification/pbc-lab_look.json

Held-out crops of another lab's CellaVision-class analyser (issue 25) are classified 0.54 right,
their lymphocytes 0.16, against 0.96 on PBC's own; their photos are paler and pinker than PBC's.
Here every cached validation patch of ``pbc`` (the shipped classifier's own lab and device) is
changed in one fixed way — those changes of ``benchmarks/robustness.py`` that make a photo paler,
pinker, warmer, brighter, blurred, noisy or compressed, and two stain changes together (paler
nuclei, pinker surround) or an unsharp mask (a sharper camera, or a larger magnification shrunk to
the patch) — and classified by the shipped classifier as it is, and adapted as ``hemseg evaluate
classification`` adapts a lab never seen (first ``adapt_layers`` batch-norm layers re-estimated on
the changed patches at the zoom of least uncertainty among ``adapt_zooms``, then their own mix; no
test-time averaging, no blast rule). Per change: accuracy on the 5 common classes, their recalls,
the ECE, what the lymphocytes are called, and the share of cells the bundle's stain check finds
unfamiliar (the adapted path runs only where that share is at least ``adapt_unfamiliar_share``).
The change is made on the patch, not the photo: the segmentation is not run again
(``benchmarks/robustness.py`` shows the masks hold under these changes).

``--specimens`` K: per look, K specimens of 100 validation cells in a smear's proportions (the
same draws for every look), classified as they are, in their own mix of classes only, adapted on
their own cells as ``hemseg diagnose`` adapts an unfamiliar specimen, and as ``hemseg diagnose``
classifies them: adapted where the bundle's look check calls for it (most cells of an unfamiliar
stain, or their median sharpness outside the range of the training photos of their stain:
:func:`hemseg.postproc.unfamiliar_look`), as they are elsewhere (accuracy over all 100).

``--looks`` scores only the looks named; with ``--json`` an existing file keeps the other looks'
rows.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from bn_adaptation import SMEAR_CELLS, left_out_patches
from morphometry import LEAST_SHARE, common_class_scores
from robustness import changes
from specimen_zoom import LAYERS, checkpoint_classifier

#: robustness.py's changes toward a paler, pinker, warmer, brighter or less sharp look (not its opposites or scales).
LOOKS = (
    "none",
    "haematoxylin x0.7",
    "eosin x1.4",
    "warm white balance (R x1.15, B x0.85)",
    "gamma 0.6 (brighter)",
    "defocus (Gaussian blur, sigma 2 px)",
    "sensor noise (sigma 0.03)",
    "JPEG quality 20",
)


def _looks() -> dict:
    """Name -> change of a (3, H, W) RGB tensor in [0, 1] (None: unchanged)."""
    from monai.transforms import Compose

    from hemseg.data.transforms import HEDAdjust, UnsharpMask

    known = changes()
    paler_pinker = HEDAdjust(scale=(0.6, 1.5, 1.0))
    found = {name: known[name][0] for name in LOOKS}
    found["paler nuclei, pinker surround (haematoxylin x0.6, eosin x1.5)"] = paler_pinker
    found["the same, brighter (and gamma 0.6)"] = Compose([paler_pinker, known["gamma 0.6 (brighter)"][0]])
    for amount in (1, 2):  # a sharper camera, or a larger magnification shrunk to the patch
        found[f"sharper (unsharp mask, sigma 1.5 px, amount {amount})"] = UnsharpMask(amount, 1.5)
    return found


#: pixels of each edge repeated around a patch before it is changed (as the committed rows were measured: JPEG's
#: blocks and the noise's draws depend on the padded size)
MARGIN = 8


def _changed(patches: np.ndarray, change) -> np.ndarray:
    """(N, P, P, 4) uint8 patches with their RGB changed (edges repeated :data:`MARGIN` px) and their mask kept."""
    if change is None:
        return patches
    rgb = torch.from_numpy(patches[..., :3].transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
    padded = torch.nn.functional.pad(rgb, (MARGIN,) * 4, mode="replicate")
    inner = slice(MARGIN, -MARGIN)
    new = torch.stack([torch.as_tensor(change(image))[:, inner, inner].clamp(0.0, 1.0) for image in padded])
    out = patches.copy()
    out[..., :3] = (new.numpy().transpose(0, 2, 3, 1) * 255.0).round().astype(np.uint8)
    return out


def _scored(classifier, patches: np.ndarray, labels: np.ndarray) -> dict:
    """Scores on the 5 common classes and what the lymphocytes are called."""
    probabilities = classifier.probabilities(patches)
    classes = np.array(classifier.classes)
    called = Counter(classes[probabilities[labels == "lymphocyte"].argmax(axis=1)].tolist())
    return {**common_class_scores(probabilities, labels, classes), "lymphocytes_called": dict(called.most_common())}


def _look(bundle, patches: np.ndarray) -> dict | None:
    """Whether the classification bundle's look check calls for adapting to ``patches`` (one specimen), and why."""
    return cells_look(bundle, bundle.item("stain_reference").looks(patches))


def cells_look(bundle, looks: tuple, rows: np.ndarray | None = None) -> dict | None:
    """The classification bundle's look check on one specimen, of its cells' ``looks`` (``StainReference.looks``).

    ``rows``: the specimen is these cells of ``looks`` (default: all).
    """
    from hemseg.postproc import unfamiliar_look

    unfamiliar, sources, sharpness = (list(part) if rows is None else [part[i] for i in rows] for part in looks)
    return unfamiliar_look(
        unfamiliar,
        bundle.item("adapt_min_cells"),
        bundle.item("adapt_unfamiliar_share"),
        bundle.item("stain_reference"),
        sources,
        sharpness,
    )


def _specimens(classifier, patches: np.ndarray, labels: np.ndarray, count: int, bundle, looks: tuple) -> dict:
    """Mean accuracy of ``count`` smear-like specimens of 100 cells: as they are, in their own mix, adapted, gated.

    ``looks``: the cells' looks (``StainReference.looks`` of ``patches``), for the look check.
    """
    zooms = [float(z) for z in bundle.item("adapt_zooms")]
    rng = np.random.default_rng(0)
    by_class = {name: np.flatnonzero(labels == name) for name in SMEAR_CELLS}
    scores, chosen, gated = {"as_is": [], "own_mix": [], "adapted": [], "as_gated": []}, [], 0
    for _ in range(count):
        drawn = np.concatenate([rng.choice(by_class[k], size=n, replace=False) for k, n in SMEAR_CELLS.items()])
        own, truth = patches[drawn], labels[drawn]
        adapted = classifier.adapted(own, LAYERS, LEAST_SHARE, zooms)
        ways = {"as_is": classifier, "own_mix": classifier.with_specimen_mix(own, LEAST_SHARE), "adapted": adapted}
        for way, which in ways.items():
            predicted = np.array(which.classes)[which.probabilities(own).argmax(axis=1)]
            scores[way].append(float((predicted == truth).mean()))
        adapt = cells_look(bundle, looks, drawn) is not None
        scores["as_gated"].append(scores["adapted" if adapt else "as_is"][-1])
        gated += adapt
        chosen.append(adapted.zoom)
    return {
        **{way: round(float(np.mean(found)), 4) for way, found in scores.items()},
        "gated": gated,
        "zooms_chosen": {f"{z:g}": chosen.count(z) for z in sorted(set(chosen))},
    }


def main() -> None:
    """Score every look as is and adapted, print a Markdown row each and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specimens", type=int, default=10, help="smear-like specimens per look")
    parser.add_argument("--looks", nargs="+", help="score only these looks (default: all); --json keeps the others")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.models import Bundle, bundle_dir

    bundle = Bundle(bundle_dir("hemseg_classification"))
    zooms = [float(z) for z in bundle.item("adapt_zooms")]
    classifier = checkpoint_classifier(bundle.root / "models" / "model.pt")
    patches, labels = left_out_patches("pbc", ("val",))
    labels = np.array(labels)
    result = {"cells": len(labels), "adapt_zooms": zooms, "specimen_cells": SMEAR_CELLS, "looks": {}}
    if args.looks and args.json and args.json.exists():  # the other looks' rows stay
        result["looks"] = json.loads(args.json.read_text())["looks"]
    print(
        "| look | unfamiliar stain | median sharpness (unfamiliar) | as is: 5 classes / lymphocytes / ECE "
        "| adapted: 5 classes / lymphocytes / zoom | per specimen: as is / own mix / adapted (zooms) "
        "| per specimen, as `hemseg diagnose` (adapted) |"
    )
    print("|---|---|---|---|---|---|---|")
    looks = _looks()
    for name in args.looks or looks:
        change = looks[name]
        changed = _changed(patches, change)
        adapted = classifier.adapted(changed, LAYERS, LEAST_SHARE, zooms)
        cells = bundle.item("stain_reference").looks(changed)
        look = cells_look(bundle, cells)
        found = {
            "unfamiliar_share": round(float(np.mean(cells[0])), 4),
            "median_sharpness": round(float(np.nanmedian(np.array(cells[2], float))), 4),
            "look": look,
            "as_is": _scored(classifier, changed, labels),
            "adapted": {**_scored(adapted, changed, labels), "zoom": adapted.zoom},
            "specimens": _specimens(classifier, changed, labels, args.specimens, bundle, cells),
        }
        result["looks"][name] = found
        plain, own, each = found["as_is"], found["adapted"], found["specimens"]
        sharp = f"{found['median_sharpness']:.2f}{' (yes)' if look is not None and 'sharpness' in look else ''}"
        print(
            f"| {name} | {found['unfamiliar_share']:.1%} | {sharp} | {plain['accuracy_5_common_classes']:.3f} / "
            f"{plain['recall']['lymphocyte']:.3f} / {plain['ece']:.3f} | {own['accuracy_5_common_classes']:.3f} / "
            f"{own['recall']['lymphocyte']:.3f} / {own['zoom']:g} | {each['as_is']:.3f} / {each['own_mix']:.3f} / "
            f"{each['adapted']:.3f} ({', '.join(f'{z}: {n}' for z, n in each['zooms_chosen'].items())}) | "
            f"{each['as_gated']:.3f} ({each['gated']} of {args.specimens}) |",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
