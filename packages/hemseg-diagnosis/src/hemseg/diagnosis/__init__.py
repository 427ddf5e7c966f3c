"""hemseg.diagnosis: counts, white-cell differential, blast fraction, flags for review and reports (no torch).

Decision support for review by a qualified person, not a diagnosis.
"""

from hemseg.diagnosis.differential import WHITE_CELL_CLASSES, Differential, differential
from hemseg.diagnosis.flags import REFERENCE_PERCENT, Flag, FlagRules, review_flags
from hemseg.diagnosis.report import (
    COLOURS,
    COUNT_CLASSES,
    NOTICE,
    SUMMARY_COLUMNS,
    Cell,
    SmearReport,
    cells_csv,
    cells_geojson,
    html_page,
    summary_csv,
    summary_row,
)

__all__ = [
    "COLOURS",
    "COUNT_CLASSES",
    "NOTICE",
    "REFERENCE_PERCENT",
    "SUMMARY_COLUMNS",
    "WHITE_CELL_CLASSES",
    "Cell",
    "Differential",
    "Flag",
    "FlagRules",
    "SmearReport",
    "cells_csv",
    "cells_geojson",
    "differential",
    "html_page",
    "review_flags",
    "summary_csv",
    "summary_row",
]
