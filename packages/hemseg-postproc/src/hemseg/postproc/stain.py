"""Stain signatures of cell patches, a reference of the stains a classifier knows, a lab moved onto one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

#: The share of a cell's pixels, the darkest, that stand for its nucleus' stain.
NUCLEUS_SHARE = 0.3
#: Fewest pixels of the cell, and of the rest of the patch, that give a signature.
MIN_PIXELS = 50
#: What each of the 6 numbers of a signature is (CIE L*a*b*).
SIGNATURE_NAMES = ("nucleus_L", "nucleus_a", "nucleus_b", "surround_L", "surround_a", "surround_b")
#: The range that :func:`match_stain` keeps each L*a*b* channel's gain in.
GAIN_RANGE = (0.5, 2.0)


def unfamiliar_look(
    unfamiliar: Sequence[bool],
    min_cells: int,
    least_share: float,
    reference: StainReference | None = None,
    sources: Sequence[str | None] = (),
    sharpness: Sequence[float | None] = (),
) -> dict | None:
    """Whether one specimen's cells call for a classifier adapted to their look, and why; or None.

    None with fewer than ``min_cells`` cells (or none). Otherwise the look is unfamiliar when at
    least ``least_share`` of the cells have an unfamiliar stain (``unfamiliar``, one per cell), or,
    with a ``reference`` that holds sharpness ranges, when the cells' median sharpness lies outside
    the range of the source their stain is nearest to (``sources`` and ``sharpness``, one per cell:
    :meth:`StainReference.unfamiliar_sharpness`).

    Returns:
        ``{"unfamiliar_share"}`` (the share of cells of an unfamiliar stain), with ``source``,
        ``sharpness`` and ``sharpness_range`` when it is the sharpness that is unfamiliar.
    """
    if not len(unfamiliar) or len(unfamiliar) < min_cells:
        return None
    share = sum(map(bool, unfamiliar)) / len(unfamiliar)
    if share >= least_share:
        return {"unfamiliar_share": share}
    found = reference.unfamiliar_sharpness(sources, sharpness) if reference is not None and len(sources) else None
    return None if found is None else {"unfamiliar_share": share, **found}


def stain_signatures(patches: np.ndarray) -> np.ndarray:
    """(N, 6) stain signatures of (N, P, P, 4) uint8 cell patches (RGB + cell mask, :func:`cell_patches`).

    Per patch: the mean L*a*b* colour of the darkest :data:`NUCLEUS_SHARE` of the cell's pixels
    (the nucleus' stain) and the median L*a*b* colour of the pixels outside the cell (plasma and red
    cells). A row is NaN where the cell or its surround has fewer than :data:`MIN_PIXELS` pixels.
    """
    from skimage.color import rgb2lab

    signatures = np.full((len(patches), len(SIGNATURE_NAMES)), np.nan)
    for row, patch in enumerate(patches):
        inside = patch[..., 3] > 0
        if inside.sum() < MIN_PIXELS or (~inside).sum() < MIN_PIXELS:
            continue
        lab = rgb2lab(patch[..., :3])
        cell = lab[inside]
        dark = cell[cell[:, 0] <= np.quantile(cell[:, 0], NUCLEUS_SHARE)]
        signatures[row] = np.r_[dark.mean(axis=0), np.median(lab[~inside], axis=0)]
    return signatures


def match_stain(patches: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N, P, P, 4) uint8 cell patches recoloured so that a lab's stain ``source`` lands on ``target``.

    ``source`` and ``target`` are (6,) stain signatures (:data:`SIGNATURE_NAMES`: e.g. the median of
    one specimen's, and a training source's mean). Each L*a*b* channel gets the affine map that takes
    the source's nucleus and surround values to the target's (a Reinhard-style colour transfer
    anchored on the two colours a smear always has, so it does not depend on the mix of cells); its
    gain is kept within :data:`GAIN_RANGE`. The cell mask is kept.
    """
    from skimage.color import lab2rgb, rgb2lab

    source, target = np.asarray(source, float), np.asarray(target, float)
    nucleus, surround = source[:3], source[3:]
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = (target[3:] - target[:3]) / (surround - nucleus)
    gain = np.clip(np.nan_to_num(gain, nan=1.0), *GAIN_RANGE)
    out = np.array(patches, dtype=np.uint8, copy=True)
    if not len(out):
        return out
    lab = rgb2lab(out[..., :3])
    lab = target[3:] + (lab - surround) * gain
    out[..., :3] = np.round(np.clip(lab2rgb(lab), 0.0, 1.0) * 255.0)
    return out


@dataclass(frozen=True)
class StainReference:
    """The stains a classifier was trained on: one Gaussian of stain signatures per training source.

    A signature's distance is its smallest Mahalanobis distance to a source; beyond ``threshold``
    the stain is unfamiliar (a cell whose class was learnt from no such photo). A specimen whose
    stain is a source's can still be photographed sharper or blurrier than that source's photos:
    ``sharpness`` holds the range of a specimen's median
    :func:`hemseg.postproc.sharpness.surround_sharpness` per source
    (:func:`hemseg.postproc.sharpness.sharpness_range`), for :meth:`unfamiliar_sharpness`.

    Attributes:
        sources: per source name, the mean (6,) and the inverse covariance (6, 6) of its signatures.
        threshold: the distance beyond which a signature is unfamiliar.
        sharpness: per source name, the (low, high) range of a specimen's median sharpness; empty: no check.
    """

    sources: Mapping[str, tuple[np.ndarray, np.ndarray]]
    threshold: float
    sharpness: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def fit(cls, signatures: Mapping[str, np.ndarray], quantile: float = 0.99, floor: float = 1.0) -> StainReference:
        """Fit one Gaussian per source; the threshold is the ``quantile`` of the training signatures' distances.

        ``floor`` (L*a*b* units squared) is added to each covariance's diagonal, so that a source
        with little spread in one colour still admits a difference of about one unit.
        """
        sources = {}
        for name, rows in signatures.items():
            rows = rows[~np.isnan(rows).any(axis=1)]
            covariance = np.cov(rows.T) + floor * np.eye(rows.shape[1])
            sources[name] = (rows.mean(axis=0), np.linalg.inv(covariance))
        reference = cls(sources, np.inf)
        distances = np.concatenate([reference.distances(rows) for rows in signatures.values()])
        return cls(sources, float(np.nanquantile(distances, quantile)))

    def distances(self, signatures: np.ndarray) -> np.ndarray:
        """(N,) distance of each signature to the nearest source (NaN for a NaN signature)."""
        return self._per_source(signatures).min(axis=0)

    def nearest(self, signature: np.ndarray) -> np.ndarray:
        """The (6,) mean stain of the source nearest to one ``signature`` (Mahalanobis distance)."""
        means = [mean for mean, _ in self.sources.values()]
        return means[int(np.argmin(self._per_source(np.asarray(signature, float)[None])[:, 0]))]

    def looks(self, patches: np.ndarray) -> tuple[np.ndarray, list[str | None], list[float | None]]:
        """What the look check needs of each (N, P, P, 4) uint8 cell patch, for :func:`unfamiliar_look`.

        Returns:
            (N,) bool: its stain is unfamiliar (:meth:`unfamiliar`); the source nearest its stain
            (:meth:`nearest_sources`); its :func:`hemseg.postproc.surround_sharpness` (None where not measured).
        """
        from hemseg.postproc.sharpness import surround_sharpness

        signatures = stain_signatures(patches)
        sharpness = [None if np.isnan(value) else float(value) for value in surround_sharpness(patches)]
        return self.unfamiliar(signatures), self.nearest_sources(signatures), sharpness

    def nearest_sources(self, signatures: np.ndarray) -> list[str | None]:
        """Per (N, 6) signature, the name of the source nearest to it (None for a NaN signature)."""
        if not len(signatures):
            return []
        distances = self._per_source(np.asarray(signatures, float))
        names = list(self.sources)
        return [None if np.isnan(column).any() else names[int(np.argmin(column))] for column in distances.T]

    def unfamiliar_sharpness(self, sources: Sequence[str | None], sharpness: Sequence[float | None]) -> dict | None:
        """Whether one specimen's cells look sharper or blurrier than the training source of their stain.

        ``sources`` are the cells' :meth:`nearest_sources`, ``sharpness`` their
        :func:`hemseg.postproc.sharpness.surround_sharpness` (None or NaN: not measured). The
        specimen's source is the one nearest to most of its cells; its median sharpness is compared
        with that source's range in ``sharpness``.

        Returns:
            ``{"source", "sharpness", "sharpness_range"}`` when the median lies outside the range;
            None when it lies inside, or the source has no range, or no cell has both numbers.
        """
        kept = [(s, v) for s, v in zip(sources, sharpness, strict=True) if s is not None and v is not None]
        kept = [(s, v) for s, v in kept if not np.isnan(v)]
        if not kept:
            return None
        source = Counter(s for s, _ in kept).most_common(1)[0][0]
        if source not in self.sharpness:
            return None
        median, (low, high) = float(np.median([v for _, v in kept])), self.sharpness[source]
        if low <= median <= high:
            return None
        return {"source": source, "sharpness": round(median, 4), "sharpness_range": [round(low, 4), round(high, 4)]}

    def _per_source(self, signatures: np.ndarray) -> np.ndarray:
        """(sources, N) Mahalanobis distance of each signature to each source."""
        return np.array(
            [
                np.sqrt(np.einsum("ij,jk,ik->i", signatures - mean, precision, signatures - mean))
                for mean, precision in self.sources.values()
            ]
        )

    def unfamiliar(self, signatures: np.ndarray) -> np.ndarray:
        """(N,) bool: the signature is farther than ``threshold`` from every source (False for NaN)."""
        with np.errstate(invalid="ignore"):
            return self.distances(signatures) > self.threshold

    def to_dict(self) -> dict:
        """A JSON-ready dict (:meth:`from_dict` reads it back)."""
        return {
            "signature": list(SIGNATURE_NAMES),
            "threshold": self.threshold,
            "sources": {
                name: {"mean": mean.tolist(), "precision": precision.tolist()}
                for name, (mean, precision) in self.sources.items()
            },
            "sharpness": {name: list(bounds) for name, bounds in self.sharpness.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> StainReference:
        """The reference that :meth:`to_dict` wrote.

        Raises:
            ValueError: the signature is not this module's.
        """
        if list(data["signature"]) != list(SIGNATURE_NAMES):
            raise ValueError(f"stain reference of another signature: {data['signature']}")
        sources = {
            name: (np.asarray(source["mean"], float), np.asarray(source["precision"], float))
            for name, source in data["sources"].items()
        }
        sharpness = {name: (float(low), float(high)) for name, (low, high) in data.get("sharpness", {}).items()}
        return cls(sources, float(data["threshold"]), sharpness)
