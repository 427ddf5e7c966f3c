"""Whole-image segmentation at the training cell scale, returned at the image's own size."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - torch convention
from monai.inferers import SlidingWindowInferer

from hemseg.models.adaptation import renormalised


class Segmenter:
    """Run a segmentation network over an image of any size.

    The image is zoomed so that red cells measure ``target_rbc_px`` pixels, segmented with MONAI's
    ``SlidingWindowInferer`` (Gaussian-weighted overlapping windows), passed through a sigmoid, and
    zoomed back to the original size.

    Args:
        network: maps (B, 3, roi, roi) images in [0, 1] to (B, C, roi, roi) logits (a torch module or
            any callable on tensors, e.g. an ONNX Runtime wrapper).
        target_rbc_px: red-cell diameter the network was trained at.
        roi_size: side of the sliding windows (a multiple of 32).
        overlap: overlap of neighbouring windows (0-1).
        sw_batch_size: windows per network call.
        channels_last: feed windows in channels-last memory format (faster convolutions on CPU).
        device: where the network runs (windows are moved there, results come back to the CPU).
        preprocess: applied to each (3, H, W) image before it is zoomed and segmented, e.g.
            :class:`hemseg.data.transforms.ClampSlideColour` (None: the image as given).
        flips: average each window's logits over its four flips (none, horizontal, vertical,
            both; test-time augmentation at four times the network time).
    """

    def __init__(
        self,
        network: torch.nn.Module | Callable[[torch.Tensor], torch.Tensor],
        target_rbc_px: float,
        roi_size: int = 192,
        overlap: float = 0.25,
        sw_batch_size: int = 4,
        channels_last: bool = False,
        device: str | torch.device = "cpu",
        preprocess: Callable[[torch.Tensor], torch.Tensor] | None = None,
        flips: bool = False,
    ) -> None:
        self.network = network
        self.flips = flips
        self.preprocess = preprocess
        self.device = torch.device(device)
        self.target_rbc_px = float(target_rbc_px)
        self.channels_last = channels_last
        self.roi_size = int(roi_size)
        self.inferer = SlidingWindowInferer(
            roi_size=(roi_size, roi_size),
            sw_batch_size=sw_batch_size,
            overlap=overlap,
            mode="gaussian",
            padding_mode="replicate",
            cache_roi_weight_map=True,
        )
        self.last_network_ms = 0.0

    def _predict(self, windows: torch.Tensor) -> torch.Tensor:
        windows = windows.to(self.device)
        if self.channels_last:
            windows = windows.contiguous(memory_format=torch.channels_last)
        if not self.flips:
            return self.network(windows).float().cpu()
        flipped = [(), (3,), (2,), (2, 3)]
        total = sum(self.network(windows.flip(dims) if dims else windows).float().flip(dims) for dims in flipped)
        return (total / len(flipped)).cpu()

    def _prepared(self, image: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``image`` as a (3, H, W) float tensor, preprocessed."""
        tensor = torch.as_tensor(np.asarray(image, dtype=np.float32))
        if tensor.ndim != 3 or tensor.shape[0] != 3:
            raise ValueError(f"expected a (3, H, W) image, got shape {tuple(tensor.shape)}")
        return tensor if self.preprocess is None else torch.as_tensor(self.preprocess(tensor))

    def _zoomed(self, tensor: torch.Tensor, rbc_diameter_px: float | None) -> torch.Tensor:
        """The (1, 3, h, w) batch the network sees: a prepared image zoomed to the training scale."""
        height, width = tensor.shape[1:]
        zoom = 1.0 if rbc_diameter_px is None else self.target_rbc_px / float(rbc_diameter_px)
        if zoom == 1.0:
            return tensor[None]
        size = (max(1, round(height * zoom)), max(1, round(width * zoom)))
        return F.interpolate(tensor[None], size=size, mode="area" if zoom < 1 else "bilinear")

    @torch.inference_mode()
    def probabilities(self, image: torch.Tensor | np.ndarray, rbc_diameter_px: float | None) -> np.ndarray:
        """Return (C, H, W) float32 probabilities for a (3, H, W) RGB image in [0, 1].

        ``rbc_diameter_px`` is the image's red-cell diameter; None means it is already at the
        training scale. The time spent in zooming and the network is kept in ``last_network_ms``.
        """
        tensor = self._prepared(image)
        height, width = tensor.shape[1:]
        start = time.perf_counter()
        logits = self.inferer(self._zoomed(tensor, rbc_diameter_px), self._predict)
        probabilities = torch.sigmoid(logits.float())
        if probabilities.shape[2:] != (height, width):
            probabilities = F.interpolate(probabilities, size=(height, width), mode="bilinear", align_corners=False)
        self.last_network_ms = (time.perf_counter() - start) * 1000.0
        return probabilities[0].numpy()

    def adapted(self, images: Iterable[tuple[torch.Tensor | np.ndarray, float | None]], layers: int) -> Segmenter:
        """A copy whose network's first ``layers`` batch-norm layers take their statistics from ``images``.

        ``images`` are (image, red-cell diameter) pairs of one lab, unlabelled; each is zoomed to the
        training scale, its sides padded (edge pixels repeated) to a multiple of 32, and the statistics
        of the first layers are re-estimated on the whole of it, each image one batch (AdaBN,
        :func:`hemseg.models.adaptation.renormalised`; the network runs only up to those layers).

        Raises:
            TypeError: the network is not a torch module.
            ValueError: the network has fewer batch-norm layers than ``layers``.
        """

        def batches() -> Iterator[torch.Tensor]:
            for image, rbc_diameter_px in images:
                batch = self._zoomed(self._prepared(image), rbc_diameter_px)
                height, width = batch.shape[2:]
                batch = F.pad(batch, (0, -width % 32, 0, -height % 32), mode="replicate")
                batch = batch.to(self.device)
                yield batch.contiguous(memory_format=torch.channels_last) if self.channels_last else batch

        segmenter = copy.copy(self)
        segmenter.network = renormalised(self.network, layers, batches())
        return segmenter
