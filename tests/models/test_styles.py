from __future__ import annotations

import copy

import pytest
import torch

from hemseg.models import classification_network
from hemseg.models.styles import MixStyle, mix_styles


def _styled(mean: float, std: float) -> torch.Tensor:
    """(1, 2, 16, 16) features, both channels standardised exactly, then given ``mean`` and ``std``."""
    x = torch.randn(1, 2, 16, 16)
    x = (x - x.mean(dim=(2, 3), keepdim=True)) / x.std(dim=(2, 3), keepdim=True)
    return x * std + mean


def test_mixstyle_swaps_towards_the_other_samples_style_and_keeps_the_content():
    torch.manual_seed(0)
    x = torch.cat([_styled(0.0, 1.0), _styled(5.0, 3.0)])
    mixer = MixStyle(p=1.0, alpha=0.1).train()
    mixed = [mixer(x) for _ in range(20)]
    swapped = 0
    for out in mixed:
        mean, std = out.mean(dim=(2, 3)), out.std(dim=(2, 3))
        # each sample's style lies between the two styles, with one weight for mean and std
        weight_mean = (mean - torch.tensor([[5.0], [0.0]])) / torch.tensor([[-5.0], [5.0]])
        weight_std = (std - torch.tensor([[3.0], [1.0]])) / torch.tensor([[-2.0], [2.0]])
        torch.testing.assert_close(weight_mean, weight_std, atol=1e-3, rtol=0)
        assert bool(((weight_mean > -1e-4) & (weight_mean < 1 + 1e-4)).all())
        swapped += int(weight_mean[0, 0] < 0.5)
        # the content (the standardised features) is unchanged
        standardised = (out - mean[..., None, None]) / std[..., None, None]
        reference = (x - x.mean(dim=(2, 3), keepdim=True)) / x.std(dim=(2, 3), keepdim=True)
        torch.testing.assert_close(standardised, reference, atol=1e-3, rtol=0)
    assert 0 < swapped < 20  # the partner is drawn: sometimes itself, sometimes the other sample
    assert torch.equal(mixer.eval()(x), x)
    assert torch.equal(MixStyle(p=0.0).train()(x), x)


def test_style_mixing_changes_training_only_and_not_the_weights_or_inference():
    torch.manual_seed(0)
    plain = classification_network(9, 4, colour_norm="slide").eval()
    mixing = classification_network(9, 4, colour_norm="slide", style_mixing=1.0)
    assert mixing.state_dict().keys() == plain.state_dict().keys()
    mixing.load_state_dict(plain.state_dict())
    x = torch.rand(4, 4, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(mixing.eval()(x), plain(x))
        copied = copy.deepcopy(mixing).train()  # a copy's mixers follow the copy's mode
        assert mixing.network.style_mixers[0].training is False
        assert copied.network.style_mixers[0].training is True
        features = {}
        for name, net in (("plain", copy.deepcopy(plain).train()), ("mixing", copied)):
            net.network._blocks[0].register_forward_hook(lambda m, i, o, name=name: features.__setitem__(name, o))
            net(x)
        assert not torch.allclose(features["mixing"], features["plain"])


def test_style_mixing_names_layers_that_exist():
    with pytest.raises(AttributeError):
        mix_styles(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1)), ("_blocks.0",), 0.5)
