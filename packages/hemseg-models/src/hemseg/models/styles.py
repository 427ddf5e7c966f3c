"""Feature-style mixing: training a classifier whose early features do not rest on one lab's look."""

from __future__ import annotations

import torch
from torch import nn


class MixStyle(nn.Module):
    """MixStyle (Zhou et al., ICLR 2021): per-channel feature statistics mixed between samples.

    In training, with probability ``p`` per batch, each sample's features are standardised per
    channel and given the mean and standard deviation of a mix of its own and another sample's
    (drawn from the batch; weights from Beta(``alpha``, ``alpha``)). The "style" of a photo — how
    strongly each early filter answers its stain, contrast and sharpness — thus changes while its
    content stays. In eval mode it is the identity, so the trained network is unchanged at inference.

    Args:
        p: probability of mixing a batch.
        alpha: Beta distribution parameter (0.1: mostly near one of the two samples' styles).
        eps: added to the variance.
    """

    def __init__(self, p: float = 0.5, alpha: float = 0.1, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = p
        self.beta = torch.distributions.Beta(alpha, alpha)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mix the styles of ``x`` (B, C, H, W) in training; return it unchanged otherwise."""
        if not self.training or len(x) < 2 or torch.rand(()) >= self.p:
            return x
        mean = x.mean(dim=(2, 3), keepdim=True).detach()
        std = (x.var(dim=(2, 3), keepdim=True) + self.eps).sqrt().detach()
        weight = self.beta.sample((len(x), 1, 1, 1)).to(x)
        other = torch.randperm(len(x), device=x.device)
        mixed_mean = weight * mean + (1 - weight) * mean[other]
        mixed_std = weight * std + (1 - weight) * std[other]
        return (x - mean) / std * mixed_std + mixed_mean

    def hook(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        """Forward hook: the hooked module's output, styles mixed."""
        return self(output)


def mix_styles(network: nn.Module, layers: tuple[str, ...], p: float, alpha: float = 0.1) -> nn.Module:
    """Mix feature styles (:class:`MixStyle`) after each named submodule of ``network``; return it.

    The mixers are parameter-free children of ``network`` attached by forward hooks, so its
    ``state_dict`` and its eval-mode outputs (and an ONNX export) are those of the plain network.

    Raises:
        AttributeError: a name in ``layers`` is not a submodule of ``network``.
    """
    network.style_mixers = nn.ModuleList()
    for name in layers:
        mixer = MixStyle(p, alpha)
        network.get_submodule(name).register_forward_hook(mixer.hook)
        network.style_mixers.append(mixer)
    return network
