"""The block headers a range of logs is checked against before it is written.

The indexer fetches, for each range, the headers of its last block, of its blocks within the
reorg window and of the blocks whose logs carry no ``blockTimestamp`` (:func:`header_numbers`,
:func:`fetch_headers`), and refuses the range (:class:`ChainChanged`: the step is retried)
when they do not chain from the checkpoint or a log was removed (:func:`checked_headers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loanservicing.chain.rpc import RpcClient

__all__ = [
    "ChainChanged",
    "Header",
    "checked_headers",
    "fetch_headers",
    "header_numbers",
    "header_of",
]

_BATCH = 100
"""Headers asked for in one JSON-RPC batch."""


class ChainChanged(Exception):
    """The chain moved under a fetch (a reorg); the step is retried."""


@dataclass
class Header:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


def header_of(raw: Mapping[str, Any] | None) -> Header | None:
    """The header of an ``eth_getBlockByNumber`` reply (None for no block)."""
    if raw is None:
        return None
    return Header(
        int(raw["number"], 16), str(raw["hash"]), str(raw["parentHash"]), int(raw["timestamp"], 16)
    )


def fetch_headers(rpc: RpcClient, numbers: Iterable[int]) -> dict[int, Header]:
    """The headers of blocks ``numbers``, in batches; raises :class:`ChainChanged` when one
    of them is gone."""
    wanted = sorted(set(numbers))
    found: dict[int, Header] = {}
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        replies = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
        for number, raw in zip(chunk, replies, strict=True):
            header = header_of(raw)
            if header is None:
                raise ChainChanged(f"block {number} is gone")
            found[number] = header
    return found


def header_numbers(
    first: int, last: int, window_start: int, raw_logs: Sequence[Mapping[str, Any]]
) -> set[int]:
    """The blocks whose headers the range ``first..last`` needs: its last block, its blocks
    from ``window_start`` on (the reorg window) and the blocks of logs without a timestamp."""
    wanted = set(range(max(first, window_start), last + 1))
    wanted.add(last)
    for log in raw_logs:
        if log.get("blockTimestamp") is None:
            wanted.add(int(log["blockNumber"], 16))
    return wanted


def checked_headers(
    first: int,
    cp_hash: str | None,
    raw_logs: Sequence[Mapping[str, Any]],
    headers: dict[int, Header],
) -> dict[int, Header]:
    """``headers``, once they are checked to chain from the checkpoint block ``cp_hash``
    (before ``first``); raises :class:`ChainChanged` when they do not, or when the node
    returned a removed log."""
    for log in raw_logs:
        if log.get("removed"):
            raise ChainChanged("the node returned a removed log")
    if first in headers and cp_hash is not None and headers[first].parent_hash != cp_hash:
        raise ChainChanged(f"block {first}'s parent is not the checkpoint block")
    for number, fetched in headers.items():
        previous = headers.get(number - 1)
        if previous is not None and fetched.parent_hash != previous.hash:
            raise ChainChanged(f"blocks {number - 1} and {number} do not chain")
    return headers
