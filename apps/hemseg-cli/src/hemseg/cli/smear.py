"""One smear photo -> its cells (white cells classified, red cells, platelets), counts and flags.

The steps of ``hemseg diagnose`` for one image, with the networks loaded once for all images:
pixel scale, segmentation at that scale, white cells split and classified on patches (the
:class:`hemseg.cli.cells.CellPatcher` steps the classifier was trained on), red cells split,
platelets by colour, then the differential and its flags for review (:mod:`hemseg.diagnosis`).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from hemseg.cli.cells import CellPatcher
from hemseg.cli.segmentation import postprocess
from hemseg.diagnosis import Cell, SmearReport

#: Red-cell pieces whose largest inscribed circle is smaller than this (in red-cell diameters) are dropped.
MIN_RBC_RADIUS = 0.2
#: The whole photo's red cells may raise the centre's scale estimate by at most this factor: where red
#: cells pile into clumps, the whole photo's mask merges them and its inscribed circles grow.
MAX_SCALE_RISE = 1.2
#: Typical red-cell diameter in micrometres, used to turn ``--um-per-px`` into pixels.
RBC_DIAMETER_UM = 7.5


class SmearAnalyser:
    """Analyse smear photos with networks loaded once.

    Args:
        patcher: segmentation and patch cutting (:func:`hemseg.cli.cells.patcher_from_bundle`).
        classifier: :class:`hemseg.models.Classifier` over the patches.
        review_below: white cells whose top probability is below this are marked for review.
        assumed_rbc_px: red-cell diameter assumed for the first segmentation when estimating the scale.
        flag_rules: :class:`hemseg.diagnosis.FlagRules` (None: the defaults).
    """

    def __init__(
        self,
        patcher: CellPatcher,
        classifier,
        review_below: float = 0.6,
        assumed_rbc_px: float = 70.0,
        flag_rules=None,
    ) -> None:
        self.patcher = patcher
        self.classifier = classifier
        self.review_below = review_below
        self.assumed_rbc_px = assumed_rbc_px
        self.flag_rules = flag_rules

    def _estimate_scale(self, rgb: np.ndarray) -> tuple[float, str]:
        """Red-cell diameter of an (H, W, 3) photo from its red cells, and ``estimated`` or ``assumed``.

        One network window's worth of the photo's centre is segmented at the assumed scale (all of
        the photo when that finds too few red cells) and the red cells measured.
        """
        from hemseg.postproc import rbc_diameter

        segmenter = self.patcher.segmenter
        assumed = self.assumed_rbc_px
        side = round(segmenter.inferer.roi_size[0] * assumed / segmenter.target_rbc_px)
        top, left = max(0, (rgb.shape[0] - side) // 2), max(0, (rgb.shape[1] - side) // 2)
        for region in (rgb[top : top + side, left : left + side], rgb):
            probabilities = segmenter.probabilities(_chw_float(region), assumed)
            rbc = postprocess(probabilities, self.patcher.structures, self.patcher.mask_rules, assumed, ["rbc"])["rbc"]
            estimate, _ = rbc_diameter(rbc, assumed)
            if estimate is not None:
                return estimate, "estimated"
            if region.shape == rgb.shape:
                break
        return assumed, "assumed"

    def analyse(self, rgb: np.ndarray, rbc_px: float | None = None, scale_source: str | None = None) -> SmearReport:
        """Analyse an (H, W, 3) uint8 RGB photo; ``rbc_px`` None estimates the scale from the red cells.

        Masks, cells and platelets are worked out on the photo shrunk to the network's scale (when
        its red cells are larger than that), where the segmentation is computed anyway; positions,
        areas and outlines are reported in the photo's pixels, and each white cell's patch is cut
        from the full-resolution photo.
        """
        import cv2

        from hemseg.diagnosis import differential, review_flags
        from hemseg.postproc import (
            instance_table,
            platelet_instances,
            rbc_diameter,
            remove_background_coloured,
            remove_thin_instances,
        )

        start = time.perf_counter()
        source = "given"
        if rbc_px is None:
            rbc_px, source = self._estimate_scale(rgb)
        factor = min(1.0, self.patcher.segmenter.target_rbc_px / rbc_px)
        work = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else rgb
        work_px = rbc_px * work.shape[1] / rgb.shape[1]
        probabilities = self.patcher.segmenter.probabilities(_chw_float(work), work_px)
        masks = postprocess(probabilities, self.patcher.structures, self.patcher.mask_rules, work_px, ["wbc", "rbc"])
        if source == "estimated":  # the whole image's red cells measure the scale better than the centre's
            refined = rbc_diameter(masks["rbc"], work_px)[0]
            if refined is not None:
                refined = min(refined, MAX_SCALE_RISE * work_px)
                work_px, rbc_px = refined, refined * rgb.shape[1] / work.shape[1]
        wbc = self.patcher.cell_labels(masks["wbc"], work_px)
        # red cells: split, then whole-cell-thick pieces only (not edge strips or fragments), and only
        # pieces that stand out in colour from the bare slide
        rbc = remove_thin_instances(
            self.patcher.cell_labels(masks["rbc"] & (wbc == 0), work_px), MIN_RBC_RADIUS * work_px
        )
        rbc = remove_background_coloured(rbc, work, ~(masks["rbc"] | masks["wbc"]), round(3 * work_px))
        platelets = platelet_instances(work, wbc > 0, work_px)
        platelets[rbc > 0] = 0

        wbc_table = instance_table(wbc)
        scores = self.classifier.probabilities(self._patches(rgb, wbc, wbc_table, rbc_px))
        names = self.classifier.classes
        chosen = self.classifier.decide(scores)
        alternatives = self.classifier.alternatives(scores, chosen)
        cells: list[Cell] = []
        for kind, labels, table in (
            ("wbc", wbc, wbc_table),
            ("rbc", rbc, instance_table(rbc)),
            ("platelet", platelets, instance_table(platelets)),
        ):
            for row, cell in enumerate(_cells(labels, table, rgb.shape[:2], kind, first_id=len(cells) + 1)):
                if kind == "wbc":
                    best, alternative = int(chosen[row]), int(alternatives[row])
                    probability = float(scores[row][best])
                    cell = replace(
                        cell,
                        cls=names[best],
                        probability=probability,
                        review=probability < self.review_below,
                        alternative=names[alternative],
                        alternative_probability=float(scores[row][alternative]),
                    )
                cells.append(cell)
        white = [c for c in cells if c.kind == "wbc"]
        result = differential([c.cls for c in white if c.cls != "platelet"])
        return SmearReport(
            width=rgb.shape[1],
            height=rgb.shape[0],
            rbc_diameter_px=float(rbc_px),
            scale_source=scale_source or source,
            cells=cells,
            differential=result,
            flags=review_flags(result, sum(c.review for c in white), self.flag_rules),
            ms=(time.perf_counter() - start) * 1000.0,
        )

    def _patches(self, rgb: np.ndarray, labels: np.ndarray, table: dict, rbc_px: float) -> np.ndarray:
        """(N, P, P, 4) patches of the labelled cells, cut from the full-resolution photo."""
        from hemseg.postproc import cell_patch

        size = self.patcher.patch_size
        patches = np.zeros((len(table["label"]), size, size, 4), np.uint8)
        sy, sx = rgb.shape[0] / labels.shape[0], rgb.shape[1] / labels.shape[1]
        for row, index in enumerate(table["label"]):
            mask = _full_size_mask(labels == index, rgb.shape[:2])
            centre = ((table["centroid-0"][row] + 0.5) * sy - 0.5, (table["centroid-1"][row] + 0.5) * sx - 0.5)
            patches[row] = cell_patch(rgb, mask, rbc_px, self.patcher.target_rbc_px, size, centre=centre)
        return patches


def _full_size_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A boolean mask resized (nearest neighbour) to ``shape``, working on its bounding box only."""
    import cv2

    if mask.shape == shape:
        return mask
    scale_y, scale_x = shape[0] / mask.shape[0], shape[1] / mask.shape[1]
    rows, cols = np.nonzero(mask)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    y0, y1 = round(top * scale_y), min(shape[0], round(bottom * scale_y))
    x0, x1 = round(left * scale_x), min(shape[1], round(right * scale_x))
    full = np.zeros(shape, bool)
    piece = mask[top:bottom, left:right].astype(np.uint8)
    full[y0:y1, x0:x1] = cv2.resize(piece, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST) > 0
    return full


def _chw_float(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (3, H, W) float32 in [0, 1], the segmenter's input."""
    return np.moveaxis(rgb, -1, 0).astype(np.float32) / 255.0


def _cells(labels: np.ndarray, table: dict, shape: tuple[int, int], kind: str, first_id: int) -> list[Cell]:
    """One :class:`Cell` per row of ``table`` (``labels``' instance table), scaled to an image of ``shape``."""
    from hemseg.postproc import instance_polygons

    outlines = instance_polygons(labels)
    sy, sx = shape[0] / labels.shape[0], shape[1] / labels.shape[1]
    cells = []
    for row, index in enumerate(table["label"]):
        cells.append(
            Cell(
                id=first_id + row,
                kind=kind,
                cls=kind,
                probability=None,
                review=False,
                bbox=(
                    round(table["bbox-1"][row] * sx),
                    round(table["bbox-0"][row] * sy),
                    round(table["bbox-3"][row] * sx),
                    round(table["bbox-2"][row] * sy),
                ),
                centroid=((table["centroid-1"][row] + 0.5) * sx - 0.5, (table["centroid-0"][row] + 0.5) * sy - 0.5),
                area=round(table["area"][row] * sx * sy),
                on_border=bool(table["on_border"][row]),
                outline=[(round((x + 0.5) * sx - 0.5), round((y + 0.5) * sy - 0.5)) for x, y in outlines[int(index)]],
            )
        )
    return cells


def cache_dir() -> Path:
    """Folder for exported ONNX networks: ``$HEMSEG_CACHE``, else ``~/.cache/hemseg``."""
    return Path(os.environ.get("HEMSEG_CACHE") or Path.home() / ".cache" / "hemseg")


def analyser_from_bundles(classification_bundle: Path | None = None, onnx: bool = True) -> SmearAnalyser:
    """Build a :class:`SmearAnalyser` from the classification bundle's inference config.

    Segmentation comes from the bundle named there (``segmentation_bundle``), at the window side
    the classifier's training patches were cut with. With ``onnx`` (and ONNX Runtime installed)
    both networks run through ONNX Runtime, exported once into :func:`cache_dir`.
    """
    from hemseg.cli.bundles import bundle_dir, inference_parser, onnx_network
    from hemseg.cli.cells import patcher_from_bundle

    folder = bundle_dir("hemseg_classification", classification_bundle)
    parser = inference_parser(folder)
    onnx = onnx and _has_onnxruntime()
    onnx_dir = cache_dir() / "onnx" if onnx else None
    patcher = patcher_from_bundle(
        parser.get_parsed_content("segmentation_bundle"),
        parser["target_rbc_px"],
        parser["patch_size"],
        parser["segmentation_roi_size"],
        onnx_dir,
    )
    if onnx_dir is not None:
        parser["network"] = onnx_network(parser, "classification", onnx_dir, int(parser["patch_size"]), in_channels=4)
        parser["channels_last"] = False
    return SmearAnalyser(
        patcher=patcher,
        classifier=parser.get_parsed_content("classifier"),
        review_below=float(parser["review_below"]),
    )


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None
