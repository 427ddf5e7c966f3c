"""hemseg.diagnosis: counts, white-cell differential, blast fraction and flags for review (no torch).

Decision support for review by a qualified person, not a diagnosis.
"""

from hemseg.diagnosis.differential import Differential, differential
from hemseg.diagnosis.flags import REFERENCE_PERCENT, Flag, FlagRules, review_flags

__all__ = ["REFERENCE_PERCENT", "Differential", "Flag", "FlagRules", "differential", "review_flags"]
