"""hemseg.diagnosis: counts, white-cell differential and blast fraction (no torch).

Decision support for review by a qualified person, not a diagnosis.
"""

from hemseg.diagnosis.differential import Differential, differential

__all__ = ["Differential", "differential"]
