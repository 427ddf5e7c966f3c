"""A batch of photos across processes and machines with torch.distributed (torchrun), rank 0 merging."""

from __future__ import annotations


def diagnose_sharded(batch, resume: bool = False) -> list[dict]:
    """Run a :class:`hemseg.diagnosis.batch.Batch` on every rank of the default process group.

    With ``batch.shared``, each rank first takes the scale readings of its share of the photos, and
    every rank the specimens' medians of all of them. Rank 0 then finishes the inputs that give no
    image (and, with ``resume``, those finished before) and sends the rest, with the run's
    provenance, to every rank; each rank analyses a disjoint shard (every ``world_size``-th photo
    from its rank on) and writes its photos' files under the output folder, which must therefore be
    shared by all machines; rank 0 gathers the results and writes ``summary.csv``, ``log.jsonl``,
    ``report.html`` and the specimens, exactly as one process would.
    Use gloo on CPUs, NCCL on GPUs (``torch.distributed.init_process_group``).

    Returns:
        The summary rows on rank 0, an empty list on the others.
    """
    import torch.distributed as dist

    rank, world = dist.get_rank(), dist.get_world_size()
    if batch.shared:  # each rank reads its share of the photos' scales, every rank shares them alike
        readings = [None] * world
        dist.all_gather_object(readings, batch.scale_readings(range(rank, len(batch.todo), world)))
        batch.share_scales(reading for part in readings for reading in part)
    shared = [batch.pending(resume), batch.provenance] if rank == 0 else [None, None]
    dist.broadcast_object_list(shared, src=0)
    pending, batch.provenance = shared
    results = [batch.analyse(index) for index in pending[rank::world]]
    gathered = [None] * world if rank == 0 else None
    dist.gather_object(results, gathered, dst=0)
    if rank != 0:
        return []
    for index, report, error in sorted((r for part in gathered for r in part), key=lambda r: r[0]):
        batch.finish(index, report, error)
    return batch.close()
