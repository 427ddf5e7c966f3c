"""One smear photo -> its cells (white cells classified, red cells and their morphology, platelets), counts and flags.

:class:`SmearAnalyser` runs the whole per-photo pipeline on networks it is given (any objects with
the small protocols :class:`hemseg.postproc.SegmenterLike` and
:class:`hemseg.diagnosis.protocols.ClassifierLike`), so it imports no torch. The ``hemseg_diagnose``
bundle builds it from the two network bundles, with every setting below in its config.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from hemseg.diagnosis.adaptation import AdaptationRules
from hemseg.diagnosis.differential import Differential, differential, red_cell_shares
from hemseg.diagnosis.flags import Flag, FlagRules, red_cell_findings, review_flags
from hemseg.diagnosis.protocols import ClassifierLike
from hemseg.diagnosis.report import Cell, SmearReport
from hemseg.diagnosis.specimen import SpecimenRules
from hemseg.postproc import SegmenterLike, StainReference


@dataclass(frozen=True)
class ScaleRules:
    """How the red-cell diameter of a photo is estimated from its red cells.

    Attributes:
        assumed_px: diameter assumed for the first segmentation (and reported when too few red cells).
        percentile: percentile of the red cells' inscribed radii taken as typical
            (:func:`hemseg.postproc.rbc_diameter`).
        min_cells: fewer red cells than this give no estimate.
        max_rise: the whole photo's red cells may raise the centre's estimate by at most this factor
            (where red cells pile into clumps, the whole photo's mask merges them).
        crop_side: photos no longer than this (px) on either side are single-cell crops, whose
            edge cuts most red cells: red cells whose inscribed circle reaches it count only when
            fewer than ``min_cells`` others are found (``clear_of_edge`` of
            :func:`hemseg.postproc.rbc_diameter`); 0 for none.
        crop_max_rise: ``max_rise`` for such crops, whose first estimate already read the whole photo.
        crop_wbc_diameter: a crop with too few red cells takes its central white cell to measure this
            many red-cell diameters (``scale_source`` ``white_cell``); 0 assumes ``assumed_px`` instead.
        crop_trim: a crop's second reading measures its red cells with the slide taken off their
            crowded pieces, as the red cells counted are (``RedCellRules.slide_trim_area``): where the
            network joins packed red cells and the slide between them, the joined piece reads as one
            large red cell.
        trim_gap: a field's second reading measured so too replaces the untrimmed one where it is
            smaller by more than this factor (crowded fields, whose joined pieces the untrimmed
            reading took for large red cells; the pale centres that the trim takes off other
            fields' clumps lower it a few per cent); None: fields are read untrimmed.
        trim_share: a field is measured trimmed at all only where the pieces that the trim works on
            hold at least this share of its red-cell mask (:meth:`reads_trimmed`): where they hold
            less, its separate red cells keep the untrimmed reading, and the trim's time is saved.
    """

    assumed_px: float
    percentile: float
    min_cells: int
    max_rise: float
    crop_side: int = 0
    crop_max_rise: float = 1.0
    crop_wbc_diameter: float = 0.0
    crop_trim: bool = False
    trim_gap: float | None = None
    trim_share: float = 0.0

    def is_crop(self, shape: tuple[int, ...]) -> bool:
        """Whether a photo of this (H, W, ...) shape is a single-cell crop (``crop_side``)."""
        return max(shape[:2]) <= self.crop_side

    def estimate(
        self, rgb: np.ndarray, segmenter: SegmenterLike, structures: Sequence[str], mask_rules: Mapping
    ) -> tuple[float, str]:
        """First reading of an (H, W, 3) photo's red-cell diameter by these rules, and how it was found.

        :func:`hemseg.postproc.estimate_rbc_diameter`, a crop's with its own rules.
        """
        from hemseg.postproc import estimate_rbc_diameter

        crop = self.is_crop(rgb.shape)
        wbc_diameter = self.crop_wbc_diameter if crop else 0.0
        return estimate_rbc_diameter(
            rgb, segmenter, structures, mask_rules, self.assumed_px, self.percentile, self.min_cells, crop, wbc_diameter
        )

    def reads_trimmed(self, shape: tuple[int, ...], rbc_mask: np.ndarray, trim_area: float) -> bool:
        """Whether the second reading of a photo of this (H, W, ...) shape also measures its trimmed red cells.

        A crop's with ``crop_trim``; a field's with ``trim_gap``, where the pieces of ``rbc_mask``
        of more than ``trim_area`` pixels (those the trim takes the slide off) hold at least
        ``trim_share`` of it (:func:`hemseg.postproc.large_piece_share`).
        """
        from hemseg.postproc import large_piece_share

        if self.is_crop(shape):
            return self.crop_trim
        if self.trim_gap is None:
            return False
        return self.trim_share <= 0 or large_piece_share(rbc_mask, trim_area) >= self.trim_share

    def refine(
        self, rbc_mask: np.ndarray, work_px: float, shape: tuple[int, ...], trimmed: np.ndarray | None = None
    ) -> float | None:
        """Second reading: the red cells of the whole photo (``shape``) segmented at ``work_px``.

        :func:`hemseg.postproc.rbc_diameter` on ``rbc_mask``, bounded by the rise allowed (a crop's
        own); None when too few red cells were found. With ``trimmed`` (the red cells with the slide
        taken off their crowded pieces, :meth:`reads_trimmed`), a crop is read on those, a field on
        those only where they read more than ``trim_gap`` times smaller.
        """
        from hemseg.postproc import rbc_diameter

        crop = self.is_crop(shape)
        highest = (self.crop_max_rise if crop else self.max_rise) * work_px

        def read(mask: np.ndarray) -> float | None:
            diameter = rbc_diameter(mask, work_px, self.percentile, self.min_cells, crop)[0]
            return None if diameter is None else min(diameter, highest)

        if trimmed is not None and crop:
            return read(trimmed)
        refined = read(rbc_mask)
        if trimmed is None or refined is None or self.trim_gap is None:
            return refined
        smaller = read(trimmed)
        return smaller if smaller is not None and smaller * self.trim_gap < refined else refined


@dataclass(frozen=True)
class RedCellRules:
    """Which segmented red-cell pieces are counted, in red-cell diameters ``d``.

    Attributes:
        min_radius: pieces whose largest inscribed circle is smaller than this (in ``d``) are
            dropped (flimsy fragments).
        edge_min_radius: the same for pieces that touch the photo's edge (strips of cells cut by
            it; None: ``min_radius``).
        background_share: pieces must stand out in colour from the bare slide by this share of the
            median piece (:func:`hemseg.postproc.remove_background_coloured`).
        background_window: side of the window over which the slide colour is averaged, in ``d``.
        split_distance: touching red cells are split where their centres lie this many ``d`` apart
            (:func:`hemseg.postproc.split_cells`).
        overlap_split_distance: within groups of red cells less solid than ``overlap_solidity``
            (the concave outline of overlapping cells), this many ``d`` apart instead
            (:func:`hemseg.postproc.split_overlapping`); None: ``split_distance`` everywhere.
        overlap_solidity: a group whose area is below this share of its convex hull's is split at
            ``overlap_split_distance``; one red cell, however elongated, is more solid.
        overlap_depth: with ``overlap_split_distance``, red cells are split instead at every peak
            of their distance map that rises this many ``d`` above the path to a higher one, peaks
            closer than ``overlap_split_distance`` merged (:func:`hemseg.postproc.split_at_peaks`);
            None: off.
        slide_trim_area: before the split, pieces of the red-cell mask larger than this many red-cell
            areas (crowded cells joined by slide that the network took for cell) lose their
            slide-coloured pixels (:func:`hemseg.postproc.remove_slide_pixels`); None: off.
        slide_trim_share: a pixel of such a piece needs this share of the median smaller piece's
            colour rise above the slide (as ``background_share`` measures it) to stay.
        slide_trim_hole: holes up to this many red-cell areas left inside a trimmed piece (pale
            centres) are filled again.
    """

    min_radius: float
    background_share: float
    background_window: float
    split_distance: float
    overlap_split_distance: float | None = None
    overlap_solidity: float = 1.0
    overlap_depth: float | None = None
    edge_min_radius: float | None = None
    slide_trim_area: float | None = None
    slide_trim_share: float = 0.0
    slide_trim_hole: float = 0.0

    def trim_pixels(self, rbc_px: float) -> float | None:
        """Pieces larger than this many pixels are trimmed, red cells ``rbc_px`` wide (None: no trim)."""
        return None if self.slide_trim_area is None else self.slide_trim_area * _disc(rbc_px)


@dataclass(frozen=True)
class PlateletRules:
    """Platelets by colour (:func:`hemseg.postproc.platelet_instances`).

    Attributes:
        min_contrast: smallest blue - green contrast of a platelet pixel.
        min_area: smallest platelet, in red-cell areas.
        max_area: largest platelet, in red-cell areas.
    """

    min_contrast: float
    min_area: float
    max_area: float


@dataclass(frozen=True)
class TileRules:
    """How photos much larger than a field (stitched scans) are analysed: tile by tile.

    Attributes:
        max_pixels: photos with more pixels are cut into tiles of at most this many (4:3, the shape of
            a camera field); each tile is analysed like a field, so memory stays that of one field
            beside the photo itself.
        overlap: neighbouring tiles overlap by this many red-cell diameters; each cell is kept from
            the one tile whose core (the tile less half the overlap on inner sides) holds its centre,
            so half the overlap must exceed the largest cell's radius.
    """

    max_pixels: int
    overlap: float


@dataclass(frozen=True)
class FoundCells:
    """The cells of one photo, segmented and labelled, before any classification.

    The label images are (h, w) int32 (0 = background) at the working scale: the photo shrunk so
    that red cells measure at most the segmentation network's diameter (the photo's own size when
    they are smaller).

    Attributes:
        rbc_px: the photo's red-cell diameter in its own pixels.
        scale_source: ``given``, ``um_per_px``, ``estimated``, ``white_cell`` (a crop's central white
            cell, :class:`ScaleRules` ``crop_wbc_diameter``) or ``assumed``.
        wbc: white cells, touching ones split.
        nuclei: each white cell's nucleus pixels, under the cell's label.
        rbc: red cells counted (whole-cell-thick pieces that stand out from the slide).
        platelets: platelets.
    """

    rbc_px: float
    scale_source: str
    wbc: np.ndarray
    nuclei: np.ndarray
    rbc: np.ndarray
    platelets: np.ndarray


class SmearAnalyser:
    """Analyse smear photos with networks loaded once.

    Args:
        segmenter: white cells, nuclei and red cells as probability maps (:class:`hemseg.postproc.SegmenterLike`).
        classifier: classes of white-cell patches (:class:`hemseg.diagnosis.protocols.ClassifierLike`).
        structures: the segmenter's output channels, in order (must hold ``wbc`` and ``rbc``).
        mask_rules: post-processing per structure (:func:`hemseg.postproc.postprocess`).
        split_distance: touching white cells are split where their centres lie this many red-cell diameters
            apart (red cells: ``red_cells``).
        patch_rbc_px: red-cell diameter in the classifier's patches.
        patch_size: side of the classifier's patches.
        review_below: white cells whose top probability is below this are marked for review.
        scale: :class:`ScaleRules`.
        red_cells: :class:`RedCellRules`.
        platelets: :class:`PlateletRules`.
        flag_rules: :class:`hemseg.diagnosis.FlagRules`.
        rbc_diameter_um: typical red-cell diameter in micrometres (turns a pixel size into a scale).
        specimen_rules: how the photos of one specimen are pooled (:class:`hemseg.diagnosis.SpecimenRules`;
            None: no specimen reports).
        tiling: :class:`TileRules` for photos much larger than a field (None: every photo analysed whole).
        provenance: what the analysis is made of: ``bundles`` (each bundle's version and weights'
            SHA-256), written into every report, and ``cells`` (the segmentation's alone, for
            :meth:`cells_sha256`).
        red_cell_classifier: morphology classes of red-cell patches (None: red cells are counted,
            not classified).
        red_cell_patch_rbc_px: red-cell diameter of the typical red cell in its patches (the patch
            keeps each red cell's size relative to the photo's typical red cell).
        red_cell_patch_size: side of the red-cell patches.
        stain_reference: the stains of the classifier's training sources
            (:class:`hemseg.postproc.StainReference`); a white cell whose stain is unlike all of them
            is marked for review (``Cell.unfamiliar_stain``). None: no such check.
        adaptation: which specimens are classified again by a classifier adapted to their stain
            (:class:`hemseg.diagnosis.AdaptationRules`; None, or no ``adapter``: none).
        adapter: ``(patches, layers)`` -> the classifier with its first ``layers`` batch-norm layers'
            statistics re-estimated on those white-cell patches (e.g. the torch
            :class:`hemseg.models.Classifier`'s ``adapted``, also when ``classifier`` runs elsewhere);
            where ``adaptation`` has ``zooms``, the classifier's ``zoom`` is the magnification chosen.
    """

    def __init__(
        self,
        segmenter: SegmenterLike,
        classifier: ClassifierLike,
        structures: Sequence[str],
        mask_rules: Mapping[str, Mapping[str, object]],
        split_distance: float,
        patch_rbc_px: float,
        patch_size: int,
        review_below: float,
        scale: ScaleRules,
        red_cells: RedCellRules,
        platelets: PlateletRules,
        flag_rules: FlagRules,
        rbc_diameter_um: float,
        specimen_rules: SpecimenRules | None = None,
        provenance: Mapping | None = None,
        tiling: TileRules | None = None,
        red_cell_classifier: ClassifierLike | None = None,
        red_cell_patch_rbc_px: float = 28.0,
        red_cell_patch_size: int = 56,
        stain_reference: StainReference | None = None,
        adaptation: AdaptationRules | None = None,
        adapter: Callable[[np.ndarray, int], ClassifierLike] | None = None,
    ) -> None:
        self.segmenter = segmenter
        self.classifier = classifier
        self.structures = list(structures)
        self.mask_rules = mask_rules
        self.split_distance = split_distance
        self.patch_rbc_px = float(patch_rbc_px)
        self.patch_size = int(patch_size)
        self.review_below = review_below
        self.scale = scale
        self.red_cells = red_cells
        self.platelets = platelets
        self.flag_rules = flag_rules
        self.rbc_diameter_um = rbc_diameter_um
        self.specimen_rules = specimen_rules
        self.provenance = dict(provenance or {})
        self.tiling = tiling
        self.red_cell_classifier = red_cell_classifier
        self.red_cell_patch = (float(red_cell_patch_rbc_px), int(red_cell_patch_size))
        self.stain_reference = stain_reference
        self.adaptation = adaptation
        self.adapter = adapter

    def settings_sha256(
        self,
        rbc_px: float | None = None,
        scale_source: str | None = None,
        shared_scales: list[tuple[str, float]] | None = None,
    ) -> str:
        """SHA-256 of what makes this analyser's results: settings, bundles, a batch's given or shared scales.

        The cells found enter with :meth:`cells_sha256`, the bundles with their weights' and configs'
        SHA-256 (``provenance``). Equal hashes, equal reports.
        """
        from dataclasses import asdict

        settings = {
            "cells": self.cells_sha256(),
            "patch": [self.patch_rbc_px, self.patch_size],
            "red_cell_patch": list(self.red_cell_patch) if self.red_cell_classifier is not None else None,
            "review_below": self.review_below,
            "stain_reference": self.stain_reference.to_dict() if self.stain_reference is not None else None,
            "adaptation": asdict(self.adaptation) if self.adapts else None,
            **({"look_check": asdict(self.adaptation)} if self.adaptation is not None and not self.adapts else {}),
            "flag_rules": asdict(self.flag_rules),
            "tiling": asdict(self.tiling) if self.tiling else None,
            "rbc_diameter_um": self.rbc_diameter_um,
            "bundles": self.provenance.get("bundles", {}),
            "scale": [rbc_px, scale_source],
            **({"shared_scales": [list(pair) for pair in shared_scales]} if shared_scales else {}),
        }
        return _sha256(settings)

    def cells_sha256(self) -> str:
        """SHA-256 of what makes :meth:`find_cells`' answers: the segmentation and the cell rules.

        The segmentation enters with ``provenance["cells"]`` (its bundle's weights' and config's
        SHA-256), then the mask, split, scale, red-cell and platelet rules. The classifiers do not
        enter, so a cache of found cells (the red-cell classifier's training patches) outlives new
        classifier weights and settings.
        """
        from dataclasses import asdict

        settings = {
            "segmentation": self.provenance.get("cells"),
            "structures": self.structures,
            "mask_rules": self.mask_rules,
            "split_distance": self.split_distance,
            "rules": [asdict(r) for r in (self.scale, self.red_cells, self.platelets)],
        }
        return _sha256(settings)

    @property
    def adapts(self) -> bool:
        """Whether specimens of an unfamiliar look are classified again (``adaptation`` and ``adapter`` given).

        With ``adaptation`` but no ``adapter``, such specimens are only marked (:meth:`marked`).
        """
        return self.adaptation is not None and self.adapter is not None

    def estimate_scale(self, rgb: np.ndarray) -> tuple[float, str]:
        """Red-cell diameter (px) of an (H, W, 3) photo, and how it was found (:meth:`ScaleRules.estimate`)."""
        return self.scale.estimate(rgb, self.segmenter, self.structures, self.mask_rules)

    def analyse(self, rgb: np.ndarray, rbc_px: float | None = None, scale_source: str | None = None) -> SmearReport:
        """Analyse an (H, W, 3) uint8 RGB photo; ``rbc_px`` None estimates the scale from the red cells.

        A photo of more than ``tiling.max_pixels`` pixels is analysed tile by tile (:meth:`analyse_tiled`),
        any other one whole (:meth:`analyse_field`).
        """
        if self.tiling is not None and rgb.shape[0] * rgb.shape[1] > self.tiling.max_pixels:
            return self.analyse_tiled(rgb, rbc_px, scale_source)
        return self.analyse_field(rgb, rbc_px, scale_source)

    def analyse_tiled(
        self, rgb: np.ndarray, rbc_px: float | None = None, scale_source: str | None = None
    ) -> SmearReport:
        """Analyse a large photo tile by tile (:class:`TileRules`); one report with every cell counted once.

        Without ``rbc_px`` the scale is estimated on the centre tile and used for all of them. Cells
        are numbered white cells first, as in a field's report; ``on_border`` means the photo's border.
        """
        from hemseg.postproc import tile_grid

        start = time.perf_counter()
        height, width = rgb.shape[:2]
        tile_w = int(np.sqrt(self.tiling.max_pixels * 4 / 3))
        tile_h = self.tiling.max_pixels // tile_w
        if rbc_px is None:
            top, left = max(0, (height - tile_h) // 2), max(0, (width - tile_w) // 2)
            centre = self.analyse_field(rgb[top : top + tile_h, left : left + tile_w])
            rbc_px, scale_source = centre.rbc_diameter_px, centre.scale_source
        margin = int(np.ceil(self.tiling.overlap * rbc_px / 2))
        kept: list[Cell] = []
        patches = []  # of the white cells kept, in their order
        for tile, core in tile_grid((height, width), (tile_h, tile_w), margin):
            (y0, y1), (x0, x1) = tile
            report = self.analyse_field(rgb[y0:y1, x0:x1], rbc_px, scale_source or "given")
            for cell in report.cells:
                x, y = cell.centroid[0] + x0, cell.centroid[1] + y0
                if core[0][0] <= y + 0.5 < core[0][1] and core[1][0] <= x + 0.5 < core[1][1]:
                    kept.append(_moved(cell, x0, y0, (height, width)))
                    if cell.kind == "wbc":
                        patches.append(report.patches[cell.id - 1])  # white cells come first, from 1
        order = {"wbc": 0, "rbc": 1, "platelet": 2}
        kept.sort(key=lambda c: order.get(c.kind, 3))  # stable: tile by tile within a kind
        cells = [replace(cell, id=number) for number, cell in enumerate(kept, start=1)]
        result, flags, held_back = findings(cells, self.flag_rules)
        return SmearReport(
            width=width,
            height=height,
            rbc_diameter_px=float(rbc_px),
            scale_source=scale_source or "given",
            cells=cells,
            differential=result,
            flags=flags,
            held_back=held_back,
            ms=(time.perf_counter() - start) * 1000.0,
            patches=np.stack(patches) if patches else np.zeros((0, self.patch_size, self.patch_size, 4), np.uint8),
        )

    def find_cells(self, rgb: np.ndarray, rbc_px: float | None = None) -> FoundCells:
        """Segment an (H, W, 3) uint8 RGB photo and label its cells (:class:`FoundCells`), unclassified.

        ``rbc_px`` None estimates the scale from the red cells. Masks, cells and platelets are worked
        out on the photo shrunk to the network's scale (when its red cells are larger than that),
        where the segmentation is computed anyway.
        """
        import cv2

        from hemseg.postproc import (
            chw_float,
            platelet_instances,
            postprocess,
            remove_background_coloured,
            remove_thin_instances,
            split_cells,
        )

        source = "given"
        if rbc_px is None:
            rbc_px, source = self.estimate_scale(rgb)
        factor = min(1.0, self.segmenter.target_rbc_px / rbc_px)
        work = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else rgb
        work_px = rbc_px * work.shape[1] / rgb.shape[1]
        probabilities = self.segmenter.probabilities(chw_float(work), work_px)
        masks = postprocess(probabilities, self.structures, self.mask_rules, work_px, ["wbc", "nucleus", "rbc"])
        slide = ~(masks["rbc"] | masks["wbc"])
        # the whole image's red cells measure the scale better than the centre's
        if source == "estimated":
            trimmed, pieces, trim_area = None, masks["rbc"] & ~masks["wbc"], self.red_cells.trim_pixels(work_px)
            if trim_area is not None and self.scale.reads_trimmed(rgb.shape, pieces, trim_area):
                trimmed = self._trim_slide(pieces, work, slide, work_px)
            if (refined := self.scale.refine(masks["rbc"], work_px, rgb.shape, trimmed)) is not None:
                work_px, rbc_px = refined, refined * rgb.shape[1] / work.shape[1]
        wbc = split_cells(masks["wbc"], work_px, self.split_distance)
        # red cells: pieces far larger than a red cell lose their slide-coloured pixels, then split,
        # then whole-cell-thick pieces only (not edge strips or fragments), and only pieces that
        # stand out in colour from the bare slide
        window = round(self.red_cells.background_window * work_px)
        rbc_mask = self._trim_slide(masks["rbc"] & (wbc == 0), work, slide, work_px)
        rbc = remove_thin_instances(
            split_cells(
                rbc_mask,
                work_px,
                self.red_cells.split_distance,
                self.red_cells.overlap_split_distance,
                self.red_cells.overlap_solidity,
                self.red_cells.overlap_depth,
            ),
            self.red_cells.min_radius * work_px,
            None if self.red_cells.edge_min_radius is None else self.red_cells.edge_min_radius * work_px,
        )
        rbc = remove_background_coloured(rbc, work, slide, window, self.red_cells.background_share)
        platelets = platelet_instances(
            work, wbc > 0, work_px, self.platelets.min_contrast, self.platelets.min_area, self.platelets.max_area
        )
        platelets[rbc > 0] = 0
        nuclei = np.where(masks["nucleus"], wbc, 0) if "nucleus" in masks else np.zeros_like(wbc)
        return FoundCells(float(rbc_px), source, wbc, nuclei, rbc, platelets)

    def _trim_slide(self, rbc_mask: np.ndarray, work: np.ndarray, slide: np.ndarray, work_px: float) -> np.ndarray:
        """``rbc_mask`` with the slide taken off its pieces far larger than a red cell (``RedCellRules``)."""
        from hemseg.postproc import remove_slide_pixels

        if (min_area := self.red_cells.trim_pixels(work_px)) is None:
            return rbc_mask
        return remove_slide_pixels(
            rbc_mask,
            work,
            slide,
            round(self.red_cells.background_window * work_px),
            self.red_cells.slide_trim_share,
            min_area,
            self.red_cells.slide_trim_hole * _disc(work_px),
        )

    def analyse_field(
        self, rgb: np.ndarray, rbc_px: float | None = None, scale_source: str | None = None
    ) -> SmearReport:
        """Analyse an (H, W, 3) uint8 RGB photo whole; ``rbc_px`` None estimates the scale from the red cells.

        Cells are found by :meth:`find_cells`; positions, areas and outlines are reported in the
        photo's pixels, and each white cell's patch (and, with a red-cell classifier, each red cell's)
        is cut from the full-resolution photo.
        ``scale_source`` names where a given ``rbc_px`` came from.
        """
        from hemseg.postproc import cell_patches, instance_table

        start = time.perf_counter()
        found = self.find_cells(rgb, rbc_px)
        rbc_px, wbc, rbc, platelets = found.rbc_px, found.wbc, found.rbc, found.platelets
        wbc_table = instance_table(wbc)
        patches = cell_patches(rgb, wbc, wbc_table, rbc_px, self.patch_rbc_px, self.patch_size)
        white = _classified(self.classifier, patches)
        unfamiliar, sources, sharpness = np.zeros(len(patches), bool), [None] * len(patches), [None] * len(patches)
        if self.stain_reference is not None and len(patches):
            unfamiliar, sources, sharpness = self.stain_reference.looks(patches)
        rbc_table = instance_table(rbc)
        red = None
        if self.red_cell_classifier is not None:
            red = _classified(self.red_cell_classifier, cell_patches(rgb, rbc, rbc_table, rbc_px, *self.red_cell_patch))
        cells: list[Cell] = []
        for kind, labels, table, classes in (
            ("wbc", wbc, wbc_table, white),
            ("rbc", rbc, rbc_table, red),
            ("platelet", platelets, instance_table(platelets), None),
        ):
            made = _cells(labels, table, rgb.shape[:2], kind, len(cells) + 1, found.nuclei if kind == "wbc" else None)
            for row, cell in enumerate(made):
                if classes is not None:
                    white = kind == "wbc"
                    below = self.review_below if white else None
                    cell = _with_class(cell, classes[row], below, white and unfamiliar[row])
                    if white:
                        cell = replace(cell, stain_source=sources[row], sharpness=sharpness[row])
                cells.append(cell)
        result, flags, held_back = findings(cells, self.flag_rules)
        return SmearReport(
            width=rgb.shape[1],
            height=rgb.shape[0],
            rbc_diameter_px=rbc_px,
            scale_source=scale_source or found.scale_source,
            cells=cells,
            differential=result,
            flags=flags,
            held_back=held_back,
            ms=(time.perf_counter() - start) * 1000.0,
            patches=patches,
        )

    def reclassified(self, report: SmearReport, classifier: ClassifierLike, adaptation: Mapping) -> SmearReport:
        """``report`` with its white cells classified again by ``classifier`` from its ``patches``; findings anew.

        Each white cell keeps its stain check and is marked for review as :meth:`analyse_field`
        marks it, and every one of them where the specimen's sharpness was the reason to adapt;
        ``adaptation`` (:func:`hemseg.diagnosis.adaptation.adaptation_of`) is recorded.

        Raises:
            ValueError: the report holds no patches (one read back from its file).
        """
        if report.patches is None:
            raise ValueError("a report read back holds no patches to classify again")
        classes = iter(_classified(classifier, report.patches))
        every_one = self._marks_every_cell(adaptation)

        def again(cell: Cell) -> Cell:
            cell = _with_class(cell, next(classes), self.review_below, cell.unfamiliar_stain)
            return replace(cell, review=True) if every_one else cell

        cells = [again(c) if c.kind == "wbc" else c for c in report.cells]
        result, flags, held_back = findings(cells, self.flag_rules)
        return replace(
            report, cells=cells, differential=result, flags=flags, held_back=held_back, adaptation=dict(adaptation)
        )

    def marked(self, report: SmearReport, look: Mapping) -> SmearReport:
        """``report`` of a specimen whose look called for adapting, left as classified; ``look`` recorded.

        Every white cell is marked for review where the specimen's sharpness was the reason (where its
        stain was, the cells of an unfamiliar stain are marked already). ``look``
        (:func:`hemseg.diagnosis.adaptation.adaptation_of`, with ``adapted`` False) becomes the
        report's ``adaptation``.
        """
        every_one = self._marks_every_cell(look)
        cells = [replace(c, review=True) if every_one and c.kind == "wbc" else c for c in report.cells]
        return replace(report, cells=cells, adaptation=dict(look))

    def _marks_every_cell(self, look: Mapping) -> bool:
        """Whether every white cell of a specimen is marked for review: its sharpness was the reason."""
        return "sharpness" in look and self.review_below is not None


def _classified(classifier: ClassifierLike, patches: np.ndarray) -> list[tuple[str, float, str, float]]:
    """Per patch: its class, that class's probability, the most probable other class and its probability."""
    scores = classifier.probabilities(patches)
    chosen = classifier.decide(scores)
    alternatives = classifier.alternatives(scores, chosen)
    names = classifier.classes
    return [
        (names[best], float(row[best]), names[other], float(row[other]))
        for row, best, other in zip(scores, np.asarray(chosen).tolist(), np.asarray(alternatives).tolist(), strict=True)
    ]


def _with_class(
    cell: Cell, classified: tuple[str, float, str, float], review_below: float | None, unfamiliar: bool
) -> Cell:
    """``cell`` with its (class, probability, alternative, its probability), and whether it is for review.

    Marked for review below ``review_below`` (None: never, as red cells) or for an ``unfamiliar`` stain.
    """
    name, probability, alternative, alternative_probability = classified
    return replace(
        cell,
        cls=name,
        probability=probability,
        review=review_below is not None and (probability < review_below or bool(unfamiliar)),
        alternative=alternative,
        alternative_probability=alternative_probability,
        unfamiliar_stain=bool(unfamiliar),
    )


def _moved(cell: Cell, dx: int, dy: int, shape: tuple[int, int]) -> Cell:
    """A tile's cell in the photo's coordinates; ``on_border`` against the photo of ``shape``."""
    x0, y0, x1, y1 = cell.bbox
    bbox = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
    return replace(
        cell,
        bbox=bbox,
        centroid=(cell.centroid[0] + dx, cell.centroid[1] + dy),
        on_border=bbox[0] <= 0 or bbox[1] <= 0 or bbox[2] >= shape[1] or bbox[3] >= shape[0],
        outline=[(x + dx, y + dy) for x, y in cell.outline],
        nucleus=[(x + dx, y + dy) for x, y in cell.nucleus],
    )


def findings(cells: Sequence[Cell], flag_rules: FlagRules) -> tuple[Differential, list[Flag], list[Flag]]:
    """A photo's differential, flags for review and red-cell flags held back for too few red cells.

    The flags hold the red-cell morphology flags too; the ones held back are those of
    :func:`hemseg.diagnosis.held_back_red_cell_flags`. White cells classified as platelets count as
    platelets, not in the differential; cells still marked for review count in the
    ``uncertain_cells`` rule. A person's review gives its findings through this too
    (:func:`hemseg.diagnosis.review.apply_review`).
    """
    white = [c for c in cells if c.kind == "wbc"]
    result = differential([c.cls for c in white if c.cls != "platelet"])
    red = red_cell_shares([c.cls for c in cells if c.kind == "rbc"])
    red_flags, held_back = red_cell_findings(red, flag_rules.red_cells)
    return result, review_flags(result, sum(c.review for c in white), flag_rules) + red_flags, held_back


def _cells(
    labels: np.ndarray, table: dict, shape: tuple[int, int], kind: str, first_id: int, nuclei: np.ndarray | None
) -> list[Cell]:
    """One :class:`Cell` per row of ``table`` (``labels``' instance table), scaled to an image of ``shape``.

    ``nuclei`` holds each white cell's nucleus pixels under the cell's label (None: no nuclei).
    """
    from hemseg.postproc import instance_polygons

    outlines = instance_polygons(labels)
    nucleus_outlines = instance_polygons(nuclei) if nuclei is not None else {}
    nucleus_areas = np.bincount(nuclei.ravel(), minlength=labels.max() + 1) if nuclei is not None else None
    sy, sx = shape[0] / labels.shape[0], shape[1] / labels.shape[1]

    def scaled(outline: list[tuple[int, int]]) -> list[tuple[float, float]]:  # pixel corners scale exactly
        return [(x, y) if sx == sy == 1 else (round(x * sx, 2), round(y * sy, 2)) for x, y in outline]

    cells = []
    for row, index in enumerate(table["label"]):
        index = int(index)
        has_nucleus = index in nucleus_outlines
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
                outline=scaled(outlines[index]),
                nucleus=scaled(nucleus_outlines[index]) if has_nucleus else [],
                nucleus_area=round(nucleus_areas[index] * sx * sy) if has_nucleus else None,
            )
        )
    return cells


def _sha256(settings: dict) -> str:
    """SHA-256 of ``settings`` as sorted JSON (values JSON cannot hold as their ``str``)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def _disc(diameter: float) -> float:
    """Area (px) of a red cell ``diameter`` pixels wide."""
    return float(np.pi * (diameter / 2) ** 2)
