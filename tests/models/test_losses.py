from __future__ import annotations

import pytest
import torch
from monai.losses import DiceCELoss

from hemseg.models import (
    UNKNOWN,
    MaskedDiceCELoss,
    PartialLabelCELoss,
    known_structures_output,
    mark_unknown,
    partial_label_output,
)


def test_unknown_channels_do_not_change_the_loss_or_get_gradients():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    target = (torch.rand(2, 3, 16, 16) > 0.5).float()
    known = torch.tensor([[1, 1, 0], [1, 0, 0]])
    loss = MaskedDiceCELoss()(logits, mark_unknown(target, known))
    single = DiceCELoss(sigmoid=True, batch=True)
    expected = (2 * single(logits[:, :1], target[:, :1]) + single(logits[:1, 1:2], target[:1, 1:2])) / 3
    assert torch.allclose(loss, expected)
    loss.backward()
    assert logits.grad[:, 2].abs().sum() == 0 and logits.grad[1, 1].abs().sum() == 0
    assert logits.grad[0, 1].abs().sum() > 0


def test_unknown_pixels_get_no_gradient_and_leave_dice_to_the_known_ones():
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 8, 8, requires_grad=True)
    target = (torch.rand(2, 1, 8, 8) > 0.5).float()
    doubtful = torch.rand(2, 1, 8, 8) > 0.7
    marked = torch.where(doubtful, torch.full_like(target, UNKNOWN), target)
    MaskedDiceCELoss()(logits, marked).backward()
    assert logits.grad[doubtful].abs().sum() == 0 and logits.grad[~doubtful].abs().min() > 0
    # Dice over the batch: exactly the Dice of the known pixels alone
    dice = MaskedDiceCELoss(lambda_ce=0.0)(logits, marked)
    known = ~doubtful
    expected = DiceCELoss(sigmoid=True, batch=True, lambda_ce=0.0)(logits[known][None, None], target[known][None, None])
    assert torch.allclose(dice, expected, atol=1e-6)
    # BCE: the known pixels' sum, averaged over every pixel
    bce = MaskedDiceCELoss(lambda_dice=0.0)(logits, marked)
    summed = torch.nn.functional.binary_cross_entropy_with_logits(logits[known], target[known], reduction="sum")
    assert torch.allclose(bce, summed / logits.numel(), atol=1e-6)


def test_nothing_known_gives_zero_loss_and_zero_gradient():
    logits = torch.randn(1, 2, 4, 4, requires_grad=True)
    loss = MaskedDiceCELoss()(logits, torch.full((1, 2, 4, 4), UNKNOWN))
    assert loss.item() == 0.0
    loss.backward()  # still part of the graph: a batch of unannotated samples steps nothing
    assert logits.grad is not None and logits.grad.shape == logits.shape
    assert torch.count_nonzero(logits.grad) == 0


def test_metric_output_empties_unknown_channels():
    pred = torch.ones(3, 4, 4)
    label = torch.stack([torch.ones(4, 4), torch.full((4, 4), UNKNOWN), torch.zeros(4, 4)])
    (p,), (y,) = known_structures_output([{"pred": pred, "label": label}])
    assert p[1].sum() == 0 and y[1].sum() == 0
    assert p[0].sum() == 16 and p[2].sum() == 16 and y[2].sum() == 0


def test_partial_label_loss_is_cross_entropy_for_one_class_and_set_likelihood_otherwise():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    one = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2]))
    assert torch.allclose(PartialLabelCELoss()(logits, one), expected)
    allowed = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    p = torch.softmax(logits, dim=1)
    expected = -torch.log(p[:, 0] + p[:, 1]).mean()
    assert torch.allclose(PartialLabelCELoss()(logits, allowed), expected)
    everything = torch.ones(2, 3)
    assert float(PartialLabelCELoss()(logits, everything)) < 1e-6  # a label allowing all classes teaches nothing


def test_partial_label_loss_rejects_empty_targets_and_smooths():
    logits = torch.zeros(1, 4)
    with pytest.raises(ValueError, match="at least one class"):
        PartialLabelCELoss()(logits, torch.zeros(1, 4))
    target = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    smoothed = PartialLabelCELoss(label_smoothing=0.1)(logits, target)
    assert torch.allclose(smoothed, torch.log(torch.tensor(4.0)))  # uniform logits: every term is log 4


def test_partial_label_output_counts_any_allowed_class_as_right():
    output = [
        {"pred": torch.tensor([0.1, 2.0, 0.0]), "label": torch.tensor([1.0, 1.0, 0.0])},  # allowed: right
        {"pred": torch.tensor([0.1, 0.0, 2.0]), "label": torch.tensor([1.0, 1.0, 0.0])},  # not allowed
        {"pred": torch.tensor([3.0, 0.0, 0.0]), "label": torch.tensor([1.0, 0.0, 0.0])},
    ]
    logits, reference = partial_label_output(output)
    assert logits.shape == (3, 3)
    assert reference.tolist() == [1, 0, 0]
    assert (logits.argmax(dim=1) == reference).tolist() == [True, False, True]
