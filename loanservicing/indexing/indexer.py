"""The event indexer: ledger and credit-registry logs into SQLite, reorg-safe and crash-safe.

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
   records (:mod:`loanservicing.ledger.loan_state`), and write logs, blocks, derived rows and
   the new checkpoint in ONE SQLite transaction.

A node that does not answer is retried with capped exponential backoff, with a warning each
time, and the indexer resumes where it was when the node is back.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import requests
from eth_abi.abi import decode as abi_decode
from eth_hash.auto import keccak as _keccak256
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from loanservicing.chain.reverts import canonical_type
from loanservicing.errors import LoanServicingError, NodeUnreachable
from loanservicing.indexing.database import BlockRow, IndexDB
from loanservicing.indexing.errors import IndexDatabaseError, RpcError
from loanservicing.ledger.loan_state import (
    CreditRecord,
    LedgerEvent,
    LoanState,
    apply_ledger_events,
    apply_registry_event,
)

__all__ = [
    "DecodedLog",
    "Difference",
    "EventCodec",
    "Indexer",
    "IndexerConfig",
    "JsonRpc",
    "RpcError",
    "SyncReport",
    "VerifyReport",
    "contract_abis",
    "verify_index",
]

logger = logging.getLogger(__name__)

LEDGER = "ledger"
REGISTRY = "credit_registry"
_HEADER_BATCH = 100
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


class _NodeDown(Exception):
    """Transient: the node did not answer (connection refused, reset, timed out)."""


class _Timeout(_NodeDown):
    """The node did not answer within the request timeout."""


class _RangeTooLarge(Exception):
    """The provider refused or timed out on a getLogs range."""


class _ChainChanged(Exception):
    """The chain moved under a fetch (a reorg); the step is retried."""


# =========================================================================== JSON-RPC


try:  # msgspec parses and writes JSON several times faster than json (optional)
    import msgspec.json as _msgspec_json

    def _loads(data: bytes) -> Any:
        return _msgspec_json.decode(data)

    def _dumps(value: Any) -> str:
        return _msgspec_json.encode(value).decode()

except ImportError:  # pragma: no cover - optional speed-up

    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))


class JsonRpc:
    """A minimal JSON-RPC client over HTTP with batches; raw results, no formatting."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        self._next_id = 0

    def _post(self, body: Any, timeout: float | None) -> Any:
        try:
            response = self.session.post(
                self.url,
                data=json.dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=timeout or self.timeout,
            )
        except requests.Timeout as exc:
            raise _Timeout(str(exc)) from exc
        except (requests.ConnectionError, OSError) as exc:
            raise _NodeDown(str(exc)) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise _NodeDown(f"HTTP {response.status_code} from {self.url}")
        try:
            return _loads(response.content)
        except ValueError as exc:
            raise _NodeDown(f"unreadable reply from {self.url}: {exc}") from exc

    def call(self, method: str, params: list[Any], timeout: float | None = None) -> Any:
        self._next_id += 1
        reply = self._post(
            {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}, timeout
        )
        if "error" in reply:
            error = reply["error"]
            raise RpcError(method, error.get("code"), str(error.get("message")))
        return reply.get("result")

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Results in the order of ``calls``; any error raises RpcError."""
        if not calls:
            return []
        first = self._next_id + 1
        self._next_id += len(calls)
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)
        ]
        replies = self._post(body, None)
        if isinstance(replies, dict):  # some nodes answer a whole batch with one error
            error = replies.get("error", {})
            raise RpcError("batch", error.get("code"), str(error.get("message")))
        by_id = {r.get("id"): r for r in replies}
        results = []
        for i, (method, _) in enumerate(calls):
            reply = by_id.get(first + i)
            if reply is None:
                raise RpcError(method, None, "no reply in the batch")
            if "error" in reply:
                error = reply["error"]
                raise RpcError(method, error.get("code"), str(error.get("message")))
            results.append(reply.get("result"))
        return results


# ============================================================================ decoding


@lru_cache(maxsize=262_144)
def _checksum_hex(lower: str) -> str:
    """EIP-55 checksum of 40 lowercase hex digits (no 0x), as ``to_checksum_address``."""
    digest = _keccak256(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if c > "9" and digest[i] > "7" else c for i, c in enumerate(lower)
    )


def _signed(word: str) -> int:
    value = int(word, 16)
    return value - (1 << 256) if value >> 255 else value


def _word_reader(kind: str) -> Callable[[str], Any] | None:
    """A reader of one ABI word given as 64 hex digits, for a static elementary type."""
    if kind.startswith("uint"):
        return lambda w: int(w, 16)
    if kind.startswith("int"):
        return _signed
    if kind == "address":
        return lambda w: _checksum_hex(w[24:].lower())
    if kind == "bool":
        return lambda w: w[63] == "1"
    if kind.startswith("bytes") and kind != "bytes":
        size = int(kind[5:])
        return lambda w: "0x" + w[: 2 * size].lower()
    return None


def _static_layout(params: Sequence[Mapping[str, Any]]) -> list[tuple[str, Any]] | None:
    """(name, reader or nested layout) per parameter when all are static, else None."""
    layout: list[tuple[str, Any]] = []
    for p in params:
        kind = str(p["type"])
        if kind == "tuple":
            nested = _static_layout(p["components"])
            if nested is None:
                return None
            layout.append((str(p["name"]), nested))
            continue
        reader = _word_reader(kind)
        if reader is None:
            return None
        layout.append((str(p["name"]), reader))
    return layout


def _read_static(
    layout: list[tuple[str, Any]], data: str, offset: int
) -> tuple[dict[str, Any], int]:
    """Read words from ``data`` (hex digits after 0x) starting at hex offset ``offset``."""
    values: dict[str, Any] = {}
    for name, reader in layout:
        if isinstance(reader, list):
            values[name], offset = _read_static(reader, data, offset)
        else:
            values[name] = reader(data[offset : offset + 64])
            offset += 64
    return values, offset


def _jsonable(value: Any, param: Mapping[str, Any]) -> Any:
    """eth_abi output to the same JSON-friendly shape as the static fast path."""
    kind = str(param["type"])
    if kind == "tuple":
        return {
            str(c["name"]): _jsonable(v, c) for c, v in zip(param["components"], value, strict=True)
        }
    if kind.endswith("]"):
        inner = {**param, "type": kind[: kind.rindex("[")]}
        return [_jsonable(v, inner) for v in value]
    if kind == "address":
        return _checksum_hex(str(value).lower()[2:])
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


@dataclass(frozen=True)
class EventSpec:
    """A precomputed decoder for one event of one contract."""

    name: str
    role: str
    topic0: str
    indexed: tuple[tuple[str, Callable[[str], Any] | None], ...]
    data_params: tuple[Mapping[str, Any], ...]
    data_types: tuple[str, ...]
    static_layout: list[tuple[str, Any]] | None

    def decode(self, topics: Sequence[str], data: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, reader), topic in zip(self.indexed, topics[1:], strict=True):
            args[name] = topic if reader is None else reader(topic[2:])
        if self.static_layout is not None:
            values, _ = _read_static(self.static_layout, data, 2)
            args.update(values)
        else:
            decoded = abi_decode(list(self.data_types), bytes.fromhex(data[2:]))
            for param, value in zip(self.data_params, decoded, strict=True):
                args[str(param["name"])] = _jsonable(value, param)
        return args


@dataclass(frozen=True)
class DecodedLog:
    """A log decoded into its event name and arguments, with where it is on chain."""

    role: str
    event: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str
    tx_index: int
    timestamp: int

    @property
    def loan_id(self) -> int | None:
        value = self.args.get("loanId")
        return None if value is None or self.role != LEDGER else int(value)

    @property
    def borrower(self) -> str | None:
        value = self.args.get("borrower")
        return None if value is None or self.role != REGISTRY else str(value)


class EventCodec:
    """topic0 -> event decoder, for the ledger's and the registry's events."""

    def __init__(self, abis: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.specs: dict[tuple[str, str], EventSpec] = {}
        for role, abi in abis.items():
            for item in abi:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                spec = self._spec(role, item)
                self.specs[(role, spec.topic0)] = spec

    @staticmethod
    def _spec(role: str, item: Mapping[str, Any]) -> EventSpec:
        inputs = list(item["inputs"])
        signature = f"{item['name']}({','.join(canonical_type(p) for p in inputs)})"
        topic0 = "0x" + keccak(text=signature).hex()
        indexed = tuple(
            (str(p["name"]), _word_reader(str(p["type"]))) for p in inputs if p.get("indexed")
        )
        data_params = tuple(p for p in inputs if not p.get("indexed"))
        return EventSpec(
            name=str(item["name"]),
            role=role,
            topic0=topic0,
            indexed=indexed,
            data_params=data_params,
            data_types=tuple(canonical_type(p) for p in data_params),
            static_layout=_static_layout(data_params),
        )

    def topics(self) -> list[str]:
        return sorted({topic for _, topic in self.specs})

    def decode(self, log: Mapping[str, Any], role: str, timestamp: int) -> DecodedLog | None:
        """Decode one raw ``eth_getLogs`` entry; None for an event this codec does not know."""
        topics = log["topics"]
        if not topics:
            return None
        spec = self.specs.get((role, topics[0]))
        if spec is None:
            return None
        return DecodedLog(
            role=role,
            event=spec.name,
            args=spec.decode(topics, log["data"]),
            address=_checksum_hex(log["address"][2:].lower()),
            block_number=int(log["blockNumber"], 16),
            block_hash=str(log["blockHash"]),
            log_index=int(log["logIndex"], 16),
            tx_hash=str(log["transactionHash"]),
            tx_index=int(log["transactionIndex"], 16),
            timestamp=timestamp,
        )


def contract_abis() -> dict[str, list[dict[str, Any]]]:
    """The ledger's and the registry's ABIs from the compiled artifacts."""
    from loanservicing.deployment.compile import compile_contracts

    artifacts = compile_contracts()
    return {
        LEDGER: list(artifacts["LoanLedger"].abi),
        REGISTRY: list(artifacts["CreditRegistry"].abi),
    }


# ============================================================================= indexer


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


@dataclass
class _Header:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


def _header(raw: Mapping[str, Any] | None) -> _Header | None:
    if raw is None:
        return None
    return _Header(
        int(raw["number"], 16), str(raw["hash"]), str(raw["parentHash"]), int(raw["timestamp"], 16)
    )


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
        self.rpc = JsonRpc(config.rpc_url, config.request_timeout)
        self.ledger = str(to_checksum_address(config.ledger))
        self.registry = str(to_checksum_address(config.registry))
        self.codec = EventCodec(abis if abis is not None else contract_abis())
        self._roles = {self.ledger.lower(): LEDGER, self.registry.lower(): REGISTRY}
        self.range_size = max(1, config.initial_range)
        self._loans: dict[int, LoanState] = {}
        self._credits: dict[str, CreditRecord] = {}
        self._decimals: dict[str, int] = {}
        self._initialised = False
        self._down_since: float | None = None
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
                for key, value in expected.items():
                    self.db.set_meta(key, value)
                start = self.config.from_block - 1
                self.db.set_checkpoint(self.ledger, LEDGER, start, None)
                self.db.set_checkpoint(self.registry, REGISTRY, start, None)
        else:
            for key, value in expected.items():
                if stored[key] != value:
                    raise IndexDatabaseError(
                        f"The index database {self.db.path} was built with {key} "
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
        delay = self.config.backoff_initial
        while True:
            try:
                result = fn()
            except _NodeDown as exc:
                now = time.monotonic()
                if self._down_since is None:
                    self._down_since = now
                waited = now - self._down_since
                limit = self.config.max_unreachable_seconds
                if limit is not None and waited >= limit:
                    raise NodeUnreachable(
                        f"The node at {self.config.rpc_url} did not answer for {waited:.0f} s "
                        f"({exc}); the index is intact up to block {self.checkpoint()[0]}."
                    ) from None
                logger.warning(
                    "The node at %s is unreachable (%s); retrying in %.2f s.",
                    self.config.rpc_url,
                    exc,
                    delay,
                )
                if stop is not None:
                    if stop.wait(delay):
                        return None
                else:
                    time.sleep(delay)
                delay = min(delay * 2, self.config.backoff_max)
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
            node_header = _header(results[1])
            if node_header is None or node_header.hash != cp_hash:
                self._handle_reorg(report, cp_number)
                return target if target is not None else head - self.config.confirmations
        goal = head - self.config.confirmations if target is None else min(target, head)
        if cp_number >= goal:
            return None
        first = cp_number + 1
        last = min(first + self.range_size - 1, goal)
        try:
            raw_logs = self._get_logs(first, last)
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
        try:
            self._commit_range(first, last, goal, cp_hash, raw_logs)
        except _ChainChanged as exc:
            logger.info("The chain changed while fetching %d-%d (%s); retrying.", first, last, exc)
            return goal
        report.ranges += 1
        report.logs += len(raw_logs)
        if len(raw_logs) < self.config.sparse_logs:
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
        except _Timeout as exc:
            if self.range_size == 1:
                raise
            raise _RangeTooLarge(f"timeout: {exc}") from exc
        except RpcError as exc:
            message = exc.rpc_message.lower()
            if any(pattern in message for pattern in _TOO_LARGE) or exc.code in (-32005,):
                raise _RangeTooLarge(exc.rpc_message) from exc
            raise
        return list(result)

    def _headers(self, numbers: Iterable[int]) -> dict[int, _Header]:
        wanted = sorted(set(numbers))
        found: dict[int, _Header] = {}
        for start in range(0, len(wanted), _HEADER_BATCH):
            chunk = wanted[start : start + _HEADER_BATCH]
            replies = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            for number, raw in zip(chunk, replies, strict=True):
                header = _header(raw)
                if header is None:
                    raise _ChainChanged(f"block {number} is gone")
                found[number] = header
        return found

    # ------------------------------------------------------------------ commit
    def _commit_range(
        self,
        first: int,
        last: int,
        goal: int,
        cp_hash: str | None,
        raw_logs: list[dict[str, Any]],
    ) -> None:
        window_start = goal - self.config.reorg_window + 1
        wanted = set(range(max(first, window_start), last + 1))
        wanted.add(last)
        for log in raw_logs:
            if log.get("removed"):
                raise _ChainChanged("the node returned a removed log")
            if "blockTimestamp" not in log or log["blockTimestamp"] is None:
                wanted.add(int(log["blockNumber"], 16))
        headers = self._headers(wanted)
        if first in headers and cp_hash is not None and headers[first].parent_hash != cp_hash:
            raise _ChainChanged(f"block {first}'s parent is not the checkpoint block")
        for number, fetched in headers.items():
            previous = headers.get(number - 1)
            if previous is not None and fetched.parent_hash != previous.hash:
                raise _ChainChanged(f"blocks {number - 1} and {number} do not chain")

        decoded: list[DecodedLog] = []
        log_blocks: dict[int, tuple[str, int]] = {}
        roles = self._roles
        decode = self.codec.decode
        for log in raw_logs:
            number = int(log["blockNumber"], 16)
            known = headers.get(number)
            if known is not None and known.hash != log["blockHash"]:
                raise _ChainChanged(f"block {number}'s hash changed")
            stamp = log.get("blockTimestamp")
            timestamp = int(stamp, 16) if stamp is not None else headers[number].timestamp
            log_blocks[number] = (str(log["blockHash"]), timestamp)
            role = roles.get(str(log["address"]).lower())
            if role is None:
                continue
            item = decode(log, role, timestamp)
            if item is not None:
                decoded.append(item)
        decoded.sort(key=lambda d: (d.block_number, d.log_index))

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
        try:
            with self.db.transaction():
                self.db.upsert_blocks(blocks)
                for token, decimals in new_tokens.items():
                    self.db.set_token_decimals(token, decimals)
                self._store(decoded)
                end_hash = headers[last].hash
                self.db.set_checkpoint(self.ledger, LEDGER, last, end_hash)
                self.db.set_checkpoint(self.registry, REGISTRY, last, end_hash)
                self.db.prune_blocks(min(window_start, last - self.config.reorg_window + 1))
        except BaseException:
            self._forget_cache()
            raise
        self._decimals.update(new_tokens)

    def _new_tokens(self, decoded: Sequence[DecodedLog], block: int) -> dict[str, int]:
        tokens = {
            str(d.args["terms"]["token"])
            for d in decoded
            if d.event == "LoanOriginated" and d.role == LEDGER
        }
        missing = sorted(t for t in tokens if t not in self._decimals)
        if not missing:
            return {}
        replies = self.rpc.batch(
            [("eth_call", [{"to": t, "data": "0x313ce567"}, hex(block)]) for t in missing]
        )
        return {t: int(r, 16) for t, r in zip(missing, replies, strict=True)}

    def _forget_cache(self) -> None:
        self._loans.clear()
        self._credits.clear()
        self._decimals = self.db.token_decimals()

    # ------------------------------------------------------------- projection
    def _store(self, decoded: Sequence[DecodedLog]) -> None:
        """Write logs and their projections, and fold them into loans and credit records."""
        log_rows = []
        payments = []
        charges = []
        bucket_changes = []
        segments = []
        groups: dict[tuple[str, int], list[LedgerEvent]] = {}
        registry_logs: list[DecodedLog] = []
        for d in decoded:
            loan_id = d.loan_id
            borrower = d.borrower
            log_rows.append(
                (
                    d.block_hash,
                    d.log_index,
                    d.block_number,
                    d.timestamp,
                    d.tx_hash,
                    d.tx_index,
                    d.address,
                    d.event,
                    loan_id,
                    borrower,
                    _dumps(d.args),
                )
            )
            if d.role == REGISTRY:
                if borrower is not None:
                    registry_logs.append(d)
                continue
            if loan_id is None:
                continue
            a = d.args
            key = (d.block_hash, d.log_index, d.block_number)
            if d.event == "RepaymentApplied":
                amount = a["fees"] + a["penalty"] + a["interest"] + a["principal"]
                payments.append(
                    (
                        *key,
                        d.timestamp,
                        d.tx_hash,
                        loan_id,
                        a["payer"],
                        str(a["fees"]),
                        str(a["penalty"]),
                        str(a["interest"]),
                        str(a["principal"]),
                        str(amount),
                        str(a["principalOutstanding"]),
                        a["installmentsPaid"],
                        a["status"],
                    )
                )
            elif d.event == "ChargesAccrued":
                charges.append(
                    (
                        *key,
                        d.timestamp,
                        loan_id,
                        str(a["lateFee"]),
                        str(a["penalty"]),
                        a["missed"],
                        a["installmentsAssessedLate"],
                        str(a["feesOwed"]),
                        str(a["penaltyOwed"]),
                    )
                )
            elif d.event == "DelinquencyBucketChanged":
                bucket_changes.append(
                    (*key, d.timestamp, loan_id, a["fromBucket"], a["toBucket"], a["daysPastDue"])
                )
            elif d.event == "LoanOriginated":
                t = a["terms"]
                segments.append(
                    (
                        *key,
                        loan_id,
                        0,
                        t["installments"],
                        str(t["principal"]),
                        t["firstDueDate"] - t["periodSeconds"],
                        t["aprBps"],
                        t["periodSeconds"],
                    )
                )
            elif d.event == "ScheduleReset":
                segments.append(
                    (
                        *key,
                        loan_id,
                        a["baseIndex"],
                        a["installments"],
                        str(a["basePrincipal"]),
                        a["segmentStart"],
                        a["aprBps"],
                        a["periodSeconds"],
                    )
                )
            groups.setdefault((d.tx_hash, loan_id), []).append(
                LedgerEvent(d.event, a, d.timestamp, d.block_number, d.log_index, d.tx_hash)
            )
        db = self.db
        db.insert_logs(log_rows)
        db.insert_rows("payments", _PAYMENT_COLUMNS, payments)
        db.insert_rows("charges", _CHARGE_COLUMNS, charges)
        db.insert_rows("delinquency_changes", _BUCKET_COLUMNS, bucket_changes)
        db.insert_rows("segments", _SEGMENT_COLUMNS, segments)

        missing = {loan_id for _, loan_id in groups if loan_id not in self._loans}
        if missing:
            self._loans.update(db.loans(missing))
        changed: dict[int, int] = {}
        for (_, loan_id), events in groups.items():
            state = apply_ledger_events(self._loans.get(loan_id), events)
            self._loans[loan_id] = state
            changed[loan_id] = events[-1].block_number
        self._save_loans(changed)

        borrowers = {str(d.args["borrower"]) for d in registry_logs}
        missing_b = {b for b in borrowers if b not in self._credits}
        if missing_b:
            self._credits.update(db.credit_records(missing_b))
        touched: dict[str, int] = {}
        for d in registry_logs:
            borrower = str(d.args["borrower"])
            record = self._credits.get(borrower)
            if record is None:
                record = self._credits[borrower] = CreditRecord(borrower)
            apply_registry_event(record, d.event, d.args)
            touched[borrower] = d.block_number
        self._save_credits(touched)

    def _save_loans(self, changed: Mapping[int, int]) -> None:
        by_block: dict[int, list[LoanState]] = {}
        for loan_id, block in changed.items():
            by_block.setdefault(block, []).append(self._loans[loan_id])
        for block, states in by_block.items():
            self.db.save_loans(states, block)

    def _save_credits(self, touched: Mapping[str, int]) -> None:
        by_block: dict[int, list[CreditRecord]] = {}
        for borrower, block in touched.items():
            by_block.setdefault(block, []).append(self._credits[borrower])
        for block, records in by_block.items():
            self.db.save_credit_records(records, block)

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
                loans, borrowers = self.db.rollback_above(ancestor)
                self._rebuild(loans, borrowers)
                self.db.set_checkpoint(self.ledger, LEDGER, ancestor, ancestor_hash)
                self.db.set_checkpoint(self.registry, REGISTRY, ancestor, ancestor_hash)
        finally:
            self._forget_cache()
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
                header = _header(raw)
                if header is not None and header.hash == block_hash:
                    return number, block_hash
            below = stored[-1][0] - 1

    def _rebuild(self, loan_ids: set[int], borrowers: set[str]) -> None:
        """Recompute loans and credit records from their remaining stored logs."""
        groups: dict[int, dict[str, list[LedgerEvent]]] = {}
        last_block: dict[int, int] = {}
        for row in self.db.logs_of_loans(loan_ids):
            assert row.loan_id is not None
            event = LedgerEvent(
                row.event, row.args, row.timestamp, row.block_number, row.log_index, row.tx_hash
            )
            groups.setdefault(row.loan_id, {}).setdefault(row.tx_hash, []).append(event)
            last_block[row.loan_id] = row.block_number
        self.db.delete_loans(loan_ids)
        for loan_id, by_tx in groups.items():
            state: LoanState | None = None
            for events in by_tx.values():
                state = apply_ledger_events(state, events)
            assert state is not None
            self.db.save_loans([state], last_block[loan_id])
        records: dict[str, CreditRecord] = {}
        touched: dict[str, int] = {}
        for row in self.db.logs_of_borrowers(borrowers):
            assert row.borrower is not None
            record = records.setdefault(row.borrower, CreditRecord(row.borrower))
            apply_registry_event(record, row.event, row.args)
            touched[row.borrower] = row.block_number
        self.db.delete_credit_records(borrowers)
        for borrower, record in records.items():
            self.db.save_credit_records([record], touched[borrower])


_PAYMENT_COLUMNS = (
    "block_hash",
    "log_index",
    "block_number",
    "timestamp",
    "tx_hash",
    "loan_id",
    "payer",
    "fees",
    "penalty",
    "interest",
    "principal",
    "amount",
    "principal_outstanding",
    "installments_paid",
    "status",
)
_CHARGE_COLUMNS = (
    "block_hash",
    "log_index",
    "block_number",
    "timestamp",
    "loan_id",
    "late_fee",
    "penalty",
    "missed",
    "installments_assessed_late",
    "fees_owed",
    "penalty_owed",
)
_BUCKET_COLUMNS = (
    "block_hash",
    "log_index",
    "block_number",
    "timestamp",
    "loan_id",
    "from_bucket",
    "to_bucket",
    "days_past_due",
)
_SEGMENT_COLUMNS = (
    "block_hash",
    "log_index",
    "block_number",
    "loan_id",
    "base_index",
    "installments",
    "base_principal",
    "segment_start",
    "apr_bps",
    "period",
)


# ============================================================================== verify


@dataclass(frozen=True)
class Difference:
    """One field where the index and the chain disagree."""

    subject: str
    key: str
    field: str
    index_value: Any
    chain_value: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "key": self.key,
            "field": self.field,
            "index": self.index_value,
            "chain": self.chain_value,
        }

    def sentence(self) -> str:
        return (
            f"{self.subject} {self.key}: {self.field} is {self.index_value!r} in the index "
            f"but {self.chain_value!r} on chain."
        )


@dataclass
class VerifyReport:
    """The outcome of comparing the index with the contracts' views at one block."""

    block: int
    loans: int = 0
    borrowers: int = 0
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "loans_checked": self.loans,
            "borrowers_checked": self.borrowers,
            "differences": [d.as_dict() for d in self.differences],
            "ok": not self.differences,
        }


def verify_index(
    db: IndexDB,
    rpc_url: str,
    abis: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> VerifyReport:
    """Compare every indexed loan and credit record with the ledger's and registry's views,
    read at the index's checkpoint block, and list every difference."""
    from web3 import HTTPProvider, Web3

    abis = abis if abis is not None else contract_abis()
    ledger_address = db.meta("ledger")
    registry_address = db.meta("credit_registry")
    points = db.checkpoints()
    if ledger_address is None or registry_address is None or not points:
        raise IndexDatabaseError(f"The index database {db.path} is empty; run `index sync`.")
    block = min(p.block_number for p in points)
    report = VerifyReport(block=block)
    if block < 0:
        return report
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
    ledger = w3.eth.contract(address=to_checksum_address(ledger_address), abi=abis[LEDGER])
    registry = w3.eth.contract(address=to_checksum_address(registry_address), abi=abis[REGISTRY])
    view_fields = _output_fields(abis[LEDGER], "loan")
    record_fields = _output_fields(abis[REGISTRY], "creditRecord")
    try:
        count = int(ledger.functions.loanCount().call(block_identifier=block))
        indexed = db.loans()
        decimals = db.token_decimals()
        borrowers: set[str] = set(db.credit_records())
        for loan_id in range(1, max([count, *indexed.keys()]) + 1):
            state = indexed.get(loan_id)
            if loan_id > count:
                report.differences.append(Difference("loan", str(loan_id), "exists", True, False))
                continue
            raw = ledger.functions.loan(loan_id).call(block_identifier=block)
            view = dict(zip(view_fields, raw, strict=True))
            borrowers.add(str(view["borrower"]))
            report.loans += 1
            if state is None:
                report.differences.append(Difference("loan", str(loan_id), "exists", False, True))
                continue
            mine: dict[str, Any] = {**state.as_view(), "decimals": decimals.get(state.token)}
            for name, value in mine.items():
                theirs = view[name]
                if isinstance(theirs, str):
                    equal = str(value).lower() == theirs.lower()
                else:
                    equal = value == theirs
                if not equal:
                    report.differences.append(Difference("loan", str(loan_id), name, value, theirs))
        records = db.credit_records()
        for borrower in sorted(borrowers):
            raw = registry.functions.creditRecord(borrower).call(block_identifier=block)
            chain = dict(zip(record_fields, raw, strict=True))
            report.borrowers += 1
            record = records.get(borrower)
            mine_record = record.as_view() if record is not None else dict.fromkeys(chain, 0)
            for name, theirs in chain.items():
                if mine_record[name] != theirs:
                    report.differences.append(
                        Difference("credit record", borrower, name, mine_record[name], theirs)
                    )
    except (requests.ConnectionError, OSError) as exc:
        raise NodeUnreachable(f"The node at {rpc_url} did not answer ({exc}).") from exc
    return report


def _output_fields(abi: Sequence[Mapping[str, Any]], function: str) -> list[str]:
    item = next(i for i in abi if i.get("type") == "function" and i.get("name") == function)
    return [str(c["name"]) for c in item["outputs"][0]["components"]]
