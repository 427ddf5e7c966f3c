"""hemseg.models.SourceBatchSampler: every batch from one source, sources and labels in their shares."""

from __future__ import annotations

import torch

from hemseg.models import SourceBatchSampler

RECORDS = [
    *({"dataset": "a", "label": "x"} for _ in range(10)),
    *({"dataset": "a", "label": "y"} for _ in range(2)),
    *({"dataset": "b", "label": "x"} for _ in range(5)),
]


def _batches(seed: int) -> list[list[int]]:
    sampler = SourceBatchSampler(RECORDS, {"a": 0.75, "b": 0.25}, 8, 7995, torch.Generator().manual_seed(seed))
    return list(sampler)


def test_each_batch_is_one_source_drawn_with_its_share_and_balanced_labels():
    batches = _batches(0)
    assert len(batches) == 1000 and {len(b) for b in batches} == {8}
    sources = [{RECORDS[i]["dataset"] for i in batch} for batch in batches]
    assert all(len(s) == 1 for s in sources)
    share_a = sum(s == {"a"} for s in sources) / len(batches)
    assert abs(share_a - 0.75) < 0.04
    drawn_a = [RECORDS[i]["label"] for batch in batches for i in batch if RECORDS[i]["dataset"] == "a"]
    assert abs(drawn_a.count("y") / len(drawn_a) - 0.5) < 0.03  # 2 of 12 records, half the draws


def test_the_same_generator_seed_draws_the_same_batches():
    assert _batches(1) == _batches(1) != _batches(2)
