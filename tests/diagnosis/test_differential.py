from __future__ import annotations

import pytest

from hemseg.diagnosis import differential
from hemseg.diagnosis.differential import WHITE_CELL_CLASSES


def test_differential_from_cells():
    result = differential(["neutrophil"] * 6 + ["lymphocyte"] * 3 + ["blast"] + ["platelet"] * 4)
    assert result.wbc == 10
    assert result.counts["platelet"] == 4
    assert result.percent["neutrophil"] == 60.0
    assert result.percent["blast"] == 10.0
    assert result.blast_fraction == 0.1
    assert sum(result.percent.values()) == pytest.approx(100.0)


def test_differential_without_white_cells():
    result = differential({"platelet": 3})
    assert result.wbc == 0 and result.blast_fraction == 0.0
    assert set(result.percent.values()) == {0.0}
    with pytest.raises(ValueError, match="negative"):
        differential({"blast": -1})


def test_white_cell_classes_agree_with_hemseg_data():
    from hemseg.data import WHITE_CELL_CLASSES as DATA_WHITE_CELLS

    assert set(WHITE_CELL_CLASSES) == set(DATA_WHITE_CELLS)
