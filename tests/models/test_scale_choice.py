"""Where ``hemseg evaluate``'s red-cell diameter comes from (:class:`hemseg.models.evaluation.ScaleChoice`), stubs."""

from __future__ import annotations

import numpy as np
import pytest

from hemseg.models.evaluation import ScaleChoice


class _Readings:
    """Scale rules whose first reading of an image is written in its first pixel (0: only assumed)."""

    def estimate(self, rgb, segmenter, structures, mask_rules):
        value = float(rgb[0, 0, 0])
        return (70.0, "assumed") if value == 0 else (value, "red_cells")


def _image(px: int) -> np.ndarray:
    image = np.zeros((3, 8, 8), dtype=np.float32)
    image[0, 0, 0] = px / 255.0
    return image


def test_shared_takes_the_median_of_the_readings_and_leaves_assumed_ones_out():
    images = [_image(px) for px in (40, 0, 44, 50, 0)]
    choice = ScaleChoice("any", "shared", None, ["wbc"], {}, _Readings())
    choice.share(images)
    assert [choice(image) for image in images] == [44.0] * 5
    assert choice.summary() == {
        "rbc_diameter_px": "shared",
        "scale_source": "shared",
        "scale_readings": 3,
        "rbc_diameter_px_median": 44.0,
    }


def test_shared_without_a_reading_estimates_each_image_and_says_so():
    images = [_image(0), _image(0)]
    choice = ScaleChoice("any", "shared", None, ["wbc"], {}, _Readings())
    choice.share(images)
    assert [choice(image) for image in images] == [70.0, 70.0]
    summary = choice.summary()
    assert summary["scale_readings"] == 0 and summary["rbc_diameter_px_median"] == 70.0
    assert summary["scale_source"] == "estimated per image (no image gave a reading to share)"


def test_auto_and_given_scales_are_not_shared():
    images = [_image(px) for px in (40, 60)]
    auto = ScaleChoice("any", "auto", None, ["wbc"], {}, _Readings())
    auto.share(images)
    assert [auto(image) for image in images] == [40.0, 60.0]
    given = ScaleChoice("any", 38, None, ["wbc"], {}, None)
    given.share(images)
    assert given(images[0]) == 38.0 and given.summary() == {"rbc_diameter_px": 38.0, "scale_source": "given"}


@pytest.mark.parametrize("value", [0, -3, "big"])
def test_a_scale_that_is_no_diameter_is_refused(value):
    with pytest.raises(ValueError, match="positive, 'auto' or 'shared'"):
        ScaleChoice("any", value, None, ["wbc"], {}, None)


def test_a_dataset_not_in_the_table_shares_one_scale_and_a_known_one_takes_its_entry():
    from hemseg.data import RBC_DIAMETER_PX

    images = [_image(px) for px in (40, 60, 44)]
    unknown = ScaleChoice("another_lab", None, None, ["wbc"], {}, _Readings())
    unknown.share(images)
    assert [unknown(image) for image in images] == [44.0] * 3
    assert unknown.summary()["scale_source"] == "shared (not in the table)"
    known = ScaleChoice("pbc", None, None, ["wbc"], {}, None)
    known.share(images)
    assert known(images[0]) == RBC_DIAMETER_PX["pbc"] and known.summary()["scale_source"] == "table"
