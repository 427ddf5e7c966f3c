"""Batch-norm statistics re-estimated on another lab's images (AdaBN), shared by the classifier and the segmenter."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable

import torch


class _EnoughError(Exception):
    """Raised after the last batch-norm layer to re-estimate: the rest of the network is not needed."""


def batch_norms(network: torch.nn.Module) -> list[torch.nn.modules.batchnorm._BatchNorm]:
    """The network's batch-norm layers, in module order (the stem's first)."""
    return [m for m in network.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def renormalised(network: torch.nn.Module, layers: int, inputs: Iterable[torch.Tensor]) -> torch.nn.Module:
    """A copy of ``network`` whose first ``layers`` batch-norm layers take their statistics from ``inputs``.

    ``inputs`` are batches of a lab's unlabelled inputs; the statistics of the copy's first ``layers``
    batch-norm layers (in module order: the stem first) are reset and become the plain average over
    those batches. Each batch runs only up to the last of those layers. No weight changes, and deeper
    layers keep the learnt statistics.

    Raises:
        TypeError: ``network`` is not a torch module (e.g. an ONNX Runtime session).
        ValueError: the network has fewer batch-norm layers than ``layers``.
    """
    if not isinstance(network, torch.nn.Module):
        raise TypeError("only a torch network's statistics can be re-estimated")
    network = copy.deepcopy(network)
    norms = batch_norms(network)[:layers]
    if len(norms) < layers:
        raise ValueError(f"the network has {len(norms)} batch-norm layers, fewer than the {layers} to re-estimate")
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches
        norm.train()

    def stop(*_: object) -> None:
        raise _EnoughError

    hook = norms[-1].register_forward_hook(stop) if norms else None
    with torch.no_grad():
        for batch in inputs:
            with contextlib.suppress(_EnoughError):
                network(batch)
    if hook is not None:
        hook.remove()
    for norm in norms:
        norm.eval()
    return network
