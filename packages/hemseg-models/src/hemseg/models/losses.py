"""Losses that leave out structures, or pixels, a sample does not annotate."""

from __future__ import annotations

import torch
from monai.losses import DiceCELoss
from torch import nn

from hemseg.data.masks import UNKNOWN

#: Logit put in place of the prediction at a pixel that is not known: a constant (no gradient) whose
#: sigmoid, against a target of 0, adds nothing measurable to BCE or Dice.
_LEFT_OUT_LOGIT = -30.0


class MaskedDiceCELoss(nn.Module):
    """BCE + Dice per structure (MONAI ``DiceCELoss`` with a sigmoid), skipping unannotated ones.

    Each output channel is an independent structure (the white cell contains its nucleus), so the
    loss is computed channel by channel with ``DiceCELoss(sigmoid=True)`` on the samples that annotate
    that channel; a channel whose target is :data:`UNKNOWN` (-1) everywhere is left out. Channels
    are weighted by how many samples annotate them. (``DiceCELoss`` on all channels at once would
    apply a softmax cross-entropy across them, which is wrong for overlapping structures.)

    Single pixels whose target is :data:`UNKNOWN` (the doubtful pixels of pseudo-labels) are left
    out too: their prediction is replaced by a constant logit of -30 against a target of 0, so they
    get no gradient and add nothing to Dice; the BCE is still averaged over all pixels, so an image
    with many unknown pixels weighs a little less in it.

    Args:
        kwargs: passed to ``DiceCELoss`` (``sigmoid=True`` and ``batch=True`` by default).

    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__()
        kwargs.setdefault("sigmoid", True)
        kwargs.setdefault("batch", True)
        self.loss = DiceCELoss(**kwargs)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the loss for logits ``input`` and targets ``target`` of shape (B, C, H, W)."""
        if input.shape != target.shape:
            raise ValueError(f"input {tuple(input.shape)} and target {tuple(target.shape)} differ")
        known = target.flatten(2).amax(dim=2) >= 0  # (B, C): some pixel of the channel is known
        total = input.new_zeros(())
        weight = 0
        for channel in range(input.shape[1]):
            rows = known[:, channel]
            count = int(rows.sum())
            if count:
                logits, truth = input[rows, channel : channel + 1], target[rows, channel : channel + 1]
                unknown = truth < 0
                if bool(unknown.any()):
                    logits = torch.where(unknown, torch.full_like(logits, _LEFT_OUT_LOGIT), logits)
                    truth = truth.clamp(min=0.0)
                part = self.loss(logits, truth)
                total = total + count * part
                weight += count
        return total / weight if weight else input.sum() * 0.0


def mark_unknown(label: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Set the channels of ``label`` (B, C, H, W) whose ``known`` flag (B, C) is 0 to :data:`UNKNOWN`."""
    mask = known.to(torch.bool)[:, :, None, None]
    return torch.where(mask, label, torch.full_like(label, UNKNOWN))


class PartialLabelCELoss(nn.Module):
    """Cross-entropy for labels that name a set of possible classes.

    The target is a (B, K) 0/1 vector of allowed classes (:func:`hemseg.data.candidate_vector`); the
    loss is ``-log`` of the softmax probability summed over the allowed classes. With one allowed
    class this is the ordinary cross-entropy; an ALL-IDB2 ``non_blast`` cell is satisfied by any of
    the six non-blast white-cell classes, without inventing a class for it.

    Args:
        label_smoothing: share of the target mass spread over all classes (as in
            ``torch.nn.CrossEntropyLoss``), applied to the allowed-set likelihood.

    """

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the mean loss for logits ``input`` (B, K) and allowed-class vectors ``target`` (B, K)."""
        if input.shape != target.shape:
            raise ValueError(f"input {tuple(input.shape)} and target {tuple(target.shape)} differ")
        if bool((target.sum(dim=1) <= 0).any()):
            raise ValueError("every target must allow at least one class")
        log_p = torch.log_softmax(input.float(), dim=1)
        allowed = torch.logsumexp(log_p.masked_fill(target <= 0, float("-inf")), dim=1)
        loss = -allowed
        if self.label_smoothing:
            loss = (1 - self.label_smoothing) * loss - self.label_smoothing * log_p.mean(dim=1)
        return loss.mean()
