"""Cell classes and partial labels shared by all datasets."""

from __future__ import annotations

import numpy as np

CELL_CLASSES: tuple[str, ...] = (
    "neutrophil",
    "eosinophil",
    "basophil",
    "lymphocyte",
    "monocyte",
    "immature_granulocyte",
    "erythroblast",
    "platelet",
    "blast",
)
"""The classifier's classes, in output order."""

WHITE_CELL_CLASSES: tuple[str, ...] = (*CELL_CLASSES[:6], "blast")
"""Classes that are white blood cells (erythroblasts and platelets are not)."""

RBC_CLASSES: tuple[str, ...] = (
    "normal",
    "macrocyte",
    "microcyte",
    "spherocyte",
    "target_cell",
    "stomatocyte",
    "ovalocyte",
    "teardrop",
    "burr_cell",
    "schistocyte",
    "hypochromia",
    "elliptocyte",
)
"""The red-cell classifier's morphology classes, in output order (``chula_rbc``'s, less ``unclassified``)."""

RBC_UNCLASSIFIED = "unclassified"
"""The ``chula_rbc`` label of red cells its annotators left without a class: not trained on, not scored."""

PARTIAL_LABELS: dict[str, tuple[str, ...]] = {
    "non_blast": tuple(c for c in WHITE_CELL_CLASSES if c != "blast"),
}
"""Labels that name a set of possible classes rather than one (ALL-IDB2 ``non_blast``)."""


def candidate_classes(label: str) -> tuple[str, ...]:
    """Return the classes a cell label allows: itself, or the members of a partial label.

    Raises:
        ValueError: the label is neither a cell class nor a partial label.

    """
    if label in CELL_CLASSES:
        return (label,)
    if label in PARTIAL_LABELS:
        return PARTIAL_LABELS[label]
    raise ValueError(f"unknown cell label {label!r}; known: {list(CELL_CLASSES) + list(PARTIAL_LABELS)}")


def candidate_vector(label: str) -> np.ndarray:
    """Return a float32 vector over :data:`CELL_CLASSES`, 1 for each class the label allows.

    A loss for partial labels maximises the summed probability of the allowed classes.
    """
    allowed = set(candidate_classes(label))
    return np.array([c in allowed for c in CELL_CLASSES], dtype=np.float32)
