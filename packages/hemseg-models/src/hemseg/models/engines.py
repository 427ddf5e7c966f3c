"""What goes into and comes out of MONAI's Ignite engines for segmentation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from hemseg.models.losses import mark_unknown


def prepare_segmentation_batch(
    batchdata: Mapping[str, torch.Tensor],
    device: str | torch.device | None = None,
    non_blocking: bool = False,
    channels_last: bool = False,
    **kwargs: object,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(image, label)`` on ``device``; label channels of unannotated structures become -1.

    Use as ``prepare_batch`` of ``SupervisedTrainer`` / ``SupervisedEvaluator``: the batch's
    ``label_known`` flags (from :class:`hemseg.data.transforms.StructureMasksd`) are folded into the
    label, which :class:`hemseg.models.losses.MaskedDiceCELoss` and :func:`known_structures_output`
    understand. ``channels_last`` speeds convolutions up on CPU.
    """
    image = batchdata["image"].to(device, non_blocking=non_blocking)
    if channels_last:
        image = image.contiguous(memory_format=torch.channels_last)
    label = mark_unknown(batchdata["label"], batchdata["label_known"]).to(device, non_blocking=non_blocking)
    return image, label


def known_structures_output(
    output: Sequence[Mapping[str, torch.Tensor]] | Mapping[str, object],
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``output_transform`` for MONAI metric handlers: (preds, labels) with unannotated channels emptied.

    A channel whose label is -1 gets an all-zero prediction and label, so a ``DiceMetric`` with
    ``ignore_empty=True`` scores it NaN and leaves it out of the mean.
    """
    items = output if isinstance(output, Sequence) else [output]
    preds, labels = [], []
    for item in items:
        pred, label = item["pred"], item["label"]
        unknown = (label.flatten(1).amin(dim=1) < 0)[:, None, None]
        preds.append(torch.where(unknown, torch.zeros_like(pred), pred))
        labels.append(torch.where(unknown, torch.zeros_like(label), label))
    return preds, labels


def partial_label_output(
    output: Sequence[Mapping[str, torch.Tensor]] | Mapping[str, object],
) -> tuple[torch.Tensor, torch.Tensor]:
    """``output_transform`` for Ignite's ``Accuracy`` with partial labels: (logits (B, K), classes (B,)).

    The reference class of a sample is its predicted class when the target allows it (a
    ``non_blast`` cell predicted as a lymphocyte is right), else its first allowed class, so
    multiclass accuracy counts a prediction right exactly when the target allows it.
    """
    items = output if isinstance(output, Sequence) else [output]
    logits = torch.stack([torch.as_tensor(item["pred"]) for item in items])
    targets = torch.stack([torch.as_tensor(item["label"]) for item in items])
    predicted = logits.argmax(dim=1)
    allowed = targets.gather(1, predicted[:, None])[:, 0] > 0
    return logits, torch.where(allowed, predicted, targets.argmax(dim=1))


def prepare_classification_batch(
    batchdata: Mapping[str, torch.Tensor],
    device: str | torch.device | None = None,
    non_blocking: bool = False,
    channels_last: bool = False,
    **kwargs: object,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(image, target)`` on ``device`` for MONAI's engines (``target``: allowed classes, (B, K))."""
    image = batchdata["image"].to(device, non_blocking=non_blocking)
    if channels_last:
        image = image.contiguous(memory_format=torch.channels_last)
    return image, batchdata["target"].to(device, non_blocking=non_blocking)
