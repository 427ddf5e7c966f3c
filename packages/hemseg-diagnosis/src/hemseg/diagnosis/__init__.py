"""hemseg.diagnosis: the per-photo pipeline, counts, differential, flags for review and reports (no torch).

Decision support for review by a qualified person, not a diagnosis.
"""

from hemseg.diagnosis.adaptation import AdaptationRules, adaptation_of
from hemseg.diagnosis.batch import diagnose_images, hemseg_version, write_image_outputs
from hemseg.diagnosis.differential import (
    Differential,
    RedCellShares,
    differential,
    proportion_interval,
    red_cell_shares,
)
from hemseg.diagnosis.evaluation import evaluate_diagnosis
from hemseg.diagnosis.flags import Flag, FlagRules, RedCellFlag, RedCellFlagRules, red_cell_flags, review_flags
from hemseg.diagnosis.pipeline import (
    FoundCells,
    PlateletRules,
    RedCellRules,
    ScaleRules,
    SmearAnalyser,
    TileRules,
    findings,
)
from hemseg.diagnosis.protocols import ClassifierLike
from hemseg.diagnosis.report import (
    COLOURS,
    COUNT_CLASSES,
    NOT_RBC,
    NOTICE,
    REVIEW_COLUMNS,
    SUMMARY_COLUMNS,
    Cell,
    SmearReport,
    cells_csv,
    cells_geojson,
    html_page,
    summary_csv,
    summary_row,
)
from hemseg.diagnosis.review import (
    EXPORT_RBC_PX,
    NOT_WBC,
    SMUDGE,
    Correction,
    ImageReview,
    ReviewError,
    apply_review,
    export_reviews,
    image_folders,
)
from hemseg.diagnosis.sample import synthetic_smear, write_sample
from hemseg.diagnosis.specimen import (
    SPECIMEN_COLUMNS,
    TOO_FEW,
    Specimen,
    SpecimenRules,
    pool_specimens,
    read_specimens,
    specimens_csv,
)

__all__ = [
    "AdaptationRules",
    "adaptation_of",
    "COLOURS",
    "COUNT_CLASSES",
    "EXPORT_RBC_PX",
    "NOTICE",
    "NOT_RBC",
    "NOT_WBC",
    "REVIEW_COLUMNS",
    "SMUDGE",
    "SPECIMEN_COLUMNS",
    "SUMMARY_COLUMNS",
    "TOO_FEW",
    "Cell",
    "ClassifierLike",
    "Correction",
    "Differential",
    "Flag",
    "FlagRules",
    "FoundCells",
    "ImageReview",
    "PlateletRules",
    "RedCellFlag",
    "RedCellFlagRules",
    "RedCellRules",
    "RedCellShares",
    "ReviewError",
    "ScaleRules",
    "SmearAnalyser",
    "SmearReport",
    "Specimen",
    "SpecimenRules",
    "TileRules",
    "apply_review",
    "cells_csv",
    "cells_geojson",
    "diagnose_images",
    "differential",
    "evaluate_diagnosis",
    "export_reviews",
    "findings",
    "hemseg_version",
    "html_page",
    "image_folders",
    "pool_specimens",
    "proportion_interval",
    "read_specimens",
    "red_cell_flags",
    "red_cell_shares",
    "review_flags",
    "specimens_csv",
    "summary_csv",
    "summary_row",
    "synthetic_smear",
    "write_image_outputs",
    "write_sample",
]
