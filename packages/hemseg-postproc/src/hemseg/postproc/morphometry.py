"""What a person reads in a white cell, measured: size, nucleus shape and lobes, cytoplasm colour and grain.

A cell patch's measures (:func:`cell_morphometry`) are put on one specimen's own scale
(:func:`specimen_normalised`) so that they mean the same on any microscope and stain: sizes relative
to the specimen's typical white cell, colours and textures relative to the spread of its cells.
"""

from __future__ import annotations

import numpy as np

#: Sizes, in patch pixels (areas), then lengths; divided by the specimen's median cell area (or its root).
AREA_NAMES = ("cell_area",)
LENGTH_NAMES = ("cell_major", "cell_minor", "nucleus_major", "nucleus_minor")
#: Shapes and ratios: the same on every microscope, kept as they are.
SHAPE_NAMES = (
    "cell_solidity",
    "cell_eccentricity",
    "nucleus_to_cell",
    "nucleus_lobes",
    "nucleus_solidity",
    "nucleus_eccentricity",
    "nucleus_extent",
)
#: Colours (CIE L*a*b*, against the cell's surround or its nucleus) and textures; standardised per specimen.
COLOUR_NAMES = (
    "cytoplasm_lightness",
    "cytoplasm_a",
    "cytoplasm_b",
    "cytoplasm_a_minus_nucleus",
    "cytoplasm_b_minus_nucleus",
    "nucleus_a",
    "nucleus_b",
    "cytoplasm_texture",
    "nucleus_texture",
    "cytoplasm_grain",
)
MORPHOMETRY_NAMES = AREA_NAMES + LENGTH_NAMES + SHAPE_NAMES + COLOUR_NAMES
#: A nucleus part counts as a lobe from this share of the nucleus' area.
LOBE_SHARE = 0.08
#: Fewest cell pixels that give measures.
MIN_CELL_PIXELS = 20
#: The L*a*b* colour a cell is measured against when it fills its patch: a bright, neutral slide.
BLANK_SURROUND = np.array([90.0, 0.0, 0.0])


def _nucleus(lightness: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """The cell's nucleus: its pixels darker than Otsu's threshold of the cell's lightness."""
    from skimage.filters import threshold_otsu
    from skimage.morphology import remove_small_objects

    values = lightness[cell]
    threshold = threshold_otsu(values) if values.std() > 0 else values.mean()
    return remove_small_objects(cell & (lightness < threshold), max_size=7)


def _patch_morphometry(patch: np.ndarray) -> np.ndarray:
    """The :data:`MORPHOMETRY_NAMES` measures of one (P, P, 4) patch (NaN when its cell is too small)."""
    from skimage.color import rgb2lab
    from skimage.filters import laplace
    from skimage.measure import label, regionprops_table
    from skimage.morphology import convex_hull_image, dilation, disk

    cell = patch[..., 3] > 0
    if cell.sum() < MIN_CELL_PIXELS:
        return np.full(len(MORPHOMETRY_NAMES), np.nan)
    lab = rgb2lab(patch[..., :3])
    lightness = lab[..., 0]
    surround = ~dilation(cell, disk(3))
    surround_colour = np.median(lab[surround], axis=0) if surround.any() else BLANK_SURROUND
    nucleus = _nucleus(lightness, cell)
    cytoplasm = cell & ~nucleus
    cells = regionprops_table(
        label(cell), properties=("area", "solidity", "eccentricity", "axis_major_length", "axis_minor_length")
    )
    biggest = int(np.argmax(cells["area"]))
    cell_area = float(cells["area"][biggest])
    parts = regionprops_table(
        label(nucleus), properties=("area", "eccentricity", "extent", "axis_major_length", "axis_minor_length")
    )
    nucleus_area = float(parts["area"].sum())
    if len(parts["area"]):
        main = int(np.argmax(parts["area"]))
        nucleus_shape = [
            int((parts["area"] > LOBE_SHARE * nucleus_area).sum()),
            nucleus_area / max(float(convex_hull_image(nucleus).sum()), 1.0),
            float(parts["eccentricity"][main]),
            float(parts["extent"][main]),
        ]
        nucleus_lengths = [float(parts["axis_major_length"][main]), float(parts["axis_minor_length"][main])]
    else:
        nucleus_shape, nucleus_lengths = [0, 0.0, 0.0, 0.0], [0.0, 0.0]
    nucleus_colour = lab[nucleus].mean(axis=0) if nucleus.any() else lab[cell].mean(axis=0)
    cytoplasm_colour = lab[cytoplasm].mean(axis=0) if cytoplasm.any() else lab[cell].mean(axis=0)
    span = max(float(surround_colour[0] - nucleus_colour[0]), 1.0)
    grain = np.abs(laplace(lightness))
    sizes = [
        cell_area,
        float(cells["axis_major_length"][biggest]),
        float(cells["axis_minor_length"][biggest]),
        *nucleus_lengths,
    ]
    shapes = [
        float(cells["solidity"][biggest]),
        float(cells["eccentricity"][biggest]),
        nucleus_area / cell_area,
        *nucleus_shape,
    ]
    colours = [
        float(cytoplasm_colour[0] - nucleus_colour[0]) / span,
        *(cytoplasm_colour[1:] - surround_colour[1:]),
        *(cytoplasm_colour[1:] - nucleus_colour[1:]),
        *(nucleus_colour[1:] - surround_colour[1:]),
        float(lightness[cytoplasm].std()) / span if cytoplasm.sum() > 5 else 0.0,
        float(lightness[nucleus].std()) / span if nucleus.sum() > 5 else 0.0,
        float(grain[cytoplasm].mean()) / span if cytoplasm.sum() > 5 else 0.0,
    ]
    return np.array([*sizes, *shapes, *colours], dtype=np.float64)


def cell_morphometry(patches: np.ndarray) -> np.ndarray:
    """(N, F) measures of (N, P, P, 4) uint8 cell patches (RGB + cell mask), columns :data:`MORPHOMETRY_NAMES`.

    The nucleus is the part of the cell darker than Otsu's threshold of its L* lightness; its lobes
    are its parts of more than :data:`LOBE_SHARE` of its area. Sizes are in patch pixels (the patch
    is cut at the photo's red-cell scale); colours are the mean L*a*b* of cytoplasm and nucleus
    against the median of the surround (:data:`BLANK_SURROUND` where the cell fills the patch) or
    the nucleus, lightness and textures in units of the surround-to-nucleus lightness span. A row is
    NaN where the cell has fewer than :data:`MIN_CELL_PIXELS` pixels.
    """
    return (
        np.stack([_patch_morphometry(np.asarray(p)) for p in patches])
        if len(patches)
        else np.empty((0, len(MORPHOMETRY_NAMES)))
    )


def specimen_normalised(measures: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``measures`` on the scale of one specimen, whose cells' measures are ``reference`` (both (N, F)).

    Areas are divided by the reference's median cell area and lengths by its square root; colours
    and textures have the reference's median taken off and are divided by its interquartile range;
    shapes are kept. The result means "larger / bluer / more grained than this specimen's typical
    white cell", whatever the microscope's scale and the lab's stain.
    """
    names = list(MORPHOMETRY_NAMES)
    out = np.array(measures, dtype=np.float64, copy=True)
    typical_area = np.nanmedian(reference[:, names.index("cell_area")])
    out[:, [names.index(n) for n in AREA_NAMES]] /= typical_area
    out[:, [names.index(n) for n in LENGTH_NAMES]] /= np.sqrt(typical_area)
    colours = [names.index(n) for n in COLOUR_NAMES]
    low, middle, high = np.nanpercentile(reference[:, colours], [25, 50, 75], axis=0)
    out[:, colours] = (out[:, colours] - middle) / np.where(high > low, high - low, 1.0)
    return out
