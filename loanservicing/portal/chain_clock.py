"""The chain time the index is valid at: the timestamp of its newest indexed block, read from
the index itself (no RPC call)."""

from __future__ import annotations

from loanservicing.indexing.database import IndexDB

__all__ = ["index_clock"]


def index_clock(db: IndexDB) -> tuple[int, int]:
    """(timestamp, number) of the newest block indexed for every contract; (0, -1) before
    the first range is indexed."""
    points = db.checkpoints()
    if not points or any(p.block_hash is None for p in points):
        return 0, -1
    number = min(p.block_number for p in points)
    block = db.block(number)
    return (block.timestamp, number) if block is not None else (0, -1)
