from __future__ import annotations

import pytest

from hemseg.data import Sample, is_validation, split_samples


def _samples(groups):
    return [Sample(id=f"s{i}", image=None, group=g) for i, g in enumerate(groups)]


def test_split_is_deterministic_and_seeded():
    samples = _samples(f"g{i}" for i in range(1000))
    train, val = split_samples(samples)
    assert split_samples(samples) == (train, val)
    assert len(train) + len(val) == 1000
    assert 170 <= len(val) <= 230
    _, other = split_samples(samples, seed=1)
    assert {s.id for s in other} != {s.id for s in val}


def test_a_group_never_straddles_the_split():
    samples = _samples(["a", "a", "b", "b", "b"] + [f"g{i}" for i in range(50)])
    train, val = split_samples(samples)
    assert not {s.group for s in train} & {s.group for s in val}


def test_fraction_bounds():
    assert not is_validation("x", 0.0)
    assert is_validation("x", 1.0)
    with pytest.raises(ValueError, match="val_fraction"):
        is_validation("x", 1.5)


def test_real_splits_are_about_80_20_and_disjoint_by_source(datasets):
    sides = {}
    for name, dataset in datasets.items():
        train, val = split_samples(dataset.samples)
        share = len(val) / len(dataset.samples)
        assert 0.12 <= share <= 0.3, (name, share)
        for side, samples in (("train", train), ("val", val)):
            for sample in samples:
                sides.setdefault(sample.group, set()).add(side)
    # across all datasets together (ALL-IDB2 crops and their ALL-IDB1 fields included)
    assert all(len(s) == 1 for s in sides.values())
    assert any(g.startswith("source:") for g in sides), "ALL-IDB crops were not linked to their fields"
