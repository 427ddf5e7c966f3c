"""Reading smear photos for diagnosis: colour images accepted, everything else refused with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hemseg.data import SmearImageError, read_smear

RNG = np.random.default_rng(0)
COLOUR = RNG.integers(0, 256, (40, 50, 3), dtype=np.uint8)


def test_rgb_and_rgba_read_as_rgb(tmp_path):
    Image.fromarray(COLOUR).save(tmp_path / "rgb.png")
    Image.fromarray(np.dstack([COLOUR, np.full((40, 50), 128, np.uint8)])).save(tmp_path / "rgba.png")
    for name in ("rgb.png", "rgba.png"):
        image = read_smear(tmp_path / name)
        assert image.dtype == np.uint8 and image.shape == (40, 50, 3)
        assert (image == COLOUR).all()


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("text.png", lambda p: p.write_text("not an image"), "not an image"),
        ("gray.png", lambda p: Image.fromarray(COLOUR[..., 0]).save(p), "grayscale"),
        ("gray16.png", lambda p: Image.fromarray(COLOUR[..., 0].astype(np.uint16) * 257).save(p), "grayscale"),
        ("gray-as-rgb.png", lambda p: Image.fromarray(np.repeat(COLOUR[..., :1], 3, 2)).save(p), "grayscale"),
        ("tiny.png", lambda p: Image.new("RGB", (1, 1)).save(p), "too small"),
        ("huge.png", lambda p: Image.new("1", (20000, 20000)).save(p), "too large"),
        ("truncated.jpg", lambda p: p.write_bytes(_jpeg()[:300]), "cannot decode"),
    ],
)
def test_bad_input_refused_with_one_line_reason(tmp_path, name, make, reason):
    path = tmp_path / name
    make(path)
    with pytest.raises(SmearImageError, match=reason) as err:
        read_smear(path)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(SmearImageError, match="no such file"):
        read_smear(tmp_path / "absent.png")


def _jpeg() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(np.kron(COLOUR, np.ones((8, 8, 1), np.uint8))).save(buffer, format="JPEG")
    return buffer.getvalue()
