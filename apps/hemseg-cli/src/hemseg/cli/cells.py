"""White cells found by the segmentation bundle, cut into classifier patches.

The same steps serve training (the classification bundle's patch cache), ``hemseg evaluate
classification`` and ``hemseg diagnose``: segment, post-process with the bundle's mask rules, split
touching cells, cut one fixed-scale patch per cell (:func:`hemseg.postproc.cell_patch`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hemseg.cli.segmentation import postprocess

#: Touching white cells are split where their centres lie at least this many red-cell diameters apart.
SPLIT_DISTANCE = 0.6


@dataclass
class CellPatcher:
    """Segment white cells and cut patches for the classifier.

    Attributes:
        segmenter: a :class:`hemseg.models.Segmenter`.
        structures: the segmentation network's output structures, in channel order.
        mask_rules: the segmentation bundle's ``mask_rules``.
        target_rbc_px: red-cell diameter in the patches.
        patch_size: side of the patches.
        segmentation_sha256: SHA-256 of the segmentation weights.
        segmentation_settings: the segmentation inference config the patches come from, as text
            (with the weights' SHA-256 it names cached patches, so changed settings cut them anew).
    """

    segmenter: object
    structures: Sequence[str]
    mask_rules: Mapping[str, Mapping[str, object]]
    target_rbc_px: float
    patch_size: int
    segmentation_sha256: str = ""
    segmentation_settings: str = ""
    last_ms: float = field(default=0.0, init=False)

    def white_cells(self, image: np.ndarray, rbc_px: float) -> np.ndarray:
        """Label the white cells of a (3, H, W) RGB image in [0, 1]: (H, W) int32, 0 = background."""
        probabilities = self.segmenter.probabilities(image, rbc_px)
        self.last_ms = self.segmenter.last_network_ms
        return self.cell_labels(postprocess(probabilities, self.structures, self.mask_rules, rbc_px)["wbc"], rbc_px)

    @staticmethod
    def cell_labels(mask: np.ndarray, rbc_px: float) -> np.ndarray:
        """Label the cells of a clean (H, W) mask, touching cells split: (H, W) int32, 0 = background."""
        from hemseg.postproc import split_touching

        return split_touching(mask, min_distance=max(1, round(SPLIT_DISTANCE * rbc_px)))

    def central_patch(self, image: np.ndarray, rbc_px: float) -> tuple[np.ndarray, bool]:
        """Patch (P, P, 4) uint8 of the white cell nearest the image centre, and whether one was found.

        With no white cell found, the patch is centred on the image with an empty mask channel.
        """
        from hemseg.postproc import cell_patch

        cell = self.central_cell(self.white_cells(image, rbc_px))
        rgb = np.moveaxis(np.asarray(image), 0, -1)
        return cell_patch(rgb, cell, rbc_px, self.target_rbc_px, self.patch_size), bool(cell.any())

    @staticmethod
    def central_cell(labels: np.ndarray) -> np.ndarray:
        """(H, W) bool mask of the labelled cell nearest the image centre (empty when there is none)."""
        from hemseg.postproc import central_instance

        index = central_instance(labels)
        return labels == index if index else np.zeros(labels.shape, bool)


def patcher_from_bundle(
    segmentation_bundle: str | Path,
    target_rbc_px: float,
    patch_size: int,
    roi_size: int | None = None,
    onnx_dir: str | Path | None = None,
) -> CellPatcher:
    """Build a :class:`CellPatcher` on the segmentation bundle's inference config.

    ``roi_size`` replaces the bundle's sliding-window side (a single 256 window covers a whole
    single-cell crop). With ``onnx_dir`` the network is exported there once (named by its weights'
    SHA-256 and the window side) and run through ONNX Runtime, faster on a CPU than eager torch
    (41 vs 64 ms per 256 px window, docs/benchmarks.md).
    """
    from hemseg.cli.bundles import inference_parser, onnx_network

    parser = inference_parser(Path(segmentation_bundle))
    sha256 = str(parser.get_parsed_content("model_sha256"))
    if roi_size is not None:
        parser["roi_size"] = int(roi_size)
    settings = json.dumps({k: v for k, v in parser.get().items() if k not in ("_meta_", "bundle_root")}, sort_keys=True)
    if onnx_dir is not None:
        parser["network"] = onnx_network(parser, "segmentation", Path(onnx_dir), int(parser["roi_size"]))
        parser["channels_last"] = False
    return CellPatcher(
        segmenter=parser.get_parsed_content("segmenter"),
        structures=list(parser["structures"]),
        mask_rules=parser["mask_rules"],
        target_rbc_px=float(target_rbc_px),
        patch_size=int(patch_size),
        segmentation_sha256=sha256,
        segmentation_settings=settings,
    )


def patch_records(
    patcher: CellPatcher,
    data_root: str | Path,
    datasets: Sequence[str],
    rbc_diameter_px: Mapping[str, float],
    side: str,
    cache_dir: str | Path,
    val_fraction: float = 0.2,
    seed: int = 0,
    limit: int | None = None,
) -> list[dict]:
    """Classification records of several datasets with each image's central-cell patch, cached on disk.

    Records hold ``image`` (3, P, P) and ``mask`` (1, P, P) uint8, ``target`` (allowed classes),
    ``label``, ``id``, ``dataset`` and ``found`` (a white cell was segmented). Patches of a dataset
    and side are computed once and kept in ``cache_dir`` under a name that changes with the
    segmentation weights and inference settings, the patch scale and size, the split and ``limit``
    (first images per dataset).

    Raises:
        LayoutError: a dataset is missing or malformed.
    """
    from hemseg.data import classification_records, split_datasets
    from hemseg.data.transforms import load_rgb
    from hemseg.models.files import replacing

    records = []
    for dataset, samples in split_datasets(data_root, datasets, side, val_fraction, seed):
        name = dataset.name
        items = classification_records(dataset, samples, rbc_diameter_px[name])[:limit]
        key = json.dumps(
            [
                patcher.segmentation_sha256,
                patcher.segmentation_settings,
                patcher.target_rbc_px,
                patcher.patch_size,
                rbc_diameter_px[name],
                side,
                val_fraction,
                seed,
                limit,
            ]
        )
        cache = Path(cache_dir) / f"{name}-{side}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
        if cache.is_file():
            stored = np.load(cache)
            patches, hits = stored["patches"], stored["found"]
        else:
            patches = np.zeros((len(items), patcher.patch_size, patcher.patch_size, 4), np.uint8)
            hits = np.zeros(len(items), bool)
            for i, item in enumerate(items):
                patches[i], hits[i] = patcher.central_patch(load_rgb(item["image"]), item["rbc_diameter_px"])
                if (i + 1) % 500 == 0:
                    print(f"hemseg: {name} {side}: {i + 1}/{len(items)} patches", file=sys.stderr)
            cache.parent.mkdir(parents=True, exist_ok=True)
            with replacing(cache) as tmp, open(tmp, "wb") as handle:  # unique temp name: DDP ranks write too
                np.savez(handle, patches=patches, found=hits)
        for item, patch, hit in zip(items, patches, hits, strict=True):
            records.append(
                {
                    **item,
                    "image": np.ascontiguousarray(np.moveaxis(patch[..., :3], -1, 0)),
                    "mask": np.ascontiguousarray(patch[None, ..., 3]),
                    "found": bool(hit),
                }
            )
    return records
