"""Network factories (MONAI networks, no pretrained weights: nothing is downloaded)."""

from __future__ import annotations

import torch
from monai.networks.nets import BasicUNet, EfficientNetBN, FlexibleUNet
from torch import nn

import hemseg.models.encoders  # noqa: F401 - registers hemseg-vgg16 and hemseg-resnet34 with FlexibleUNet
from hemseg.models.styles import mix_styles

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
    colour_norm: str = "none",
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

    ``colour_norm`` (one of :data:`COLOUR_NORMS`, as for :func:`classification_network`) puts a
    parameter-free colour normalisation of each input window in front of the network; ``"none"``
    (shipped) keeps the state-dict keys of the plain network.

    Raises:
        ValueError: ``colour_norm`` is not one of :data:`COLOUR_NORMS`.
    """
    _check_colour_norm(colour_norm)
    if backbone == PLAIN_UNET:
        network = BasicUNet(spatial_dims=2, in_channels=in_channels, out_channels=out_channels)
    else:
        network = FlexibleUNet(
            in_channels=in_channels,
            out_channels=out_channels,
            backbone=backbone,
            pretrained=False,
            decoder_channels=decoder_channels,
            spatial_dims=2,
            is_pad=True,
        )
    return _colour_normalised(_set_bn_momentum(network, bn_momentum), colour_norm, in_channels)


#: The normalisation layers :func:`classification_network` can build its EfficientNet with.
CLASSIFIER_NORMS = ("batch", "group")
#: Where ``style_mixing`` mixes the EfficientNet's feature styles: after the stem's normalisation and
#: the first three stages, whose statistics carry most of the cross-lab loss (docs/benchmarks.md).
STYLE_MIXED_LAYERS = ("_bn0", "_blocks.0", "_blocks.1", "_blocks.2")


def classification_network(
    num_classes: int = 9,
    in_channels: int = 4,
    model_name: str = "efficientnet-b0",
    bn_momentum: float = 0.1,
    colour_norm: str = "none",
    norm: str = "batch",
    style_mixing: float = 0.0,
    input_zoom: float = 1.0,
) -> nn.Module:
    """Build the cell classifier: MONAI ``EfficientNetBN``, randomly initialised, one logit per class.

    The input is a cell patch: RGB plus the cell's mask (see :func:`hemseg.postproc.cell_patch`),
    values in [0, 1]. ``bn_momentum`` as in :func:`segmentation_network`. ``colour_norm`` (one of
    :data:`COLOUR_NORMS`) puts a parameter-free colour normalisation in front of the network, so
    that a per-channel gain of the photo (white balance, exposure) no longer reaches it:
    ``"instance"`` (:class:`ColourStandardised`) also removes offsets but stretches a blurred
    patch's contrast; ``"slide"`` (:class:`SlideReferenced`) divides by the slide's colour only;
    ``"grey"`` (:class:`SlideGrey`) does so and keeps only the luma (no hue).
    ``norm`` (one of :data:`CLASSIFIER_NORMS`) is the EfficientNet's normalisation layer:
    ``"batch"``, or ``"group"`` (8 groups per layer), whose statistics come from each patch alone,
    so a photo unlike the training photos is not normalised with the training photos' statistics.
    ``style_mixing`` > 0 mixes feature styles in training (:func:`hemseg.models.styles.mix_styles`,
    with this probability per batch) after the stem and the first three stages
    (:data:`STYLE_MIXED_LAYERS`); the weights and the eval-mode network are those without it.
    ``input_zoom`` > 1 enlarges the (normalised) patch by this factor, bilinearly, before the
    EfficientNet (:class:`InputZoom`): the same patch, seen through more pixels of the network's
    stride-2 stages, at ``input_zoom`` squared the compute. It holds no parameters, so weights
    trained at one zoom load at another.

    Raises:
        ValueError: ``colour_norm`` is not one of :data:`COLOUR_NORMS` or ``norm`` not one of
            :data:`CLASSIFIER_NORMS`.
    """
    _check_colour_norm(colour_norm)
    if norm not in CLASSIFIER_NORMS:
        raise ValueError(f"norm must be one of {', '.join(CLASSIFIER_NORMS)}; got {norm!r}")
    network = EfficientNetBN(
        model_name,
        pretrained=False,
        spatial_dims=2,
        in_channels=in_channels,
        num_classes=num_classes,
        norm=("batch", {"eps": 1e-3, "momentum": bn_momentum})
        if norm == "batch"
        else ("group", {"num_groups": 8, "eps": 1e-3}),
    )
    network = _set_bn_momentum(network, bn_momentum)
    if input_zoom != 1.0:
        network.register_forward_pre_hook(InputZoom(input_zoom))
    if style_mixing > 0:
        network = mix_styles(network, STYLE_MIXED_LAYERS, style_mixing)
    return _colour_normalised(network, colour_norm, 3)  # RGB; the cell mask passes unchanged


class InputZoom:
    """A forward pre-hook that enlarges a network's input (B, C, H, W) by ``factor``, bilinearly.

    A hook, not a wrapping module, so that the network's state-dict keys stay those without it.
    """

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, module: nn.Module, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The input, enlarged; further arguments unchanged."""
        zoomed = nn.functional.interpolate(args[0], scale_factor=self.factor, mode="bilinear", align_corners=False)
        return (zoomed, *args[1:])


class ColourNormalised(nn.Module):
    """A network whose input's leading colour channels are first normalised per image and channel.

    Further channels (the cell mask) pass unchanged. Subclasses define :meth:`normalise`.

    Args:
        network: the network that gets the normalised input.
        colour_channels: how many leading channels hold colour.
    """

    def __init__(self, network: nn.Module, colour_channels: int = 3) -> None:
        super().__init__()
        self.colour_channels = colour_channels
        self.network = network

    def normalise(self, colour: torch.Tensor) -> torch.Tensor:
        """The normalised colour channels (B, colour_channels, H, W)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the colour channels of ``x`` (B, C, H, W), then run the network."""
        colour = self.normalise(x[:, : self.colour_channels])
        return self.network(torch.cat([colour, x[:, self.colour_channels :]], dim=1))


class ColourStandardised(ColourNormalised):
    """Colour channels shifted and scaled to mean 0 and standard deviation 1 per image and channel.

    ``torch.nn.InstanceNorm2d`` without parameters: a per-channel linear colour change of the photo
    gives the same input to the network. A blurred patch's lost contrast is stretched back as well.
    """

    def __init__(self, network: nn.Module, colour_channels: int = 3) -> None:
        super().__init__(network, colour_channels)
        self.standardise = nn.InstanceNorm2d(colour_channels, eps=1e-3)

    def normalise(self, colour: torch.Tensor) -> torch.Tensor:
        """Mean 0, standard deviation 1 per image and channel."""
        return self.standardise(colour)


class SlideReferenced(ColourNormalised):
    """Colour channels divided by the slide's colour, the mean of each channel's brightest pixels.

    A per-channel gain of the photo (white balance, exposure) gives the same input to the network;
    contrast is kept, so a blurred patch stays a blurred patch, and a blur leaves the bright
    background, the reference, nearly unchanged.

    Args:
        network: the network that gets the normalised input.
        colour_channels: how many leading channels hold colour.
        bright_fraction: the share of each channel's pixels, the brightest, whose mean is the reference.
    """

    def __init__(self, network: nn.Module, colour_channels: int = 3, bright_fraction: float = 0.1) -> None:
        super().__init__(network, colour_channels)
        self.bright_fraction = bright_fraction

    def normalise(self, colour: torch.Tensor) -> torch.Tensor:
        """Each channel over the mean of its brightest ``bright_fraction`` of pixels."""
        pixels = colour.flatten(2)
        # int(), not round(): under ONNX export the pixel count is a tensor, and the count is fixed by
        # the exported patch size
        brightest = max(1, int(self.bright_fraction * pixels.shape[2] + 0.5))
        reference = pixels.topk(brightest, dim=2).values.mean(dim=2).clamp_min(1e-3)
        return colour / reference[..., None, None]


class SlideGrey(SlideReferenced):
    """Colour referenced to the slide (:class:`SlideReferenced`), then reduced to its luma in every channel.

    The network sees brightness and texture only: a stain's hue no longer reaches it. The luma
    weights are ITU-R BT.601's. Measured leaving one source out (docs/benchmarks.md): not shipped.
    """

    def __init__(self, network: nn.Module, colour_channels: int = 3, bright_fraction: float = 0.1) -> None:
        super().__init__(network, colour_channels, bright_fraction)
        self.register_buffer("luma", torch.tensor([0.299, 0.587, 0.114])[:colour_channels], persistent=False)

    def normalise(self, colour: torch.Tensor) -> torch.Tensor:
        """The slide-referenced luma, repeated in each colour channel."""
        referenced = super().normalise(colour)
        grey = (referenced * self.luma[:, None, None]).sum(dim=1, keepdim=True) / self.luma.sum()
        return grey.expand_as(referenced)


#: The wrapper of each ``colour_norm`` option of :func:`classification_network` (None: no wrapper).
_COLOUR_NORM_WRAPPERS: dict[str, type[ColourNormalised] | None] = {
    "none": None,
    "instance": ColourStandardised,
    "slide": SlideReferenced,
    "grey": SlideGrey,
}
#: How :func:`classification_network` may normalise each patch's colour before the EfficientNet:
#: not at all, per channel to mean 0 and standard deviation 1 (:class:`ColourStandardised`), per
#: channel by the patch's brightest pixels, the slide (:class:`SlideReferenced`), or that and then
#: to grey (:class:`SlideGrey`).
COLOUR_NORMS = tuple(_COLOUR_NORM_WRAPPERS)


def _check_colour_norm(colour_norm: str) -> None:
    if colour_norm not in COLOUR_NORMS:
        raise ValueError(f"colour_norm must be one of {', '.join(COLOUR_NORMS)}; got {colour_norm!r}")


def _colour_normalised(network: nn.Module, colour_norm: str, colour_channels: int) -> nn.Module:
    """``network`` behind the ``colour_norm`` wrapper of its first ``colour_channels`` input channels."""
    wrapper = _COLOUR_NORM_WRAPPERS[colour_norm]
    return wrapper(network, colour_channels) if wrapper is not None else network


def _set_bn_momentum(network: nn.Module, momentum: float) -> nn.Module:
    for module in network.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = momentum
    return network
