"""Class probabilities for cell patches (the classification bundle's network at inference)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from hemseg.models.adaptation import renormalised


class Classifier:
    """Softmax class probabilities for (N, P, P, 4) uint8 cell patches (RGB + cell mask).

    Args:
        network: maps (B, 4, P, P) patches in [0, 1] to (B, K) logits (a torch module, or any
            callable on tensors such as :class:`hemseg.models.OnnxNetwork`).
        classes: the class names, in output order.
        batch_size: patches per network call.
        channels_last: feed patches in channels-last memory format (faster on CPU).
        device: where the network runs.
        dihedral: average the probabilities over the 8 rotations and flips of each patch (test-time
            augmentation; a cell has no orientation, and training rotates and flips the patches).
        least_probability: classes that :meth:`decide` calls only when their probability reaches
            the given value (e.g. ``{"blast": 0.5}``: a cell is called a blast only when the network
            finds that more likely than not; otherwise it gets its most probable other class).
        class_weights: per-class factors that the probabilities are multiplied by and renormalised
            with (a prior correction: a network trained on class-balanced draws answers as if every
            class were equally common; :func:`prior_weights` brings back the classes' frequencies).
            Classes not named keep a factor of 1.
        field_reference: the network's mean probabilities over the red cells of its training photos
            (class name to probability; before ``class_weights``), for ``field_cells``.
        field_cells: with ``field_reference``, the patches of one :meth:`probabilities` call are taken
            as the cells of one photo and each cell's probabilities are re-weighted by the photo's own
            mix of classes (:func:`field_prior`; this many cells of ``field_reference``'s mix are added
            to the photo's); 0: each cell on its own.
        field_kept: a class whose probability the field prior leaves as each cell has it (e.g.
            ``normal``: the photo's mix only decides between the other classes).
        zoom: each patch is magnified by this factor about its centre before the network
            (:func:`zoomed`); 1: as cut. :meth:`adapted` chooses it for one lab's cells.
    """

    def __init__(
        self,
        network: torch.nn.Module | Callable[[torch.Tensor], torch.Tensor],
        classes: tuple[str, ...] | list[str],
        batch_size: int = 64,
        channels_last: bool = False,
        device: str | torch.device = "cpu",
        dihedral: bool = False,
        least_probability: Mapping[str, float] | None = None,
        class_weights: Mapping[str, float] | None = None,
        field_reference: Mapping[str, float] | None = None,
        field_cells: float = 0.0,
        field_kept: str | None = None,
        zoom: float = 1.0,
    ) -> None:
        self.network = network
        self.classes = tuple(classes)
        self.batch_size = batch_size
        self.channels_last = channels_last
        self.device = torch.device(device)
        self.dihedral = dihedral
        least_probability = dict(least_probability or {})
        if unknown := sorted(set(least_probability) - set(self.classes)):
            raise ValueError(f"least_probability names classes the network does not have: {unknown}")
        self.least_probability = {self.classes.index(k): float(v) for k, v in least_probability.items()}
        class_weights = dict(class_weights or {})
        if unknown := sorted(set(class_weights) - set(self.classes)):
            raise ValueError(f"class_weights names classes the network does not have: {unknown}")
        if any(not float(v) > 0 for v in class_weights.values()):
            raise ValueError(f"class_weights must be positive: {class_weights}")
        self.class_weights = (
            np.array([float(class_weights.get(c, 1.0)) for c in self.classes]) if class_weights else None
        )
        if field_cells < 0:
            raise ValueError(f"field_cells must not be negative, not {field_cells}")
        if field_cells and (field_reference is None or set(field_reference) != set(self.classes)):
            raise ValueError(f"field_cells needs a field_reference with a probability for each of {self.classes}")
        self.field_reference = (
            np.array([float(field_reference[c]) for c in self.classes]) if field_reference is not None else None
        )
        self.field_cells = float(field_cells)
        if field_kept is not None and field_kept not in self.classes:
            raise ValueError(f"field_kept names a class the network does not have: {field_kept}")
        self.field_kept = None if field_kept is None else self.classes.index(field_kept)
        if not zoom > 0:
            raise ValueError(f"zoom must be positive, not {zoom}")
        self.zoom = float(zoom)
        self.last_network_ms = 0.0

    @torch.inference_mode()
    def probabilities(self, patches: np.ndarray) -> np.ndarray:
        """Return (N, K) float32 probabilities; the time spent in the network is kept in ``last_network_ms``."""
        patches = np.asarray(patches)
        if patches.ndim != 4 or patches.shape[3] != 4:
            raise ValueError(f"expected (N, P, P, 4) patches, got shape {patches.shape}")
        start = time.perf_counter()
        out = []
        for first in range(0, len(patches), self.batch_size):
            batch = self._tensor(patches[first : first + self.batch_size])
            views = _dihedral_views(batch) if self.dihedral else [batch]
            probabilities = self._softmax(torch.cat(views))  # one network call for all views
            out.append(probabilities.reshape(len(views), len(batch), -1).mean(dim=0).cpu())
        self.last_network_ms = (time.perf_counter() - start) * 1000.0
        if not out:
            return np.zeros((0, len(self.classes)), np.float32)
        probabilities = torch.cat(out).numpy()
        if self.field_cells:
            probabilities = field_prior(probabilities, self.field_reference, self.field_cells, self.field_kept)
        if self.class_weights is not None:
            probabilities = probabilities * self.class_weights
            probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
        return probabilities.astype(np.float32)

    def adapted(
        self,
        patches: np.ndarray,
        layers: int,
        least_share: float | None = None,
        zooms: Sequence[float] | None = None,
    ) -> Classifier:
        """A copy whose network's first ``layers`` batch-norm layers take their statistics from ``patches``.

        ``patches`` (N, P, P, 4) uint8 are unlabelled cells of one lab (a specimen); the statistics of
        the first layers — how strongly the earliest filters answer its stain, contrast and sharpness —
        are re-estimated on them (AdaBN, batches drawn in a fixed random order), no weight is changed
        and deeper layers keep the learnt ones, which also depend on the mix of cell classes
        (docs/benchmarks.md). With ``zooms`` (magnifications, such as those training drew from), the
        statistics are re-estimated at each, and the copy keeps the ``zoom`` at which the network is
        least uncertain of the lab's cells (:meth:`uncertainty`; the first of equals): a lab whose
        cells look larger or smaller, or sharper or blurrier, than the training sources' at the
        same red-cell scale. With ``least_share``, the copy then also takes the specimen's own mix of
        classes (:meth:`with_specimen_mix`).

        Raises:
            TypeError: the network is not a torch module (e.g. an ONNX Runtime session).
            ValueError: no patches, or the network has fewer batch-norm layers than ``layers``.
        """
        if zooms:
            at_zooms = [self._renormalised(patches, layers, zoom) for zoom in zooms]
            classifier = at_zooms[0] if len(at_zooms) == 1 else min(at_zooms, key=lambda c: c.uncertainty(patches))
        else:
            classifier = self._renormalised(patches, layers, self.zoom)
        return classifier if least_share is None else classifier.with_specimen_mix(patches, least_share)

    def uncertainty(self, patches: np.ndarray) -> float:
        """The mean entropy (nats) of the network's own probabilities for ``patches``.

        Each patch is seen once (no test-time averaging), before any class weights or field prior.
        """
        plain = copy.copy(self)
        plain.dihedral, plain.class_weights, plain.field_cells = False, None, 0.0
        probabilities = plain.probabilities(patches).astype(np.float64)
        return float(np.mean(-(probabilities * np.log(np.maximum(probabilities, 1e-12))).sum(axis=1)))

    def _renormalised(self, patches: np.ndarray, layers: int, zoom: float) -> Classifier:
        """A copy at ``zoom`` whose first ``layers`` batch-norm layers take their statistics from ``patches``."""
        if not len(patches):
            raise ValueError("no patches to re-estimate the batch-norm statistics on")
        classifier = copy.copy(self)
        classifier.zoom = float(zoom)
        order = np.random.default_rng(0).permutation(len(patches))  # batches of mixed cells, whatever the order
        batches = (
            classifier._tensor(patches[order[first : first + self.batch_size]])
            for first in range(0, len(patches), self.batch_size)
        )
        classifier.network = renormalised(self.network, layers, batches)
        return classifier

    def with_specimen_mix(self, patches: np.ndarray, least_share: float) -> Classifier:
        """A copy whose probabilities are re-weighted by the class mix of one specimen's cells.

        ``patches`` (N, P, P, 4) uint8 are the white cells of one specimen. Their mix of classes is
        estimated from this classifier's own answers on them (:func:`specimen_mix`), and the copy's
        ``class_weights`` bring every cell's probabilities from the class-balanced training draws to
        that mix: a cell in doubt between a class common in the specimen and a rare one leans to the
        common one. No class's share of the mix is taken below ``least_share`` times an equal share.
        """
        plain = copy.copy(self)
        plain.class_weights = None
        mix = specimen_mix(plain.probabilities(patches), least_share)
        classifier = copy.copy(self)
        weights = mix * len(self.classes)
        classifier.class_weights = weights if self.class_weights is None else weights * self.class_weights
        return classifier

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """(N,) class indices for (N, K) probabilities: the most probable class each row may be called.

        A class of ``least_probability`` below its minimum is passed over for the next most probable.
        """
        eligible = np.array(probabilities, dtype=np.float32, ndmin=2)
        for index, least in self.least_probability.items():
            eligible[eligible[:, index] < least, index] = -1.0
        return eligible.argmax(axis=1)

    @staticmethod
    def alternatives(probabilities: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """(N,) indices of the most probable class other than each row's ``chosen`` one."""
        others = np.array(probabilities, dtype=np.float32, ndmin=2)
        others[np.arange(len(others)), chosen] = -1.0
        return others.argmax(axis=1)

    def _tensor(self, patches: np.ndarray) -> torch.Tensor:
        """(B, 4, P, P) float tensor in [0, 1] on the device, of (B, P, P, 4) uint8 patches."""
        batch = torch.from_numpy(np.ascontiguousarray(patches)).permute(0, 3, 1, 2).float().div_(255.0)
        return (batch if self.zoom == 1.0 else zoomed(batch, self.zoom)).to(self.device)

    def _softmax(self, batch: torch.Tensor) -> torch.Tensor:
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        return torch.softmax(self.network(batch.contiguous(memory_format=memory_format)).float(), dim=1)


def zoomed(patches: torch.Tensor, zoom: float) -> torch.Tensor:
    """(B, 4, P, P) patches (RGB + cell mask) magnified by ``zoom`` about their centres, their size kept.

    As the classifier's training zooms them (MONAI's ``Zoom``): colours by area, the mask by nearest
    neighbour, the edge repeated where a patch shrinks (``zoom`` < 1), the centre kept where it grows.
    """
    from monai.transforms import Zoom
    from monai.utils import convert_to_tensor

    count, _, size, _ = patches.shape
    colours = Zoom(zoom, mode="area", padding_mode="edge", keep_size=True)(patches[:, :3].reshape(-1, size, size))
    mask = Zoom(zoom, mode="nearest", padding_mode="edge", keep_size=True)(patches[:, 3])
    both = torch.cat([convert_to_tensor(colours).reshape(count, 3, size, size), convert_to_tensor(mask)[:, None]], 1)
    return convert_to_tensor(both, track_meta=False)


def field_prior(
    probabilities: np.ndarray, reference: np.ndarray, pseudo_cells: float, kept: int | None = None
) -> np.ndarray:
    """One photo's (N, K) cell probabilities, each re-weighted by the photo's own mix of classes.

    A field-level prior (one EM step of Saerens, Latinne and Decaestecker, Neural Computation 2002,
    with a Dirichlet prior): the photo's mix is the mean of its cells' probabilities, pooled with
    ``pseudo_cells`` cells of the ``reference`` mix (the network's mean over its training photos' cells);
    each row is multiplied by that mix over ``reference`` and renormalised. A class common in the photo
    gains where a cell is in doubt; a photo with few cells keeps close to the reference. With ``kept``
    (a class index), each cell keeps that class's probability and the field prior only shares the rest
    among the other classes.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if not len(probabilities):
        return probabilities
    mix = (probabilities.sum(axis=0) + pseudo_cells * reference) / (len(probabilities) + pseudo_cells)
    weighted = probabilities * (mix / reference)
    if kept is None:
        return weighted / weighted.sum(axis=1, keepdims=True)
    weighted[:, kept] = 0.0
    weighted *= (1.0 - probabilities[:, [kept]]) / np.maximum(weighted.sum(axis=1, keepdims=True), 1e-12)
    weighted[:, kept] = probabilities[:, kept]
    return weighted


def specimen_mix(probabilities: np.ndarray, least_share: float = 0.0, iterations: int = 100) -> np.ndarray:
    """The (K,) mix of classes of one specimen's cells, from a class-balanced network's (N, K) probabilities.

    Expectation-maximisation of Saerens, Latinne and Decaestecker (Neural Computation 2002): the
    network answers as if each of the K classes were equally common; the mix is the mean of the cells'
    probabilities re-weighted by the mix, repeated ``iterations`` times. No class's share is taken
    below ``least_share`` / K, the others scaled to fill the rest (0: the plain estimate, in which a
    class rare in the specimen fades, and its few cells with it; 1: every share equal, no change).

    Raises:
        ValueError: no cells, or ``least_share`` is negative or above 1.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or not len(probabilities):
        raise ValueError(f"expected (N, K) probabilities of at least one cell, got shape {probabilities.shape}")
    if not 0.0 <= least_share <= 1.0:
        raise ValueError(f"least_share must lie in [0, 1], not {least_share}")
    classes = probabilities.shape[1]
    least = least_share / classes
    mix = np.full(classes, 1.0 / classes)
    for _ in range(iterations):
        weighted = probabilities * mix
        weighted /= np.maximum(weighted.sum(axis=1, keepdims=True), 1e-12)
        estimate = weighted.mean(axis=0)
        raised = np.zeros(classes, bool)  # the classes held at the least share, the others scaled to fill the rest
        while True:
            scale = (1.0 - least * raised.sum()) / max(estimate[~raised].sum(), 1e-12)
            below = ~raised & (estimate * scale < least)
            if not below.any():
                break
            raised |= below
        mix = np.where(raised, least, estimate * scale)
    return mix


def prior_weights(class_counts: Mapping[str, float], strength: float) -> dict[str, float]:
    """Class weights for :class:`Classifier` that give a class-balanced network the classes' frequencies.

    Each class's weight is its share of ``class_counts`` (e.g. the training set's labels) to the power
    ``strength``: 0 leaves the balanced answer, 1 is the full Bayes correction to those frequencies,
    values between move part of the way (on the log scale).

    Raises:
        ValueError: a count is not positive, or ``strength`` is negative.
    """
    if any(not float(v) > 0 for v in class_counts.values()):
        raise ValueError(f"class counts must be positive: {dict(class_counts)}")
    if strength < 0:
        raise ValueError(f"the prior's strength must not be negative, not {strength}")
    total = sum(float(v) for v in class_counts.values())
    return {name: (float(count) / total) ** strength for name, count in class_counts.items()}


def _dihedral_views(batch: torch.Tensor) -> list[torch.Tensor]:
    """The 8 rotations by multiples of 90 degrees, each with and without a left-right flip, of (B, C, H, W)."""
    rotations = [torch.rot90(batch, k, dims=(2, 3)) for k in range(4)]
    return rotations + [torch.flip(view, dims=(3,)) for view in rotations]
