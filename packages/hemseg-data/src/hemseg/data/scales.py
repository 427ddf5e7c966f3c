"""The red-cell diameter of each shared dataset: the one table every bundle config and test reads."""

from __future__ import annotations

#: Red-cell diameter in pixels per dataset of the shared data, measured with ``hemseg data summary
#: DATA --sizes`` (docs/howto/data.md): ``bccd`` the median side of whole red-cell VOC boxes;
#: ``all_idb1`` the median over red-cell mask components that look like one round cell (``rbc_single``;
#: the plain median, 88.6 px, includes clumps), and ``all_idb2``, whose crops are pixel copies of
#: ALL-IDB1 fields, the same; ``pbc`` the median of 288 whole round red cells in 150 crops; ``jtsc_wbc``
#: has no red-cell annotation: an estimate by eye from the faint red cells at the crops' edges,
#: consistent with its 73 px white cells; ``chula_rbc`` hemseg's own estimate on 16 fields (data README).
#: A dataset not listed here is scored at the pipeline's own estimate per image.
RBC_DIAMETER_PX: dict[str, float] = {
    "bccd": 104.0,
    "jtsc_wbc": 48.0,
    "all_idb2": 83.0,
    "all_idb1": 83.0,
    "pbc": 38.0,
    "chula_rbc": 40.0,
}
