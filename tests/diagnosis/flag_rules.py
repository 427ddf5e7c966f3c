"""Flag rules for the diagnosis tests (the shipped ones live in the hemseg_diagnose bundle's config)."""

from __future__ import annotations

from hemseg.diagnosis import FlagRules

RULES = FlagRules(
    min_blasts=1,
    blast_fraction=0.2,
    min_wbc_for_differential=50,
    reference_percent={
        "neutrophil": (40.0, 75.0),
        "lymphocyte": (20.0, 45.0),
        "monocyte": (2.0, 10.0),
        "eosinophil": (0.0, 6.0),
        "basophil": (0.0, 2.0),
        "immature_granulocyte": (0.0, 2.0),
    },
    max_review_share=0.3,
)
