"""Network factories (MONAI networks, no pretrained weights: nothing is downloaded)."""

from __future__ import annotations

from monai.networks.nets import FlexibleUNet


def segmentation_network(
    out_channels: int = 3,
    backbone: str = "efficientnet-b0",
    in_channels: int = 3,
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
) -> FlexibleUNet:
    """Build the paper's segmentation network, one output logit per structure.

    An encoder from MONAI's backbone registry and a U-Net decoder with skip connections
    (``FlexibleUNet``), randomly initialised.

    Give it inputs whose sides are multiples of 32 (MONAI ``DivisiblePad``, or 256-pixel sliding
    windows): FlexibleUNet's own padding returns an odd side one pixel short (230 x 307 -> 230 x 306).
    """
    return FlexibleUNet(
        in_channels=in_channels,
        out_channels=out_channels,
        backbone=backbone,
        pretrained=False,
        decoder_channels=decoder_channels,
        spatial_dims=2,
        is_pad=True,
    )
