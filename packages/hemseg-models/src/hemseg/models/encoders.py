"""Encoders added to MONAI ``FlexibleUNet``'s backbone registry: VGG16 and a ResNet34 that trains in 2D.

Importing this module registers them (``hemseg.models`` imports it), so
``FlexibleUNet(backbone="hemseg-vgg16")`` and ``FlexibleUNet(backbone="hemseg-resnet34")`` work.
Neither has pretrained weights (nothing is downloaded).
"""

from __future__ import annotations

import torch
from monai.networks.blocks import BaseEncoder
from monai.networks.layers.factories import Conv, Norm, Pool
from monai.networks.nets.flexible_unet import FLEXUNET_BACKBONE
from monai.networks.nets.resnet import ResNet, ResNetFeatures, get_inplanes
from torch import nn

#: VGG16's convolution blocks: output channels of each 3x3 convolution, a max-pool after each block.
VGG16_BLOCKS: tuple[tuple[int, ...], ...] = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


class VGG16Encoder(nn.Module, BaseEncoder):
    """VGG16 (with batch norm, as it is trained from scratch) as a 5-level FlexibleUNet encoder.

    The features after each of the five max-pools (strides 2 to 32, 64/128/256/512/512 channels)
    feed the U-Net decoder's skip connections.
    """

    def __init__(self, spatial_dims: int = 2, in_channels: int = 3, pretrained: bool = False) -> None:
        super().__init__()
        if pretrained:
            raise ValueError("no pretrained VGG16 weights are available (offline)")
        conv, norm, pool = Conv[Conv.CONV, spatial_dims], Norm[Norm.BATCH, spatial_dims], Pool[Pool.MAX, spatial_dims]
        self.blocks = nn.ModuleList()
        channels = in_channels
        for widths in VGG16_BLOCKS:
            layers: list[nn.Module] = []
            for width in widths:
                layers += [conv(channels, width, kernel_size=3, padding=1), norm(width), nn.ReLU(inplace=True)]
                channels = width
            layers.append(pool(kernel_size=2, stride=2))
            self.blocks.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five pooled feature maps, finest first."""
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features

    @classmethod
    def get_encoder_parameters(cls) -> list[dict]:
        """Constructor arguments per name (FlexibleUNet fills in dims, channels and ``pretrained``)."""
        return [{"spatial_dims": 2, "in_channels": 3, "pretrained": False}]

    @classmethod
    def num_channels_per_output(cls) -> list[tuple[int, ...]]:
        """Channels of the five feature maps."""
        return [tuple(block[-1] for block in VGG16_BLOCKS)]

    @classmethod
    def num_outputs(cls) -> list[int]:
        """Five feature maps."""
        return [5]

    @classmethod
    def get_encoder_names(cls) -> list[str]:
        """The registry name."""
        return ["hemseg-vgg16"]


class ResNet34Encoder(ResNetFeatures, BaseEncoder):
    """ResNet34 as a FlexibleUNet encoder, with projection shortcuts (type B).

    MONAI's ``resnet34`` backbone uses type-A shortcuts, whose downsampling path concatenates
    ``out.data`` with zeros: no gradient flows back through those shortcuts
    (``tests/models/test_encoders.py`` shows it). Here the downsampling shortcuts are 1x1
    convolution + batch norm, as in the original ResNet-34 ('B'); the features are those of
    :class:`monai.networks.nets.resnet.ResNetFeatures` (strides 2 to 32, 64/64/128/256/512 channels).
    """

    def __init__(
        self, model_name: str = "resnet34", pretrained: bool = False, spatial_dims: int = 2, in_channels: int = 3
    ):
        if pretrained:
            raise ValueError("no pretrained ResNet34 weights are available (offline)")
        ResNet.__init__(
            self,
            block="basic",
            layers=[3, 4, 6, 3],
            block_inplanes=get_inplanes(),
            spatial_dims=spatial_dims,
            n_input_channels=in_channels,
            conv1_t_stride=2,
            shortcut_type="B",
            feed_forward=False,
            bias_downsample=False,
        )

    @classmethod
    def get_encoder_parameters(cls) -> list[dict]:
        """Constructor arguments per name."""
        return [{"model_name": "resnet34", "pretrained": False, "spatial_dims": 2, "in_channels": 3}]

    @classmethod
    def num_channels_per_output(cls) -> list[tuple[int, ...]]:
        """Channels of the five feature maps."""
        return [(64, 64, 128, 256, 512)]

    @classmethod
    def num_outputs(cls) -> list[int]:
        """Five feature maps."""
        return [5]

    @classmethod
    def get_encoder_names(cls) -> list[str]:
        """The registry name."""
        return ["hemseg-resnet34"]


for _encoder in (VGG16Encoder, ResNet34Encoder):
    if _encoder.get_encoder_names()[0] not in FLEXUNET_BACKBONE.register_dict:
        FLEXUNET_BACKBONE.register_class(_encoder)
