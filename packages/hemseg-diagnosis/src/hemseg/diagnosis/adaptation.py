"""When a specimen's white cells are classified again by a classifier adapted to its look.

A classifier loses most of its accuracy in a lab whose stain and optics it never saw, and most of
that loss sits in the statistics of its first batch-norm layers (docs/benchmarks.md, "Where the
look is lost"). When most white cells of a specimen have a stain unlike every training source's
(:class:`hemseg.postproc.StainReference`), or they look sharper or blurrier than the training
photos of the source nearest their stain (:func:`hemseg.postproc.unfamiliar_look`; every white
cell of such a specimen is marked for review), :meth:`hemseg.diagnosis.batch.Batch.adapt` has those
statistics re-estimated on the specimen's own white-cell patches (the analyser's ``adapter``, e.g.
:meth:`hemseg.models.Classifier.adapted`) and classifies its cells again
(:meth:`hemseg.diagnosis.SmearAnalyser.reclassified`), in the specimen's own mix of classes where
the rules' ``least_share`` is set, at the magnification it is least uncertain of them where the
rules' ``zooms`` are set. Specimens of a familiar look are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hemseg.diagnosis.report import SmearReport

if TYPE_CHECKING:
    from hemseg.postproc import StainReference


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


def adaptation_of(
    reports: Sequence[SmearReport], rules: AdaptationRules, reference: StainReference | None = None
) -> dict | None:
    """What adapting to the specimen of ``reports`` means, or None when its cells do not call for it.

    ``reference`` (the analyser's stain reference) also lets a specimen of a familiar stain be
    adapted when its sharpness is unlike that stain's training photos.

    Returns:
        ``{"layers", "white_cells", "unfamiliar_share", "least_share"}`` (the record written into each
        report), with ``source``, ``sharpness`` and ``sharpness_range`` where the sharpness was the reason.
    """
    from hemseg.postproc import unfamiliar_look

    white = [c for r in reports for c in r.cells if c.kind == "wbc"]
    look = unfamiliar_look(
        [c.unfamiliar_stain for c in white],
        rules.min_cells,
        rules.unfamiliar_share,
        reference,
        [c.stain_source for c in white],
        [c.sharpness for c in white],
    )
    if look is None:
        return None
    return {
        "layers": rules.layers,
        "white_cells": len(white),
        "least_share": rules.least_share,
        **look,
        "unfamiliar_share": round(look["unfamiliar_share"], 4),
    }
