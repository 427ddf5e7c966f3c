"""Training draws whose every batch comes from one source (lab) at a time."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

import torch

from hemseg.data import class_balanced_weights


class SourceBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Batches of record indices, each drawn from a single dataset (a ``DataLoader`` ``batch_sampler``).

    A batch's dataset is drawn with its ``dataset_share``; its records are then drawn with replacement,
    split equally between the dataset's labels (as :func:`hemseg.data.class_balanced_weights`). The
    batch-norm statistics of a training batch are then those of one lab, as they are when
    :meth:`hemseg.models.Classifier.adapted` re-estimates them on one specimen's cells.

    Args:
        records: classification records, each with ``dataset`` and ``label``.
        dataset_share: each dataset's share of the batches.
        batch_size: records per batch.
        num_samples: records per epoch (the last batch is as large as the others).
        generator: random generator; None uses torch's global one (``monai.utils.set_determinism``).
    """

    def __init__(
        self,
        records: Sequence[Mapping],
        dataset_share: Mapping[str, float],
        batch_size: int,
        num_samples: int,
        generator: torch.Generator | None = None,
    ) -> None:
        weights = torch.tensor(class_balanced_weights(records, dataset_share), dtype=torch.double)
        datasets = sorted({r["dataset"] for r in records})
        members = [torch.tensor([i for i, r in enumerate(records) if r["dataset"] == d]) for d in datasets]
        self.members = members
        self.weights = [weights[m] for m in members]
        self.shares = torch.stack([w.sum() for w in self.weights])
        self.batch_size = batch_size
        self.num_batches = math.ceil(num_samples / batch_size)
        self.generator = generator

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[list[int]]:
        sources = torch.multinomial(self.shares, self.num_batches, replacement=True, generator=self.generator)
        for source in sources.tolist():
            drawn = torch.multinomial(self.weights[source], self.batch_size, replacement=True, generator=self.generator)
            yield self.members[source][drawn].tolist()
