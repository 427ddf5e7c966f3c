"""Draw docs/_static/architecture.png: the pipeline's stages and the distribution that owns each.

.venv/bin/python docs/figures/architecture.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

#: (stage, what it does, owner) in pipeline order
STAGES = [
    ("photo", "read_smear: RGB, bad input refused", "hemseg-data"),
    ("scale", "red-cell diameter from the red cells", "hemseg-postproc"),
    ("segmentation", "Segmenter: EfficientNet-B0 U-Net,\nsliding windows (torch / ONNX Runtime)", "hemseg-models"),
    ("masks → cells", "postprocess (MaskRules), split_cells,\nred-cell and platelet filters", "hemseg-postproc"),
    ("patches", "cell_patches: one per white cell,\n36 px red cells, 96 px", "hemseg-postproc"),
    ("classes", "Classifier: EfficientNet-B0 + slide\nreference, dihedral averaging", "hemseg-models"),
    ("diagnosis", "differential, blast fraction,\nflags for review, reports", "hemseg-diagnosis"),
    ("review", "a person confirms or corrects;\nfindings recomputed, export", "hemseg-review"),
]
COLOURS = {
    "hemseg-data": "#cfe2f3",
    "hemseg-models": "#f4cccc",
    "hemseg-postproc": "#d9ead3",
    "hemseg-diagnosis": "#fff2cc",
    "hemseg-review": "#ead1dc",
}


def main() -> None:
    """Draw the figure."""
    figure, axes = plt.subplots(figsize=(11, 7.0))
    axes.set_xlim(0, 11.4)
    axes.set_ylim(0, 7.0)
    axes.axis("off")
    for row, (stage, what, owner) in enumerate(STAGES):
        y = 6.4 - row * 0.78
        box = FancyBboxPatch((0.3, y - 0.3), 6.2, 0.6, boxstyle="round,pad=0.02", fc=COLOURS[owner], ec="#555")
        axes.add_patch(box)
        axes.text(0.45, y, stage, va="center", fontsize=11, weight="bold")
        axes.text(2.3, y, what, va="center", fontsize=8.5)
        axes.text(6.65, y, owner, va="center", fontsize=9, family="monospace")
        if row:
            axes.annotate("", (1.2, y + 0.3), (1.2, y + 0.48), arrowprops={"arrowstyle": "->"})
    axes.add_patch(FancyBboxPatch((8.25, 3.0), 3.0, 3.7, boxstyle="round,pad=0.02", fc="#eeeeee", ec="#555"))
    axes.text(
        8.37,
        6.5,
        "hemseg.diagnosis.SmearAnalyser\nruns the stages on any\nsegmenter and classifier\n(SegmenterLike,"
        " ClassifierLike;\nno torch import)\n\nbundles/hemseg_diagnose\nassembles it from\nhemseg_segmentation\n"
        "+ hemseg_classification\n(shipped in hemseg-models)\n\nhemseg-cli: the `hemseg`\ncommand only calls it",
        va="top",
        fontsize=8.5,
    )
    axes.text(
        0.3,
        0.25,
        "Imports flow one way: hemseg-data and hemseg-postproc (no torch) → hemseg-diagnosis (no torch)"
        " → hemseg-review;\nhemseg-data[transforms] and hemseg-postproc → hemseg-models; all → hemseg-cli.",
        fontsize=8.5,
    )
    out = Path(__file__).resolve().parents[1] / "_static" / "architecture.png"
    figure.savefig(out, dpi=110, bbox_inches="tight")
    print(out)


if __name__ == "__main__":
    main()
