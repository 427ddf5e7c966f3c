"""Stand-ins for the diagnosis tests: a constructed smear, stub networks, flag rules (no torch).

The shipped flag rules live in the hemseg_diagnose bundle's config; these are the tests' own.
"""

from __future__ import annotations

import cv2
import numpy as np

from hemseg.diagnosis import FlagRules, PlateletRules, RedCellRules, ScaleRules, SmearAnalyser

RULES = FlagRules(
    min_blasts=1,
    blast_fraction=0.2,
    min_wbc_for_differential=50,
    reference_percent={
        "neutrophil": (40.0, 75.0),
        "lymphocyte": (20.0, 45.0),
        "monocyte": (2.0, 10.0),
        "eosinophil": (0.0, 6.0),
        "basophil": (0.0, 2.0),
        "immature_granulocyte": (0.0, 2.0),
    },
    max_review_share=0.3,
)


BACKGROUND, RED, CYTOPLASM = (232, 226, 214), (206, 128, 128), (200, 180, 230)
NUCLEUS, PLATELET = (90, 40, 130), (120, 60, 170)


def smear(scale: int = 1) -> tuple[np.ndarray, int]:
    """A 640x480 photo (times ``scale``): a neutrophil-sized cell, two touching small white cells,
    two platelets and red cells 48 px across (times ``scale``) that touch nothing; and the red-cell count."""
    image = np.full((480 * scale, 640 * scale, 3), BACKGROUND, np.uint8)
    whites = [((150, 150), 40), ((430, 300), 26), ((478, 300), 26)]
    platelets = [(300, 420), (560, 60)]
    red = 0
    for y in range(40, 480, 60):
        for x in range(40, 640, 60):
            clear_of_whites = all(np.hypot(x - cx, y - cy) > r + 30 for (cx, cy), r in whites)
            if clear_of_whites and all(np.hypot(x - px, y - py) > 40 for px, py in platelets):
                cv2.circle(image, (x * scale, y * scale), 24 * scale, RED, -1)
                red += 1
    for (x, y), radius in whites:
        cv2.circle(image, (x * scale, y * scale), radius * scale, CYTOPLASM, -1)
        cv2.circle(image, (x * scale, y * scale), radius * scale // 2, NUCLEUS, -1)
    for x, y in platelets:
        cv2.circle(image, (x * scale, y * scale), 5 * scale, PLATELET, -1)
    return image, red


class ColourSegmenter:
    """A stand-in network: white cell, nucleus and red cell read off the constructed colours."""

    target_rbc_px = 48.0
    roi_size = 256

    def probabilities(self, image: np.ndarray, rbc_diameter_px: float | None) -> np.ndarray:
        rgb = np.moveaxis(np.asarray(image) * 255.0, 0, -1)
        red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        wbc = (blue > red + 10) & (blue > 120) & ~((blue - green > 80) & (blue < 180) & (green < 90))
        nucleus = (red < 110) & (blue > 100)
        rbc = (red - green > 50) & (blue < 160)
        wbc = cv2.dilate(wbc.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        return np.stack([wbc | nucleus, nucleus, rbc]).astype(np.float32)


class SizeClassifier:
    """A stand-in classifier: a large cell in its patch is a neutrophil (0.9), a small one a lymphocyte (0.55)."""

    classes = ("neutrophil", "lymphocyte", "blast")

    def probabilities(self, patches: np.ndarray) -> np.ndarray:
        large = (patches[..., 3] > 0).sum(axis=(1, 2)) > 2000
        return np.where(large[:, None], [0.9, 0.06, 0.04], [0.3, 0.55, 0.15]).astype(np.float32)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        return np.asarray(probabilities).argmax(axis=1)

    def alternatives(self, probabilities: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        others = np.array(probabilities)
        others[np.arange(len(others)), chosen] = -1
        return others.argmax(axis=1)


class RedSizeClassifier(SizeClassifier):
    """A stand-in red-cell classifier: a red cell under half the typical area in its patch is a microcyte (0.8)."""

    classes = ("normal", "microcyte", "schistocyte")

    def probabilities(self, patches: np.ndarray) -> np.ndarray:
        small = (patches[..., 3] > 0).sum(axis=(1, 2)) < 0.5 * np.pi * 14**2  # typical red cell: 28 px across
        return np.where(small[:, None], [0.15, 0.8, 0.05], [0.7, 0.2, 0.1]).astype(np.float32)


def analyser(red_cell_classifier=None, flag_rules: FlagRules = RULES, stain_reference=None) -> SmearAnalyser:
    return SmearAnalyser(
        segmenter=ColourSegmenter(),
        classifier=SizeClassifier(),
        structures=["wbc", "nucleus", "rbc"],
        mask_rules={  # as shipped: pieces under 0.15 red-cell areas (e.g. resampled platelet rims) are no cells
            "wbc": {"threshold": 0.5, "closing_radius": 0.04, "min_area": 0.15},
            "nucleus": {"threshold": 0.5, "closing_radius": 0.02, "min_area": 0.03},
            "rbc": {"threshold": 0.5, "closing_radius": 0.04, "min_area": 0.15},
        },
        split_distance=0.6,
        patch_rbc_px=36.0,
        patch_size=96,
        review_below=0.6,
        scale=ScaleRules(assumed_px=70.0, percentile=75.0, min_cells=5, max_rise=1.2),
        red_cells=RedCellRules(min_radius=0.2, background_share=0.1, background_window=3.0, split_distance=0.6),
        platelets=PlateletRules(min_contrast=40.0, min_area=0.015, max_area=0.25),
        flag_rules=flag_rules,
        rbc_diameter_um=7.5,
        provenance={"bundles": {"stub": {"version": "0", "sha256": None}}},
        red_cell_classifier=red_cell_classifier,
        red_cell_patch_rbc_px=28.0,
        red_cell_patch_size=56,
        stain_reference=stain_reference,
    )


def diagnosed(folder):
    """A diagnose output (``folder/out``) of two constructed smears, ``a`` and ``b``, by :func:`analyser`.

    Each has 3 white cells: a neutrophil and two lymphocytes marked for review.
    """
    from PIL import Image

    from hemseg.diagnosis import diagnose_images

    image = smear()[0]
    for name in ("a.png", "b.png"):
        Image.fromarray(image).save(folder / name)
    diagnose_images(analyser(), [folder / "a.png", folder / "b.png"], folder / "out")
    return folder / "out"
