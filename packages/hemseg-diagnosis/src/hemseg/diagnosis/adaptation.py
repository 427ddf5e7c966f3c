"""When a specimen's white cells are classified again by a classifier adapted to its stain.

A classifier loses most of its accuracy in a lab whose stain and optics it never saw, and most of
that loss sits in the statistics of its first batch-norm layers (docs/benchmarks.md, "Where the
look is lost"). When most white cells of a specimen have a stain unlike every training source's
(:class:`hemseg.postproc.StainReference`), :meth:`hemseg.diagnosis.batch.Batch.adapt` has those
statistics re-estimated on the specimen's own white-cell patches (the analyser's ``adapter``, e.g.
:meth:`hemseg.models.Classifier.adapted`) and classifies its cells again
(:meth:`hemseg.diagnosis.SmearAnalyser.reclassified`), in the specimen's own mix of classes where
the rules' ``least_share`` is set, at the magnification it is least uncertain of them where the
rules' ``zooms`` are set. Specimens of a familiar stain are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hemseg.diagnosis.report import SmearReport


@dataclass(frozen=True)
class AdaptationRules:
    """Which specimens are classified again, adapted to their stain.

    Attributes:
        layers: the classifier's first batch-norm layers whose statistics the specimen's cells give.
        unfamiliar_share: only a specimen with at least this share of white cells of an unfamiliar stain.
        min_cells: only a specimen with at least this many white cells (a few cells' statistics
            describe their classes more than the stain).
        least_share: the adapted classifier also takes the specimen's own mix of classes, no class's
            share below this times an equal share (:func:`hemseg.models.specimen_mix`); None: not.
        zooms: the adapted classifier is adapted at each of these magnifications of the patches and
            keeps the one at which it is least uncertain of the specimen's cells (its ``zoom``,
            :meth:`hemseg.models.Classifier.adapted`); None: as cut.
    """

    layers: int
    unfamiliar_share: float
    min_cells: int
    least_share: float | None = None
    zooms: Sequence[float] | None = None


def adaptation_of(reports: Sequence[SmearReport], rules: AdaptationRules) -> dict | None:
    """What adapting to the specimen of ``reports`` means, or None when its cells do not call for it.

    Returns:
        ``{"layers", "white_cells", "unfamiliar_share", "least_share"}`` (the record written into each
        report).
    """
    from hemseg.postproc import mostly_unfamiliar

    unfamiliar = [c.unfamiliar_stain for r in reports for c in r.cells if c.kind == "wbc"]
    share = mostly_unfamiliar(unfamiliar, rules.min_cells, rules.unfamiliar_share)
    if share is None:
        return None
    return {
        "layers": rules.layers,
        "white_cells": len(unfamiliar),
        "unfamiliar_share": round(share, 4),
        "least_share": rules.least_share,
    }
