"""Array transforms for blood-smear images (channel-first, MONAI conventions).

Each has a dictionary counterpart in :mod:`hemseg.data.transforms.dictionary`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from monai.config import NdarrayOrTensor
from monai.data import get_track_meta
from monai.transforms import GaussianSmooth, RandGaussianSmooth, RandomizableTransform, Transform, Zoom
from monai.utils import convert_to_dst_type, convert_to_numpy, convert_to_tensor


def _unit_divisor(array: np.ndarray) -> float:
    """Value that maps the array's full range to 1: 255 for 8-bit data, 65535 for 16-bit data."""
    if array.dtype == np.uint8:
        return 255.0
    peak = float(array.max()) if array.size else 0.0
    if np.issubdtype(array.dtype, np.floating) and peak <= 1.0:
        return 1.0
    return 255.0 if peak <= 255 else 65535.0


class NormalizeRGB(Transform):
    """Turn a loaded image of any common kind into float32 RGB in [0, 1], shape (3, H, W).

    Grayscale (1 channel) is repeated to 3 channels; a 2nd (gray + alpha) or 4th (RGBA) alpha
    channel is dropped; 8-bit data is divided by 255 and 16-bit data by 65535.

    Raises:
        ValueError: the array is not channel-first 2D, or has more than 4 channels.

    """

    def __call__(self, img: NdarrayOrTensor) -> torch.Tensor:
        array = convert_to_numpy(img)
        if array.ndim != 3 or array.shape[0] not in (1, 2, 3, 4):
            raise ValueError(f"expected a channel-first 2D image with 1-4 channels, got shape {array.shape}")
        array = array[:1] if array.shape[0] <= 2 else array[:3]
        unit = np.clip(array.astype(np.float32) / _unit_divisor(array), 0.0, 1.0)
        if unit.shape[0] == 1:
            unit = np.repeat(unit, 3, axis=0)
        return convert_to_tensor(np.ascontiguousarray(unit), track_meta=False)


class StructureMasks(Transform):
    """Read per-structure binary masks into one target with a per-channel "known" flag.

    A structure whose mask path is missing or None (the dataset does not annotate it, or this image
    has no such mask) gets an all-zero channel and ``known = 0``, so that a loss can ignore it. Mask
    pixels that are not known (pseudo-labels, :func:`hemseg.data.read_label`) hold
    :data:`hemseg.data.masks.UNKNOWN` (-1).

    Args:
        structures: channel order, e.g. ``("wbc", "nucleus", "rbc")``.

    """

    def __init__(self, structures: tuple[str, ...]) -> None:
        self.structures = tuple(structures)

    def __call__(
        self, masks: Mapping[str, str | Path | None], spatial_shape: tuple[int, int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(label, known)``: float32 tensors of shapes (C, H, W) and (C,).

        Raises:
            ValueError: a mask cannot be read or its size differs from ``spatial_shape``.

        """
        from hemseg.data.masks import read_label

        label = np.zeros((len(self.structures), *spatial_shape), dtype=np.float32)
        known = np.zeros(len(self.structures), dtype=np.float32)
        for channel, structure in enumerate(self.structures):
            path = masks.get(structure)
            if path is None:
                continue
            mask = read_label(path)
            if mask.shape != tuple(spatial_shape):
                raise ValueError(f"{path}: mask is {mask.shape}, image is {tuple(spatial_shape)}")
            label[channel] = mask
            known[channel] = 1.0
        return torch.from_numpy(label), torch.from_numpy(known)


class ScaleToCellSize(Transform):
    """Zoom an image so that red cells measure ``target_px`` pixels across.

    Args:
        target_px: red-cell diameter at the network's input.
        mode: interpolation ("area" for images, "nearest" for masks).

    """

    def __init__(self, target_px: float, mode: str = "area") -> None:
        if target_px <= 0:
            raise ValueError(f"target_px must be positive, got {target_px}")
        self.target_px = float(target_px)
        self.mode = mode

    def __call__(self, img: NdarrayOrTensor, source_px: float | None, mode: str | None = None) -> NdarrayOrTensor:
        """Zoom by ``target_px / source_px``; ``source_px`` None leaves the image as it is."""
        if source_px is None:
            return img
        if source_px <= 0:
            raise ValueError(f"source_px must be positive, got {source_px}")
        zoom = self.target_px / float(source_px)
        return Zoom(zoom, mode=mode or self.mode, keep_size=False)(img)


class HEDAdjust(Transform):
    """Change the amounts of haematoxylin, eosin and DAB in an RGB image (stain-space colour change).

    The image is turned into optical density and unmixed into stain amounts with the HED matrix
    (Ruifrok and Johnston, as in scikit-image); each stain amount ``s`` becomes ``s * a + b`` per
    stain, then the image is mixed back. Input and output are RGB in [0, 1], shape (3, H, W);
    ``scale = (1, 1, 1)`` and ``shift = (0, 0, 0)`` give the image back unchanged.

    Args:
        scale: factors ``a`` for haematoxylin, eosin and DAB.
        shift: offsets ``b`` in optical-density units, same order.
    """

    def __init__(self, scale=(1.0, 1.0, 1.0), shift=(0.0, 0.0, 0.0)) -> None:
        self.scale = np.asarray(scale, dtype=np.float64)
        self.shift = np.asarray(shift, dtype=np.float64)

    def __call__(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        from skimage.color import hed_from_rgb, rgb_from_hed

        rgb = np.moveaxis(convert_to_numpy(img).astype(np.float64), 0, -1)
        optical_density = -np.log(np.clip(rgb, 1e-6, 1.0))
        stains = optical_density @ hed_from_rgb * self.scale + self.shift
        out = np.clip(np.exp(-(stains @ rgb_from_hed)), 0.0, 1.0).astype(np.float32)
        return convert_to_tensor(np.ascontiguousarray(np.moveaxis(out, -1, 0)), track_meta=False)


class RandHEDJitter(RandomizableTransform):
    """Random stain jitter in haematoxylin-eosin-DAB space (Tellez et al., 2018).

    :class:`HEDAdjust` with ``a ~ U(1 - scale, 1 + scale)`` and ``b ~ U(-shift, shift)`` drawn per
    stain (optical-density units). Input and output are RGB in [0, 1], shape (3, H, W); with
    ``scale = shift = 0`` the image comes back unchanged.
    """

    def __init__(self, scale: float = 0.05, shift: float = 0.05, prob: float = 0.5) -> None:
        RandomizableTransform.__init__(self, prob)
        self.scale = scale
        self.shift = shift
        self._alpha = np.ones(3)
        self._beta = np.zeros(3)

    def randomize(self, data: object = None) -> None:
        """Draw whether to apply and the per-stain factors."""
        super().randomize(None)
        if self._do_transform:
            self._alpha = self.R.uniform(1 - self.scale, 1 + self.scale, 3)
            self._beta = self.R.uniform(-self.shift, self.shift, 3)

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> NdarrayOrTensor:
        if randomize:
            self.randomize()
        if not self._do_transform:
            return img
        return HEDAdjust(self._alpha, self._beta)(img)


class StainAmount(Transform):
    """Scale the amount of stain in an RGB image, the bare slide's colour kept.

    A pixel of colour ``c`` on a slide of colour ``s`` (:func:`slide_colour`) becomes
    ``s * (c / s) ** factor``: its optical density over the slide is multiplied by ``factor`` in
    every channel, so each stained structure keeps its hue and gets ``factor`` times as much
    stain, as a thinner smear or a shorter stain would have (BCCD's nuclei differ from the other
    sources' this way: docs/benchmarks.md, "Stain amount"). Input and output are RGB in [0, 1],
    shape (3, H, W); ``factor = 1`` gives the image back.
    """

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor

    def __call__(self, img: NdarrayOrTensor) -> torch.Tensor:
        image = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        slide = torch.as_tensor(slide_colour(image), dtype=torch.float32).clamp_min(1e-3)[:, None, None]
        return (slide * (image / slide).clamp_min(1e-4) ** self.factor).clamp(0.0, 1.0)


class RandStainAmount(RandomizableTransform):
    """Random amount of stain: :class:`StainAmount` with a factor drawn log-uniformly in ``factors``.

    The default range, a fifth to twice the stain, spans the nuclei of the sources measured:
    ``bccd``'s hold about 40 % of ``pbc``'s optical density, ``jtsc_wbc``'s about 1.3 times it.
    """

    def __init__(self, factors: tuple[float, float] = (0.2, 2.0), prob: float = 0.5) -> None:
        RandomizableTransform.__init__(self, prob)
        if not 0 < factors[0] <= factors[1]:
            raise ValueError(f"factors must be positive and ordered, not {factors}")
        self.factors = (float(factors[0]), float(factors[1]))
        self._factor = 1.0

    def randomize(self, data: object = None) -> None:
        """Draw whether to apply and the factor."""
        super().randomize(None)
        if self._do_transform:
            self._factor = math.exp(self.R.uniform(math.log(self.factors[0]), math.log(self.factors[1])))

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> NdarrayOrTensor:
        if randomize:
            self.randomize()
        if not self._do_transform:
            return img
        return StainAmount(self._factor)(img)


class RandConvolution(RandomizableTransform):
    """Random convolution of the colour channels (RandConv; Xu et al., ICLR 2021).

    A convolution of a kernel size drawn from ``kernel_sizes``, RGB in and out, with weights drawn
    from N(0, 1 / (3 k²)), changes the photo's colours, local contrast and sharpness at once while
    the cells keep their shapes: another "look" in every draw. Each output channel is brought to its
    input channel's mean and standard deviation, the result is blended with the input by a share
    drawn in [0, ``mix``] and clipped to [0, 1]. Input and output are RGB in [0, 1], shape (3, H, W).
    """

    def __init__(self, kernel_sizes: tuple[int, ...] = (1, 3), mix: float = 1.0, prob: float = 0.5) -> None:
        RandomizableTransform.__init__(self, prob)
        if any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"kernel sizes must be odd and positive, not {kernel_sizes}")
        self.kernel_sizes = tuple(kernel_sizes)
        self.mix = mix
        self._kernel = torch.zeros(3, 3, 1, 1)
        self._share = 0.0

    def randomize(self, data: object = None) -> None:
        """Draw whether to apply, the kernel and the blend share."""
        super().randomize(None)
        if self._do_transform:
            size = int(self.R.choice(self.kernel_sizes))
            weights = self.R.normal(0.0, 1.0 / math.sqrt(3 * size * size), (3, 3, size, size))
            self._kernel = torch.as_tensor(weights, dtype=torch.float32)
            self._share = float(self.R.uniform(0.0, self.mix))

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> torch.Tensor:
        if randomize:
            self.randomize()
        image = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        if not self._do_transform:
            return image
        size = self._kernel.shape[-1]
        padded = torch.nn.functional.pad(image[None], [size // 2] * 4, mode="reflect") if size > 1 else image[None]
        out = torch.nn.functional.conv2d(padded, self._kernel)[0]
        mean, std = image.mean(dim=(1, 2), keepdim=True), image.std(dim=(1, 2), keepdim=True)
        out = (out - out.mean(dim=(1, 2), keepdim=True)) / (out.std(dim=(1, 2), keepdim=True) + 1e-6) * std + mean
        return (image + self._share * (out - image)).clamp(0.0, 1.0)


class EdgeGaussianSmooth(GaussianSmooth):
    """MONAI's ``GaussianSmooth`` with the image's edge pixels repeated beyond it instead of zeros.

    MONAI's filter pads with zeros, so a blurred image (or patch) gets a dark frame about
    ``3 * sigma`` pixels wide, darkest in the corners; a blurred camera gives none. Input and output
    are channel-first 2D, shape (C, H, W).
    """

    def __call__(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        image = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        # MONAI's kernel reaches 4 sigma (GaussianFilter's default truncation)
        margin = math.ceil(4.0 * float(np.max(np.asarray(self.sigma, dtype=float)))) + 1
        padded = torch.nn.functional.pad(image[None], (margin,) * 4, mode="replicate")[0]
        out = super().__call__(padded)[:, margin:-margin, margin:-margin]
        return convert_to_dst_type(out, dst=convert_to_tensor(img, track_meta=get_track_meta()), dtype=out.dtype)[0]


class RandEdgeGaussianSmooth(RandGaussianSmooth):
    """MONAI's ``RandGaussianSmooth`` (2D) through :class:`EdgeGaussianSmooth`: no dark frame."""

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> NdarrayOrTensor:
        if randomize:
            self.randomize()
        if not self._do_transform:
            return convert_to_tensor(img, track_meta=get_track_meta())
        return EdgeGaussianSmooth(sigma=(self.x, self.y), approx=self.approx)(img)


class UnsharpMask(Transform):
    """Sharpening: ``image + amount * (image - blur(image))``, the look of a sharper camera.

    The blur is :class:`EdgeGaussianSmooth` of ``sigma`` pixels (no dark frame). Input and output are
    RGB in [0, 1], shape (3, H, W).
    """

    def __init__(self, amount: float, sigma: float) -> None:
        self.amount = amount
        self.blur = EdgeGaussianSmooth(sigma)

    def __call__(self, img: NdarrayOrTensor) -> torch.Tensor:
        image = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        blurred = convert_to_tensor(self.blur(image), dtype=torch.float32, track_meta=False)
        return (image + self.amount * (image - blurred)).clamp(0.0, 1.0)


class RandUnsharpMask(RandomizableTransform):
    """Random :class:`UnsharpMask`: ``amount ~ U(0, amount)``, ``sigma ~ U(*sigma)`` pixels.

    The opposite of a defocus blur: a lab's photos can be sharper than the training sources' as well
    as blurrier. Input and output are RGB in [0, 1], shape (3, H, W).
    """

    def __init__(self, amount: float = 2.0, sigma: tuple[float, float] = (1.0, 2.0), prob: float = 0.2) -> None:
        RandomizableTransform.__init__(self, prob)
        self.amount = amount
        self.sigma = (float(sigma[0]), float(sigma[1]))
        self._draw = (0.0, self.sigma[0])

    def randomize(self, data: object = None) -> None:
        """Draw whether to sharpen, how much and at which sigma."""
        super().randomize(None)
        if self._do_transform:
            self._draw = (self.R.uniform(0.0, self.amount), self.R.uniform(*self.sigma))

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> torch.Tensor:
        if randomize:
            self.randomize()
        if not self._do_transform:
            return convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        return UnsharpMask(*self._draw)(img)


class JPEGCompress(Transform):
    """JPEG compression at ``quality`` (1-95, Pillow's encoder): a camera's compressed photos.

    The block and ringing artefacts of a camera or slide scanner that saves JPEG files. Input and
    output are RGB in [0, 1], shape (3, H, W); the image is rounded to 8 bits on the way.
    """

    def __init__(self, quality: int) -> None:
        self.quality = int(quality)

    def __call__(self, img: NdarrayOrTensor) -> torch.Tensor:
        from io import BytesIO

        from PIL import Image

        image = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        rgb = (image.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
        buffer = BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=self.quality)
        decoded = np.asarray(Image.open(buffer).convert("RGB"))
        return torch.from_numpy(decoded.transpose(2, 0, 1).copy()).float() / 255.0


class RandJPEG(RandomizableTransform):
    """Random :class:`JPEGCompress`, the quality drawn uniformly (whole numbers) from ``quality``.

    Input and output are RGB in [0, 1], shape (3, H, W).
    """

    def __init__(self, quality: tuple[int, int] = (20, 90), prob: float = 0.2) -> None:
        RandomizableTransform.__init__(self, prob)
        self.quality = (int(quality[0]), int(quality[1]))
        self._quality = self.quality[1]

    def randomize(self, data: object = None) -> None:
        """Draw whether to compress and at which quality."""
        super().randomize(None)
        if self._do_transform:
            self._quality = int(self.R.randint(self.quality[0], self.quality[1] + 1))

    def __call__(self, img: NdarrayOrTensor, randomize: bool = True) -> torch.Tensor:
        if randomize:
            self.randomize()
        if not self._do_transform:
            return convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        return JPEGCompress(self._quality)(img)


class RandPaleCell(RandomizableTransform):
    """Random pale white cells: cytoplasm and nucleus blended toward the bare slide's colour.

    Pale or agranular cytoplasm and lightly stained nuclei are what a network trained on well-stained
    photos misses on another lab's (under-segmented, recall not precision). This draws
    ``a ~ U(0, cytoplasm)`` and ``b ~ U(0, nucleus)`` and moves each pixel of the cytoplasm (white
    cell minus nucleus) the share ``a``, and of the nucleus the share ``b``, of the way to the
    slide colour (:func:`slide_colour`). The blend weights are smoothed with a Gaussian of ``sigma``
    pixels, so no artificial edge marks the mask's outline. Input and output are RGB in [0, 1], shape
    (3, H, W); the masks are (H, W), 0/1.
    """

    def __init__(self, cytoplasm: float = 0.7, nucleus: float = 0.35, sigma: float = 1.5, prob: float = 0.3) -> None:
        RandomizableTransform.__init__(self, prob)
        self.cytoplasm = cytoplasm
        self.nucleus = nucleus
        self.smooth = EdgeGaussianSmooth(sigma)
        self._shares = (0.0, 0.0)

    def randomize(self, data: object = None) -> None:
        """Draw whether to apply and the two blend shares."""
        super().randomize(None)
        if self._do_transform:
            self._shares = (self.R.uniform(0, self.cytoplasm), self.R.uniform(0, self.nucleus))

    def __call__(
        self, img: NdarrayOrTensor, wbc: NdarrayOrTensor, nucleus: NdarrayOrTensor, randomize: bool = True
    ) -> torch.Tensor:
        if randomize:
            self.randomize()
        image = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        if not self._do_transform:
            return image
        cell = convert_to_tensor(wbc, dtype=torch.float32, track_meta=False) > 0.5
        core = convert_to_tensor(nucleus, dtype=torch.float32, track_meta=False) > 0.5
        weight = self._shares[0] * (cell & ~core).float() + self._shares[1] * (cell & core).float()
        weight = convert_to_tensor(self.smooth(weight[None]), dtype=torch.float32, track_meta=False)
        slide = torch.as_tensor(slide_colour(image), dtype=torch.float32)[:, None, None]
        return image + weight * (slide - image)


def slide_colour(img: NdarrayOrTensor, bright_fraction: float = 0.2, max_pixels: int = 250_000) -> np.ndarray:
    """The bare slide's RGB colour in an RGB image (3, H, W): the mean of its brightest pixels.

    Pixels are ranked by the sum of their channels; the brightest ``bright_fraction`` of them (at
    least one) are averaged. On a blood smear they are the slide between the cells. Images of more
    than ``max_pixels`` pixels are measured on every n-th pixel.
    """
    rgb = convert_to_numpy(img).reshape(3, -1)
    rgb = rgb[:, :: max(1, rgb.shape[1] // max_pixels)].astype(np.float64)
    brightness = rgb.sum(axis=0)
    count = max(1, round(brightness.size * bright_fraction))
    brightest = np.argpartition(brightness, brightness.size - count)[brightness.size - count :]
    return rgb[:, brightest].mean(axis=1)


class ClampSlideColour(Transform):
    """Bring a photo's white balance into a given range by per-channel gains on red and blue.

    The bare slide's colour (:func:`slide_colour`) gives the ratios red/green and blue/green; each
    ratio outside its range is moved to the nearest bound by scaling that channel (values clipped to
    [0, 1]). A photo whose ratios are inside both ranges comes back unchanged, so choosing the ranges
    that the training photos span corrects only casts that training never showed.

    Args:
        red_green: (low, high) allowed slide red/green ratio.
        blue_green: (low, high) allowed slide blue/green ratio.
        bright_fraction: share of the brightest pixels taken as slide.
    """

    def __init__(self, red_green=(0.0, np.inf), blue_green=(0.0, np.inf), bright_fraction: float = 0.2) -> None:
        self.red_green = (float(red_green[0]), float(red_green[1]))
        self.blue_green = (float(blue_green[0]), float(blue_green[1]))
        self.bright_fraction = bright_fraction

    def gains(self, img: NdarrayOrTensor) -> np.ndarray:
        """The red, green and blue factors this transform applies to ``img`` (3, H, W)."""
        red, green, blue = np.maximum(slide_colour(img, self.bright_fraction), 1e-6)
        gains = np.ones(3)
        for channel, value, (low, high) in ((0, red, self.red_green), (2, blue, self.blue_green)):
            ratio = value / green
            gains[channel] = min(max(ratio, low), high) / ratio
        return gains

    def __call__(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        gains = self.gains(img)
        if np.all(gains == 1.0):
            return img
        out = convert_to_tensor(img, track_meta=False).float()
        return (out * torch.as_tensor(gains, dtype=out.dtype).view(3, 1, 1)).clamp(0.0, 1.0)
