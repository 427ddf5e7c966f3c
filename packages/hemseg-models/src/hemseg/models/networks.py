"""Network factories (MONAI networks, no pretrained weights: nothing is downloaded)."""

from __future__ import annotations

import torch
from monai.networks.nets import BasicUNet, EfficientNetBN, FlexibleUNet
from torch import nn

import hemseg.models.encoders  # noqa: F401 - registers hemseg-vgg16 and hemseg-resnet34 with FlexibleUNet

#: The plain U-Net baseline's name (MONAI ``BasicUNet``); any other name is a FlexibleUNet backbone.
PLAIN_UNET = "basic-unet"
#: The four architectures of the paper's comparison, by ``segmentation_network`` backbone name.
ARCHITECTURES: dict[str, str] = {
    "U-Net": PLAIN_UNET,
    "VGG16 + U-Net": "hemseg-vgg16",
    "ResNet34 + U-Net": "hemseg-resnet34",
    "EfficientNet-B0 + U-Net": "efficientnet-b0",
}


def segmentation_network(
    out_channels: int = 3,
    backbone: str = "efficientnet-b0",
    in_channels: int = 3,
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
    bn_momentum: float = 0.1,
) -> nn.Module:
    """Build the paper's segmentation network, one output logit per structure.

    An encoder from MONAI's backbone registry and a U-Net decoder with skip connections
    (``FlexibleUNet``), randomly initialised. ``backbone`` names the encoder: ``efficientnet-b0``
    (the paper's), ``hemseg-vgg16``, ``hemseg-resnet34`` (:mod:`hemseg.models.encoders`), any other
    registered one, or ``basic-unet`` for the plain U-Net baseline (MONAI ``BasicUNet``, features
    32/32/64/128/256; ``decoder_channels`` does not apply).

    Give it inputs whose sides are multiples of 32 (MONAI ``DivisiblePad``, or 256-pixel sliding
    windows): FlexibleUNet's own padding returns an odd side one pixel short (230 x 307 -> 230 x 306).

    ``bn_momentum`` is set on every batch-norm layer: MONAI's EfficientNet encoder uses 0.01 (the
    TensorFlow default), with which the running statistics lag so far behind a short from-scratch
    training that the network in eval mode predicts nothing (measured: validation Dice 0.0 after
    60 steps, while the same weights in train mode reached a loss of 0.1).
    """
    if backbone == PLAIN_UNET:
        network = BasicUNet(spatial_dims=2, in_channels=in_channels, out_channels=out_channels)
        return _set_bn_momentum(network, bn_momentum)
    network = FlexibleUNet(
        in_channels=in_channels,
        out_channels=out_channels,
        backbone=backbone,
        pretrained=False,
        decoder_channels=decoder_channels,
        spatial_dims=2,
        is_pad=True,
    )
    return _set_bn_momentum(network, bn_momentum)


def classification_network(
    num_classes: int = 9,
    in_channels: int = 4,
    model_name: str = "efficientnet-b0",
    bn_momentum: float = 0.1,
    standardise_colour: bool = False,
) -> nn.Module:
    """Build the cell classifier: MONAI ``EfficientNetBN``, randomly initialised, one logit per class.

    The input is a cell patch: RGB plus the cell's mask (see :func:`hemseg.postproc.cell_patch`),
    values in [0, 1]. ``bn_momentum`` as in :func:`segmentation_network`. With
    ``standardise_colour`` the network first standardises each patch's colour channels
    (:class:`ColourStandardised`), so that a per-channel gain or offset of the photo (white balance,
    exposure) no longer reaches it.

    Raises:
        TypeError: ``standardise_colour`` is not a bool (a bundle override written ``true`` on the
            command line arrives as the string ``'true'``; write ``True``).
    """
    if not isinstance(standardise_colour, bool):
        raise TypeError(f"standardise_colour must be True or False, got {standardise_colour!r}")
    network = EfficientNetBN(
        model_name,
        pretrained=False,
        spatial_dims=2,
        in_channels=in_channels,
        num_classes=num_classes,
        norm=("batch", {"eps": 1e-3, "momentum": bn_momentum}),
    )
    network = _set_bn_momentum(network, bn_momentum)
    return ColourStandardised(network) if standardise_colour else network


class ColourStandardised(nn.Module):
    """A network whose input's colour channels are first standardised per image and channel.

    Each of the first ``colour_channels`` channels of each image is shifted and scaled to mean 0 and
    standard deviation 1 (``torch.nn.InstanceNorm2d`` without parameters); further channels (the
    cell mask) pass unchanged. A per-channel linear colour change of the photo therefore gives the
    same input to ``network``.

    Args:
        network: the network that gets the standardised input.
        colour_channels: how many leading channels hold colour.
    """

    def __init__(self, network: nn.Module, colour_channels: int = 3) -> None:
        super().__init__()
        self.colour_channels = colour_channels
        self.standardise = nn.InstanceNorm2d(colour_channels, eps=1e-3)
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Standardise the colour channels of ``x`` (B, C, H, W), then run the network."""
        colour = self.standardise(x[:, : self.colour_channels])
        return self.network(torch.cat([colour, x[:, self.colour_channels :]], dim=1))


def _set_bn_momentum(network: nn.Module, momentum: float) -> nn.Module:
    for module in network.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = momentum
    return network
