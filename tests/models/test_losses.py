from __future__ import annotations

import torch
from monai.losses import DiceCELoss

from hemseg.models import UNKNOWN, MaskedDiceCELoss, known_structures_output, mark_unknown


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


def test_nothing_known_gives_zero_loss():
    logits = torch.randn(1, 2, 4, 4, requires_grad=True)
    loss = MaskedDiceCELoss()(logits, torch.full((1, 2, 4, 4), UNKNOWN))
    assert loss.item() == 0.0
    loss.backward()


def test_metric_output_empties_unknown_channels():
    pred = torch.ones(3, 4, 4)
    label = torch.stack([torch.ones(4, 4), torch.full((4, 4), UNKNOWN), torch.zeros(4, 4)])
    (p,), (y,) = known_structures_output([{"pred": pred, "label": label}])
    assert p[1].sum() == 0 and y[1].sum() == 0
    assert p[0].sum() == 16 and p[2].sum() == 16 and y[2].sum() == 0
