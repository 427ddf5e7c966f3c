"""A synthetic blood-smear photo drawn from scratch, to try the pipeline without any data."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def synthetic_smear(width: int = 640, height: int = 480, rbc_px: float = 48.0, seed: int = 0) -> tuple[np.ndarray, int]:
    """Draw an (H, W, 3) uint8 RGB smear and return it with its number of red cells.

    Pale red cells with central pallor surround two white cells.

    A neutrophil-like cell (lobed violet nucleus, pale cytoplasm) and a lymphocyte-like cell
    (round dark nucleus, thin blue rim) lie among non-overlapping red cells of diameter ``rbc_px``
    on a light background, with mild blur and noise. It is a drawing, not a smear: it shows what
    hemseg writes, and says nothing about accuracy.
    """
    import cv2

    rng = np.random.default_rng(seed)
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = (232, 226, 214)
    radius = rbc_px / 2
    whites = [(0.3 * width, 0.45 * height, 1.7 * radius), (0.7 * width, 0.6 * height, 1.25 * radius)]
    placed = [(x, y, r + 0.2 * radius) for x, y, r in whites]
    for _ in range(round(0.5 * width * height / rbc_px**2)):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        if all((x - px) ** 2 + (y - py) ** 2 > (radius + pr + 2) ** 2 for px, py, pr in placed):
            placed.append((x, y, radius))
            r = radius * rng.uniform(0.9, 1.1)
            cv2.circle(canvas, (round(x), round(y)), round(r), (206, 128, 128), -1, cv2.LINE_AA)
            cv2.circle(canvas, (round(x), round(y)), round(0.45 * r), (222, 170, 165), -1, cv2.LINE_AA)
    (nx, ny, nr), (lx, ly, lr) = whites
    cv2.circle(canvas, (round(nx), round(ny)), round(nr), (205, 180, 205), -1, cv2.LINE_AA)
    for angle in (0.3, 2.2, 4.2):
        centre = (round(nx + 0.45 * nr * np.cos(angle)), round(ny + 0.45 * nr * np.sin(angle)))
        cv2.circle(canvas, centre, round(0.36 * nr), (95, 40, 135), -1, cv2.LINE_AA)
    cv2.circle(canvas, (round(lx), round(ly)), round(lr), (160, 170, 220), -1, cv2.LINE_AA)
    cv2.circle(canvas, (round(lx), round(ly)), round(0.8 * lr), (75, 35, 125), -1, cv2.LINE_AA)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 1.2) + rng.normal(0, 3, canvas.shape)
    return np.clip(canvas, 0, 255).round().astype(np.uint8), len(placed) - len(whites)


def write_sample(path: str | Path, seed: int = 0) -> Path:
    """Write :func:`synthetic_smear` as a PNG (to a temporary name, then renamed)."""
    from PIL import Image

    from hemseg.data.files import replacing

    with replacing(path) as tmp:
        Image.fromarray(synthetic_smear(seed=seed)[0]).save(tmp, format="PNG")
    return Path(path)
