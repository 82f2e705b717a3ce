"""The event indexer's sync: ledger and credit-registry logs into the index (SQLite or
PostgreSQL), reorg-safe and crash-safe.

How it works, one step at a time:

1. Ask the node for the head and the hash of the block at the checkpoint (one JSON-RPC batch).
   If that hash differs from the stored one, walk back over the stored block hashes to the
   newest block the node still has (the common ancestor), delete everything above it, rebuild
   the derived state of the loans and borrowers those logs touched, and continue from there.
2. Fetch ``eth_getLogs`` for both contracts in one filter over the next block range. The range
   halves on a provider's "too many results" / "limit exceeded" / timeout error and doubles
   (up to a cap) while ranges come back sparse.
3. Fetch the headers of the range's last block and of every block within ``reorg_window`` of
   the target, check that the logs' block hashes and the parent-hash chain agree with them
   (from the checkpoint on), so a reorg during the fetch is never committed.
4. Decode the logs with precomputed decoders (topic0 -> event; static ABI words sliced
   directly, ``eth_abi.decode`` for anything dynamic), replay them into loan states and credit
   histories (:mod:`loanservicing.indexing.projections`), take new tokens' decimals from
   ``TokenAllowed`` (or ask the token), and write logs, blocks, derived rows and the new
   checkpoint in ONE transaction.

Several processes may sync one index (``index sync --follow`` beside ``monitor run``): each
write transaction holds the store's writer lock and first reads the checkpoint again. A range
another process committed meanwhile is dropped and the step starts over, and when the
checkpoint is not the one this indexer last wrote, its cached loan states and credit
histories are dropped before the range is applied (they are read again from the database).

A node that does not answer is retried with capped exponential backoff
(:class:`loanservicing.chain.rpc.Backoff`), with a warning each time, and the indexer resumes
where it was when the node is back. Every request goes through
:class:`loanservicing.chain.rpc.RpcClient`; decoding is :mod:`loanservicing.indexing.codec`.
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address

from loanservicing.chain.errors import RpcError, RpcTimeout
from loanservicing.chain.rpc import Backoff, RpcClient
from loanservicing.errors import LoanServicingError, NodeUnreachable
from loanservicing.indexing.codec import LEDGER, REGISTRY, DecodedLog, EventCodec, contract_abis
from loanservicing.indexing.database import BlockRow, IndexDB
from loanservicing.indexing.errors import IndexDatabaseError
from loanservicing.indexing.headers import (
    ChainChanged,
    Header,
    checked_headers,
    fetch_headers,
    header_numbers,
    header_of,
)
from loanservicing.indexing.projections import Projections, RangeStore

__all__ = ["Indexer", "IndexerConfig", "SyncReport"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_PIPELINE_BLOCKS = 8
"""A range of at least this many blocks is fetched in parts, decoded as they arrive."""
_FETCH_PARTS = 4
_ANCESTOR_BATCH = 32

# Messages by which providers say a getLogs range is too big (Alchemy, Infura, QuickNode,
# Geth, Erigon, Anvil, Hardhat...).
_TOO_LARGE = (
    "too many",
    "query returned more than",
    "limit exceeded",
    "exceed",
    "response size",
    "block range",
    "range too large",
    "timeout",
    "timed out",
    "query timeout",
)


class _RangeTooLarge(Exception):
    """The provider refused or timed out on a getLogs range."""


class _NoTimestamps(Exception):
    """The node's logs carry no ``blockTimestamp``: ranges are fetched whole, then headers."""


@dataclass(frozen=True)
class IndexerConfig:
    """Where to index from and how; the defaults suit a dev chain."""

    rpc_url: str
    ledger: str
    registry: str
    from_block: int = 0
    confirmations: int = 0
    initial_range: int = 2_000
    max_range: int = 100_000
    sparse_logs: int = 5_000
    reorg_window: int = 64
    poll_interval: float = 0.2
    backoff_initial: float = 0.25
    backoff_max: float = 10.0
    request_timeout: float = 30.0
    max_unreachable_seconds: float | None = None


@dataclass
class SyncReport:
    """What one ``sync`` did."""

    start_block: int
    end_block: int
    logs: int = 0
    ranges: int = 0
    reorgs: int = 0
    rolled_back_blocks: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start_block": self.start_block,
            "end_block": self.end_block,
            "logs": self.logs,
            "ranges": self.ranges,
            "reorgs": self.reorgs,
            "rolled_back_blocks": self.rolled_back_blocks,
            "seconds": round(self.seconds, 3),
        }


_Decoded = tuple[list[DecodedLog], dict[int, tuple[str, int]], list[tuple[int, str]]]
"""Decoded logs, each block's (hash, timestamp), and the (number, hash) pairs the logs name."""


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a range is decoded, folded and written: the range
    allocates hundreds of thousands of short-lived dicts and tuples, none in a cycle, and each
    collection would walk all of them again (a fifth of a large range's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _InThread(Generic[T]):
    """``fn()`` in a thread of its own, started now; :meth:`result` waits for its value and
    for the thread's end (so that a fork after it sees this process as one thread)."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(fn,), name="index-fetch", daemon=True
        )
        self._thread.start()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._value = fn()
        except BaseException as exc:  # raised again by result()
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class Indexer:
    """Indexes one deployment's events into one :class:`IndexDB`."""

    def __init__(
        self,
        config: IndexerConfig,
        db: IndexDB,
        abis: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.rpc = RpcClient(config.rpc_url, timeout=config.request_timeout)
        self.ledger = str(to_checksum_address(config.ledger))
        self.registry = str(to_checksum_address(config.registry))
        self.codec = EventCodec(abis if abis is not None else contract_abis())
        self._roles = {self.ledger.lower(): LEDGER, self.registry.lower(): REGISTRY}
        self.range_size = max(1, config.initial_range)
        self.projections = Projections(db)
        self._decimals: dict[str, int] = {}
        self._initialised = False
        self._written: tuple[int, str | None] | None = None
        """The checkpoint this indexer last committed: its caches hold that state."""
        self._down_since: float | None = None
        self._streaming = True
        """Whether large ranges are fetched in parts and written as they arrive (until the
        node's logs turn out to carry no block timestamps)."""
        self.on_commit: list[Callable[[int, int], None]] = []
        """Called as f(first_block, last_block) after each committed range."""

    # ------------------------------------------------------------------ setup
    def _initialise(self) -> None:
        if self._initialised:
            return
        chain_id = int(self.rpc.call("eth_chainId", []), 16)
        expected = {
            "chain_id": str(chain_id),
            "ledger": self.ledger,
            "credit_registry": self.registry,
            "from_block": str(self.config.from_block),
        }
        stored = {key: self.db.meta(key) for key in expected}
        if all(v is None for v in stored.values()):
            with self.db.transaction():
                # Read again under the writer lock: another process may have begun meanwhile.
                stored = {key: self.db.meta(key) for key in expected}
                if all(v is None for v in stored.values()):
                    for key, value in expected.items():
                        self.db.set_meta(key, value)
                    start = self.config.from_block - 1
                    self.db.set_checkpoint(self.ledger, LEDGER, start, None)
                    self.db.set_checkpoint(self.registry, REGISTRY, start, None)
                    stored = {key: value for key, value in expected.items()}
        if stored != expected:
            for key, value in expected.items():
                if stored[key] != value:
                    raise IndexDatabaseError(
                        f"The index database {self.db.name} was built with {key} "
                        f"{stored[key]}, not {value}; use another --db file."
                    )
        self._decimals = self.db.token_decimals()
        self._initialised = True

    def checkpoint(self) -> tuple[int, str | None]:
        """(block number, hash) indexed so far for every contract (hash None: none yet)."""
        points = self.db.checkpoints()
        if not points:
            return self.config.from_block - 1, None
        lowest = min(points, key=lambda p: p.block_number)
        return lowest.block_number, lowest.block_hash

    # ------------------------------------------------------------------ public
    def sync(self, to_block: int | None = None) -> SyncReport:
        """Index up to ``to_block`` (default: the head minus the confirmation depth)."""
        started = time.monotonic()
        self._with_retry(self._initialise)
        start = self.checkpoint()[0]
        report = SyncReport(start_block=start + 1, end_block=start)
        target = to_block
        while True:
            goal = self._with_retry(lambda t=target: self._step(report, t))  # type: ignore[misc]
            if goal is None:
                break
            target = goal if target is None else target
        report.end_block = self.checkpoint()[0]
        report.seconds = time.monotonic() - started
        return report

    def follow(
        self,
        stop: threading.Event | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> SyncReport:
        """Index forever (until ``stop`` is set), polling the head every ``poll_interval``."""
        started = time.monotonic()
        stop = stop or threading.Event()
        self._with_retry(self._initialise, stop)
        start = self.checkpoint()[0]
        report = SyncReport(start_block=start + 1, end_block=start)
        while not stop.is_set():
            progressed = self._with_retry(lambda: self._step(report, None), stop)
            if progressed is None and not stop.is_set():
                if on_idle is not None:
                    on_idle()
                stop.wait(self.config.poll_interval)
        report.end_block = self.checkpoint()[0]
        report.seconds = time.monotonic() - started
        return report

    # ------------------------------------------------------------------ retry
    def _with_retry(self, fn: Callable[[], Any], stop: threading.Event | None = None) -> Any:
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        while True:
            try:
                result = fn()
            except NodeUnreachable as exc:  # the client's: the node did not answer
                reason = exc.__cause__ or exc
                now = time.monotonic()
                if self._down_since is None:
                    self._down_since = now
                waited = now - self._down_since
                limit = self.config.max_unreachable_seconds
                if limit is not None and waited >= limit:
                    raise NodeUnreachable(
                        f"The node at {self.config.rpc_url} did not answer for {waited:.0f} s "
                        f"({reason}); the index is intact up to block {self.checkpoint()[0]}."
                    ) from None
                delay = backoff.next_delay()
                logger.warning(
                    "The node at %s is unreachable (%s); retrying in %.2f s.",
                    self.config.rpc_url,
                    reason,
                    delay,
                )
                if stop is not None:
                    if stop.wait(delay):
                        return None
                else:
                    time.sleep(delay)
                continue
            if self._down_since is not None:
                logger.warning(
                    "The node at %s answers again after %.1f s; resuming from block %d.",
                    self.config.rpc_url,
                    time.monotonic() - self._down_since,
                    self.checkpoint()[0] + 1,
                )
                self._down_since = None
            return result

    # -------------------------------------------------------------------- step
    def _step(self, report: SyncReport, target: int | None) -> int | None:
        """Index one range; returns the target it worked towards, None when caught up."""
        cp_number, cp_hash = self.checkpoint()
        calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
        if cp_hash is not None:
            calls.append(("eth_getBlockByNumber", [hex(cp_number), False]))
        results = self.rpc.batch(calls)
        head = int(results[0], 16)
        if cp_hash is not None:
            node_header = header_of(results[1])
            if node_header is None or node_header.hash != cp_hash:
                self._handle_reorg(report, cp_number)
                return target if target is not None else head - self.config.confirmations
        goal = head - self.config.confirmations if target is None else min(target, head)
        if cp_number >= goal:
            return None
        first = cp_number + 1
        last = min(first + self.range_size - 1, goal)
        try:
            with _collector_paused():
                if last - first + 1 >= _PIPELINE_BLOCKS and self._streaming:
                    count = self._stream_range(first, last, goal, cp_hash)
                else:
                    count = self._commit_range(first, last, goal, cp_hash)
        except _RangeTooLarge as exc:
            if self.range_size == 1:
                raise LoanServicingError(
                    f"The node refuses eth_getLogs even for the single block {first} ({exc})."
                ) from exc
            self.range_size = max(1, self.range_size // 2)
            logger.info(
                "Range %d-%d too large (%s); now %d blocks.", first, last, exc, self.range_size
            )
            return goal
        except _NoTimestamps:
            logger.info("The node's logs carry no block timestamps; headers give them.")
            self._streaming = False
            return goal
        except ChainChanged as exc:
            logger.info("The chain changed while fetching %d-%d (%s); retrying.", first, last, exc)
            return goal
        report.ranges += 1
        report.logs += count
        if count < self.config.sparse_logs:
            self.range_size = min(self.range_size * 2, self.config.max_range)
        for listener in self.on_commit:
            listener(first, last)
        return goal

    def _get_logs(self, first: int, last: int) -> list[dict[str, Any]]:
        params = [
            {
                "fromBlock": hex(first),
                "toBlock": hex(last),
                "address": [self.ledger, self.registry],
            }
        ]
        try:
            result = self.rpc.call("eth_getLogs", params)
        except RpcTimeout as exc:
            if self.range_size == 1:
                raise
            raise _RangeTooLarge(f"timeout: {exc}") from exc
        except RpcError as exc:
            message = exc.rpc_message.lower()
            if any(pattern in message for pattern in _TOO_LARGE) or exc.code in (-32005,):
                raise _RangeTooLarge(exc.rpc_message) from exc
            raise
        return list(result)

    def _decode(
        self, raw_logs: Sequence[Mapping[str, Any]], headers: Mapping[int, Header]
    ) -> _Decoded:
        """Decode ``raw_logs``: the decoded logs in chain order, each block's (hash,
        timestamp), and every (block number, hash) the logs name. A log without
        ``blockTimestamp`` takes its block's from ``headers``."""
        decoded: list[DecodedLog] = []
        log_blocks: dict[int, tuple[str, int]] = {}
        seen: list[tuple[int, str]] = []
        roles = self._roles
        decode = self.codec.decode
        # Logs come block by block: a block's number and timestamp are worked out once per
        # block (per distinct number, hash and timestamp field), not once per log.
        block_key: tuple[Any, Any, Any] | None = None
        number = timestamp = 0
        for log in raw_logs:
            key = (log["blockNumber"], log["blockHash"], log.get("blockTimestamp"))
            if key != block_key:
                block_key = key
                number = int(key[0], 16)
                stamp = key[2]
                timestamp = int(stamp, 16) if stamp is not None else headers[number].timestamp
                log_blocks[number] = (str(key[1]), timestamp)
                seen.append((number, str(key[1])))
            role = roles.get(str(log["address"]).lower())
            if role is None:
                continue
            item = decode(log, role, timestamp, number)
            if item is not None:
                decoded.append(item)
        decoded.sort(key=lambda d: (d.block_number, d.log_index))
        return decoded, log_blocks, seen

    # ------------------------------------------------------------------ commit
    def _commit_range(self, first: int, last: int, goal: int, cp_hash: str | None) -> int:
        """Fetch the range whole, check it against the headers, decode, and write it in one
        transaction; returns the number of logs."""
        raw_logs = self._get_logs(first, last)
        wanted = header_numbers(first, last, self._window_start(goal), raw_logs)
        headers = checked_headers(first, cp_hash, raw_logs, fetch_headers(self.rpc, wanted))
        decoded = self._decode(raw_logs, headers)
        with (
            self._range_transaction(first, last, cp_hash) as done,
            self.projections.open_range() as writer,
        ):
            if len(decoded[0]) >= self.projections.fork_logs:
                writer.fork()
            writer.add(decoded[0])
            done.append(self._finish_range(last, goal, headers, decoded, writer))
        return len(raw_logs)

    def _stream_range(self, first: int, last: int, goal: int, cp_hash: str | None) -> int:
        """Fetch the range in parts, one after another in a thread, and write each part as it
        arrives while the node works on the next (its replay in a forked child: see
        :class:`~loanservicing.indexing.projections.RangeStore`), all in one transaction,
        checked against the headers before it commits; returns the number of logs. Raises
        :class:`_NoTimestamps` (nothing written) when the node's logs carry no block
        timestamp, which only the headers would then give."""
        span = last - first + 1
        step = -(-span // _FETCH_PARTS)
        parts = [(a, min(a + step - 1, last)) for a in range(first, last + 1, step)]
        raw_logs: list[dict[str, Any]] = []
        pieces: list[_Decoded] = []
        with (
            self._range_transaction(first, last, cp_hash) as done,
            self.projections.open_range() as writer,
        ):
            fetch = self._fetch(parts[0])
            header_fetch: _InThread[dict[int, Header]] | None = None
            for i in range(len(parts)):
                logs = fetch.result()  # its thread has ended: this process is one thread
                if len(raw_logs) + len(logs) >= self.projections.fork_logs:
                    writer.fork()  # the replay goes on in a child from here (once)
                if i + 1 < len(parts):
                    fetch = self._fetch(parts[i + 1])  # the node works meanwhile
                else:  # the headers come while the last part is decoded and written
                    wanted = header_numbers(first, last, self._window_start(goal), [])
                    header_fetch = _InThread(functools.partial(fetch_headers, self.rpc, wanted))
                if any(log.get("blockTimestamp") is None for log in logs):
                    (header_fetch or fetch).result()
                    raise _NoTimestamps()
                piece = self._decode(logs, {})
                writer.add(piece[0])
                raw_logs += logs
                pieces.append(piece)
            assert header_fetch is not None
            headers = checked_headers(first, cp_hash, raw_logs, header_fetch.result())
            decoded: list[DecodedLog] = []
            log_blocks: dict[int, tuple[str, int]] = {}
            seen: list[tuple[int, str]] = []
            for part_decoded, part_blocks, part_seen in pieces:
                decoded += part_decoded
                log_blocks.update(part_blocks)
                seen += part_seen
            done.append(
                self._finish_range(last, goal, headers, (decoded, log_blocks, seen), writer)
            )
        return len(raw_logs)

    @contextmanager
    def _range_transaction(
        self, first: int, last: int, cp_hash: str | None
    ) -> Iterator[list[tuple[str, dict[str, int]]]]:
        """The write transaction of one range, from the checkpoint before ``first``: yields
        a list for the range's (end hash, new tokens' decimals), which are this indexer's
        after the commit. On any failure the caches are dropped (nothing was written)."""
        done: list[tuple[str, dict[str, int]]] = []
        try:
            with self.db.transaction():
                self._check_checkpoint((first - 1, cp_hash))
                yield done
        except BaseException:
            self._forget_cache()
            raise
        end_hash, new_tokens = done[0]
        self._written = (last, end_hash)
        self._decimals.update(new_tokens)

    def _fetch(self, part: tuple[int, int]) -> _InThread[list[dict[str, Any]]]:
        return _InThread(functools.partial(self._get_logs, *part))

    def _window_start(self, goal: int) -> int:
        """The first block within the reorg window of ``goal``."""
        return goal - self.config.reorg_window + 1

    def _finish_range(
        self,
        last: int,
        goal: int,
        headers: Mapping[int, Header],
        decoded_range: _Decoded,
        writer: RangeStore,
    ) -> tuple[str, dict[str, int]]:
        """Inside the range's transaction, once its logs are given to ``writer``: check the
        logs' block hashes against the headers, write the blocks, new tokens, the fold's
        results and the checkpoint; returns (the end block's hash, the new tokens)."""
        decoded, log_blocks, seen = decoded_range
        for number, block_hash in seen:
            known = headers.get(number)
            if known is not None and known.hash != block_hash:
                raise ChainChanged(f"block {number}'s hash changed")
        window_start = self._window_start(goal)
        blocks: list[BlockRow] = []
        for number, (block_hash, timestamp) in log_blocks.items():
            in_window = headers.get(number) if number >= window_start else None
            parent = in_window.parent_hash if in_window is not None else None
            blocks.append(BlockRow(number, block_hash, parent, timestamp, True))
        for number, fetched in headers.items():
            if number in log_blocks:
                continue
            parent = fetched.parent_hash if number >= window_start else None
            blocks.append(BlockRow(number, fetched.hash, parent, fetched.timestamp, False))
        new_tokens = self._new_tokens(decoded, last)
        new_symbols = self._symbols(new_tokens, last)
        writer.finish()  # first: the range's own writes end before these
        self.db.upsert_blocks(blocks)
        for token, decimals in new_tokens.items():
            self.db.set_token_decimals(token, decimals)
        for token, symbol in new_symbols.items():
            self.db.set_token_symbol(token, symbol)
        end_hash = headers[last].hash
        self.db.set_checkpoint(self.ledger, LEDGER, last, end_hash)
        self.db.set_checkpoint(self.registry, REGISTRY, last, end_hash)
        self.db.prune_blocks(min(window_start, self._window_start(last)))
        return end_hash, new_tokens

    def _check_checkpoint(self, expected: tuple[int, str | None]) -> None:
        """Under the writer lock: refuse to write over what another process committed since
        this step read the checkpoint, and forget the caches when another process wrote
        since this indexer's last commit."""
        current = self.checkpoint()
        if current != expected:
            raise ChainChanged(f"another process indexed up to block {current[0]} meanwhile")
        if current != self._written:
            self._forget_cache()
            self._written = current

    def _new_tokens(self, decoded: Sequence[DecodedLog], block: int) -> dict[str, int]:
        """Decimals of the tokens first seen in ``decoded``: from ``TokenAllowed``, or asked
        of the token (``decimals()``) for a loan's token allowed before ``from_block``."""
        found = {
            str(d.args["token"]): int(d.args["decimals"])
            for d in decoded
            if d.event == "TokenAllowed" and d.role == LEDGER
        }
        tokens = {
            str(d.args["terms"]["token"])
            for d in decoded
            if d.event == "LoanOriginated" and d.role == LEDGER
        }
        missing = sorted(t for t in tokens if t not in self._decimals and t not in found)
        if missing:
            replies = self.rpc.batch(
                [("eth_call", [{"to": t, "data": "0x313ce567"}, hex(block)]) for t in missing]
            )
            found.update({t: int(r, 16) for t, r in zip(missing, replies, strict=True)})
        return {t: d for t, d in found.items() if self._decimals.get(t) != d}

    def _symbols(self, tokens: Mapping[str, int], block: int) -> dict[str, str]:
        """The symbols of ``tokens`` (``symbol()``), for readers of the index alone; a token
        that answers none (or not a string) is left without one."""
        symbols = {}
        for token in sorted(tokens):  # a few per deployment: one call each
            try:
                reply = self.rpc.call("eth_call", [{"to": token, "data": "0x95d89b41"}, hex(block)])
                (symbol,) = abi_decode(["string"], bytes.fromhex(str(reply).removeprefix("0x")))
            except (RpcError, ValueError, TypeError, DecodingError):
                continue  # no symbol(), or a bytes32 one: amounts go without it
            symbols[token] = str(symbol)
        return symbols

    def _forget_cache(self) -> None:
        self.projections.forget()
        self._decimals = self.db.token_decimals()

    # ------------------------------------------------------------------ reorgs
    def _handle_reorg(self, report: SyncReport, cp_number: int) -> None:
        ancestor, ancestor_hash = self._common_ancestor(cp_number)
        logger.warning(
            "Chain reorganisation: block %d is no longer on the node's chain; rolling back "
            "to block %d and re-indexing.",
            cp_number,
            ancestor,
        )
        try:
            with self.db.transaction():
                if self.checkpoint()[0] != cp_number:
                    logger.info("Another process handled the reorganisation meanwhile.")
                    return
                loans, borrowers = self.db.rollback_above(ancestor)
                self.projections.rebuild(loans, borrowers)
                self.db.set_checkpoint(self.ledger, LEDGER, ancestor, ancestor_hash)
                self.db.set_checkpoint(self.registry, REGISTRY, ancestor, ancestor_hash)
        finally:
            self._forget_cache()
            self._written = None
        report.reorgs += 1
        report.rolled_back_blocks += cp_number - ancestor

    def _common_ancestor(self, cp_number: int) -> tuple[int, str | None]:
        """The newest stored block the node still has, by number and hash."""
        below = cp_number
        while True:
            stored = self.db.block_hashes_below(below, _ANCESTOR_BATCH)
            if not stored:
                return self.config.from_block - 1, None
            replies = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n, _ in stored])
            for (number, block_hash), raw in zip(stored, replies, strict=True):
                header = header_of(raw)
                if header is not None and header.hash == block_hash:
                    return number, block_hash
            below = stored[-1][0] - 1
