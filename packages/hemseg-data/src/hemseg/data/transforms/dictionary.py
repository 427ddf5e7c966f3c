"""Dictionary counterparts of :mod:`hemseg.data.transforms.array`."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from monai.config import KeysCollection
from monai.transforms import GaussianSmoothd, MapTransform, RandGaussianSmoothd, RandomizableTransform
from monai.utils import ensure_tuple_rep

from hemseg.data.transforms.array import (
    ClampSlideColour,
    EdgeGaussianSmooth,
    HEDAdjust,
    NormalizeRGB,
    RandConvolution,
    RandEdgeGaussianSmooth,
    RandHEDJitter,
    RandJPEG,
    RandPaleCell,
    RandStainAmount,
    RandUnsharpMask,
    ScaleToCellSize,
    StructureMasks,
)


class NormalizeRGBd(MapTransform):
    """Dictionary version of :class:`~hemseg.data.transforms.array.NormalizeRGB`."""

    def __init__(self, keys: KeysCollection, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.converter = NormalizeRGB()

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.converter(d[key])
        return d


class StructureMasksd(MapTransform):
    """Dictionary version of :class:`~hemseg.data.transforms.array.StructureMasks`.

    ``data[key]`` maps structure -> mask path (or None); it is replaced by the (C, H, W) target and
    ``data[f"{key}_known"]`` receives the (C,) known flags. The spatial size comes from
    ``data[image_key]`` (channel-first, already loaded).
    """

    def __init__(
        self,
        keys: KeysCollection,
        structures: Sequence[str],
        image_key: str = "image",
        known_postfix: str = "_known",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.reader = StructureMasks(tuple(structures))
        self.image_key = image_key
        self.known_postfix = known_postfix

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        spatial_shape = tuple(d[self.image_key].shape[1:])
        for key in self.key_iterator(d):
            d[key], d[f"{key}{self.known_postfix}"] = self.reader(d[key], spatial_shape)
        return d


class ScaleToCellSized(MapTransform):
    """Dictionary version of :class:`~hemseg.data.transforms.array.ScaleToCellSize`.

    The source red-cell diameter is read from ``data[source_key]``; None leaves the data unscaled.
    """

    def __init__(
        self,
        keys: KeysCollection,
        target_px: float,
        source_key: str = "rbc_diameter_px",
        mode: Sequence[str] | str = "area",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.scaler = ScaleToCellSize(target_px)
        self.source_key = source_key
        self.mode = ensure_tuple_rep(mode, len(self.keys))

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        source_px = d.get(self.source_key)
        for key, mode in self.key_iterator(d, self.mode):
            d[key] = self.scaler(d[key], source_px, mode=mode)
        return d


class HEDAdjustd(MapTransform):
    """Dictionary version of :class:`~hemseg.data.transforms.array.HEDAdjust`."""

    def __init__(
        self, keys: KeysCollection, scale=(1.0, 1.0, 1.0), shift=(0.0, 0.0, 0.0), allow_missing_keys: bool = False
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.adjust = HEDAdjust(scale, shift)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.adjust(d[key])
        return d


class ClampSlideColourd(MapTransform):
    """Dictionary version of :class:`~hemseg.data.transforms.array.ClampSlideColour`."""

    def __init__(
        self,
        keys: KeysCollection,
        red_green=(0.0, float("inf")),
        blue_green=(0.0, float("inf")),
        bright_fraction: float = 0.2,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.clamp = ClampSlideColour(red_green, blue_green, bright_fraction)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.clamp(d[key])
        return d


class _OneDrawForAllKeys(RandomizableTransform, MapTransform):
    """A random array transform applied with ``prob``, one draw of it for every key."""

    def __init__(self, keys: KeysCollection, transform, prob: float, allow_missing_keys: bool) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.transform = transform

    def set_random_state(self, seed: int | None = None, state=None) -> _OneDrawForAllKeys:
        super().set_random_state(seed, state)
        self.transform.set_random_state(seed, state)
        return self

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        self.randomize(None)
        if not self._do_transform:
            return d
        self.transform.randomize()
        for key in self.key_iterator(d):
            d[key] = self.transform(d[key], randomize=False)
        return d


class RandHEDJitterd(_OneDrawForAllKeys):
    """Dictionary version of :class:`~hemseg.data.transforms.array.RandHEDJitter`."""

    def __init__(
        self,
        keys: KeysCollection,
        scale: float = 0.05,
        shift: float = 0.05,
        prob: float = 0.5,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, RandHEDJitter(scale=scale, shift=shift, prob=1.0), prob, allow_missing_keys)


class RandStainAmountd(_OneDrawForAllKeys):
    """Dictionary version of :class:`~hemseg.data.transforms.array.RandStainAmount` (one draw for all keys)."""

    def __init__(
        self,
        keys: KeysCollection,
        factors: tuple[float, float] = (0.2, 2.0),
        prob: float = 0.5,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, RandStainAmount(factors=factors, prob=1.0), prob, allow_missing_keys)


class RandConvolutiond(_OneDrawForAllKeys):
    """Dictionary version of :class:`~hemseg.data.transforms.array.RandConvolution` (one draw for all keys)."""

    def __init__(
        self,
        keys: KeysCollection,
        kernel_sizes: tuple[int, ...] = (1, 3),
        mix: float = 1.0,
        prob: float = 0.5,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, RandConvolution(kernel_sizes=kernel_sizes, mix=mix, prob=1.0), prob, allow_missing_keys)


class RandUnsharpMaskd(_OneDrawForAllKeys):
    """Dictionary version of :class:`~hemseg.data.transforms.array.RandUnsharpMask` (one draw for all keys)."""

    def __init__(
        self,
        keys: KeysCollection,
        amount: float = 2.0,
        sigma: tuple[float, float] = (1.0, 2.0),
        prob: float = 0.2,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, RandUnsharpMask(amount=amount, sigma=sigma, prob=1.0), prob, allow_missing_keys)


class RandJPEGd(_OneDrawForAllKeys):
    """Dictionary version of :class:`~hemseg.data.transforms.array.RandJPEG` (one draw for all keys)."""

    def __init__(
        self,
        keys: KeysCollection,
        quality: tuple[int, int] = (20, 90),
        prob: float = 0.2,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, RandJPEG(quality=quality, prob=1.0), prob, allow_missing_keys)


class RandPaleCelld(RandomizableTransform, MapTransform):
    """Dictionary version of :class:`~hemseg.data.transforms.array.RandPaleCell`.

    The white-cell and nucleus masks are channels ``wbc_channel`` and ``nucleus_channel`` of
    ``data[label_key]``; a record whose ``data[f"{label_key}_known"]`` does not flag both as
    annotated is left unchanged (its cytoplasm is not known).
    """

    def __init__(
        self,
        keys: KeysCollection,
        label_key: str = "label",
        wbc_channel: int = 0,
        nucleus_channel: int = 1,
        cytoplasm: float = 0.7,
        nucleus: float = 0.35,
        sigma: float = 1.5,
        prob: float = 0.3,
        known_postfix: str = "_known",
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.pale = RandPaleCell(cytoplasm=cytoplasm, nucleus=nucleus, sigma=sigma, prob=1.0)
        self.label_key = label_key
        self.channels = (wbc_channel, nucleus_channel)
        self.known_key = f"{label_key}{known_postfix}"

    def set_random_state(self, seed: int | None = None, state=None) -> RandPaleCelld:
        super().set_random_state(seed, state)
        self.pale.set_random_state(seed, state)
        return self

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        self.randomize(None)
        known = d.get(self.known_key)
        if not self._do_transform or known is None or not all(float(known[c]) > 0 for c in self.channels):
            return d
        self.pale.randomize()
        label = d[self.label_key]
        for key in self.key_iterator(d):
            d[key] = self.pale(d[key], label[self.channels[0]], label[self.channels[1]], randomize=False)
        return d


class EdgeGaussianSmoothd(GaussianSmoothd):
    """Dictionary version of :class:`~hemseg.data.transforms.array.EdgeGaussianSmooth`."""

    def __init__(
        self,
        keys: KeysCollection,
        sigma: Sequence[float] | float,
        approx: str = "erf",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, sigma, approx=approx, allow_missing_keys=allow_missing_keys)
        self.converter = EdgeGaussianSmooth(sigma, approx=approx)


class RandEdgeGaussianSmoothd(RandGaussianSmoothd):
    """Dictionary version of :class:`~hemseg.data.transforms.array.RandEdgeGaussianSmooth` (one draw for all keys)."""

    def __init__(
        self,
        keys: KeysCollection,
        sigma_x: tuple[float, float] = (0.25, 1.5),
        sigma_y: tuple[float, float] = (0.25, 1.5),
        approx: str = "erf",
        prob: float = 0.1,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, sigma_x, sigma_y, approx=approx, prob=prob, allow_missing_keys=allow_missing_keys)
        self.rand_smooth = RandEdgeGaussianSmooth(sigma_x=sigma_x, sigma_y=sigma_y, approx=approx, prob=1.0)
