"""Receipts of many transactions: polled in JSON-RPC batches, formatted like web3's, every
status checked.

:func:`collect_receipts` waits until every hash has a receipt (probing the last one sent while
the node is still mining, and nudging a dev node whose automine stalled), formats them with
:func:`format_receipt` (web3's fields and types, without its formatter machinery) and, with
``check``, raises :class:`~loanservicing.chain.errors.BulkTransactionFailed` naming each
reverted transaction's index and decoded Solidity error (:class:`BulkFailure`). The bulk path
(:mod:`loanservicing.chain.bulk`) collects its receipts here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.datastructures import AttributeDict
from web3.types import TxReceipt

from loanservicing.chain.errors import BulkTransactionFailed, ReceiptTimeout, TransactionReverted
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.rpc import DEFAULT_BATCH_SIZE, RpcClient, response_result
from loanservicing.chain.transactions import mined_revert

__all__ = [
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_RECEIPT_TIMEOUT_S",
    "STALL_NUDGE_S",
    "BulkFailure",
    "collect_receipts",
    "format_receipt",
    "nudge_stalled_pool",
]

logger = logging.getLogger(__name__)

DEFAULT_RECEIPT_TIMEOUT_S = 120.0
DEFAULT_POLL_INTERVAL_S = 0.02
STALL_NUDGE_S = 0.1  # no new receipt for this long: check the dev node's pool (see below)


@dataclass(frozen=True)
class BulkFailure:
    """A mined transaction of a bulk submission whose status is 0."""

    index: int
    tx_hash: HexBytes
    revert: TransactionReverted | None
    gas_limit: int
    gas_used: int

    @property
    def error_name(self) -> str | None:
        return self.revert.error_name if self.revert is not None else None

    @property
    def out_of_gas(self) -> bool:
        """The transaction used its whole gas limit (a revert refunds what is left)."""
        return self.gas_used >= self.gas_limit

    def __str__(self) -> str:
        if self.revert is not None and self.revert.revert is not None:
            return f"#{self.index} {self.revert.revert}"
        if self.out_of_gas:
            return f"#{self.index} ran out of gas (limit {self.gas_limit})"
        if self.revert is not None and self.revert.raw:
            return f"#{self.index} reverted with unknown error data 0x{self.revert.raw.hex()}"
        return f"#{self.index} reverted without a reason (tx {self.tx_hash.to_0x_hex()})"


_RECEIPT_INTS = frozenset(
    ("blockNumber", "transactionIndex", "cumulativeGasUsed", "status", "gasUsed",
     "effectiveGasPrice", "type", "blobGasPrice", "blobGasUsed")
)  # fmt: skip
_RECEIPT_HASHES = frozenset(("blockHash", "transactionHash", "logsBloom"))
_RECEIPT_ADDRESSES = frozenset(("contractAddress", "from", "to"))
_LOG_INTS = frozenset(("blockNumber", "transactionIndex", "logIndex"))
_LOG_BYTES = frozenset(("blockHash", "transactionHash", "data"))


@lru_cache(maxsize=4096)
def _checksum(address: str) -> ChecksumAddress:
    return to_checksum_address(address)


def _log(raw: Mapping[str, Any]) -> AttributeDict[str, Any]:
    log: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            log[key] = value
        elif key in _LOG_INTS:
            log[key] = int(value, 16)
        elif key in _LOG_BYTES:
            log[key] = HexBytes(value)
        elif key == "address":
            log[key] = _checksum(value)
        elif key == "topics":
            log[key] = [HexBytes(topic) for topic in value]
        else:
            log[key] = value
    return AttributeDict(log)


def format_receipt(raw: Mapping[str, Any]) -> TxReceipt:
    """A JSON-RPC receipt as web3's ``get_transaction_receipt`` returns it (the same fields,
    types and AttributeDicts), without its generic formatter machinery: ~10x faster, which
    matters when thousands of receipts are collected."""
    receipt: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            receipt[key] = value
        elif key in _RECEIPT_INTS:
            receipt[key] = int(value, 16)
        elif key in _RECEIPT_HASHES:
            receipt[key] = HexBytes(value)
        elif key in _RECEIPT_ADDRESSES:
            receipt[key] = _checksum(value)
        elif key == "logs":
            receipt[key] = [_log(log) for log in value]
        else:
            receipt[key] = value
    return cast(TxReceipt, AttributeDict(receipt))


def collect_receipts(
    w3: Web3,
    rpc: RpcClient,
    hashes: Sequence[HexBytes | bytes],
    decoder: RevertDecoder | None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    poll_interval: float = DEFAULT_POLL_INTERVAL_S,
    timeout: float = DEFAULT_RECEIPT_TIMEOUT_S,
    check: bool = True,
) -> list[TxReceipt]:
    """Receipts of ``hashes`` in order, polled in batches until all are mined.

    With ``check`` (and a decoder), a receipt with status 0 raises BulkTransactionFailed.
    """
    wanted = [HexBytes(h) for h in hashes]
    found: list[TxReceipt | None] = [None] * len(wanted)
    pending = list(range(len(wanted)))
    deadline = time.monotonic() + timeout
    last_progress = time.monotonic()
    pool_before: list[int] = []  # the dev node's ready-transaction count at the last check
    while pending:
        if len(pending) > 1 and not _mined(rpc, wanted[pending[-1]]):
            # Until the last transaction sent is mined, polling the others mostly returns
            # nulls and takes the node's time from mining: probe only the last one.
            now = time.monotonic()
            if now - last_progress > STALL_NUDGE_S:
                nudge_stalled_pool(rpc, pool_before)
                last_progress = now
            if now > deadline:
                raise _timeout(rpc, wanted, pending, timeout)
            time.sleep(poll_interval)
            continue
        still: list[int] = []
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            responses = rpc.responses(
                [("eth_getTransactionReceipt", [wanted[i].to_0x_hex()]) for i in chunk]
            )
            for i, response in zip(chunk, responses, strict=True):
                raw = response_result(response, "eth_getTransactionReceipt")
                if raw is None:
                    still.append(i)
                else:
                    found[i] = format_receipt(raw)
        now = time.monotonic()
        if len(still) < len(pending):
            last_progress = now
        elif now - last_progress > STALL_NUDGE_S:
            nudge_stalled_pool(rpc, pool_before)
            last_progress = now
        pending = still
        if pending:
            if now > deadline:
                raise _timeout(rpc, wanted, pending, timeout)
            time.sleep(poll_interval)
    receipts = cast(list[TxReceipt], found)
    if check:
        _check_statuses(w3, rpc, receipts, decoder)
    return receipts


def _mined(rpc: RpcClient, tx_hash: HexBytes) -> bool:
    (response,) = rpc.responses([("eth_getTransactionReceipt", [tx_hash.to_0x_hex()])])
    return response_result(response, "eth_getTransactionReceipt") is not None


def _timeout(
    rpc: RpcClient, wanted: Sequence[HexBytes], pending: Sequence[int], timeout: float
) -> ReceiptTimeout:
    first = wanted[pending[0]].to_0x_hex()
    tx, pool = rpc.responses([("eth_getTransactionByHash", [first]), ("txpool_status", [])])
    known = "known to the node" if tx.get("result") else "unknown to the node"
    status = pool.get("result")
    where = (
        f"; the pool holds {int(status.get('pending', '0x0'), 16)} ready and "
        f"{int(status.get('queued', '0x0'), 16)} queued transactions"
        if isinstance(status, Mapping)
        else ""
    )
    return ReceiptTimeout(
        f"{len(pending)} of {len(wanted)} bulk transactions were not mined within {timeout:g} s "
        f"(first pending: #{pending[0]}, {first}, {known}{where})."
    )


def nudge_stalled_pool(rpc: RpcClient, pool_before: list[int]) -> None:
    """Mine a block when a dev node holds ready transactions that automine left behind.

    Anvil's automine occasionally misses the last transactions of a burst: they sit in its
    pool as ``pending`` (ready) and are only mined when another transaction arrives (seen in
    about one run in three at 1,000 transactions with Anvil 1.7.1; cf. foundry-rs/foundry#10122).
    Called when no receipt arrived for a while; mines only if the pool's ready count has not
    fallen since the previous call (``pool_before`` keeps it), i.e. nothing is being mined.
    Only on dev chains (Anvil, Hardhat, Ganache), where an extra block is harmless.
    """
    if not rpc.is_dev_chain:
        return
    (status,) = rpc.responses([("txpool_status", [])])
    pool = status.get("result")
    if not isinstance(pool, Mapping):
        return
    ready = int(str(pool.get("pending", "0x0")), 16)
    previous = pool_before[0] if pool_before else None
    pool_before[:] = [ready]
    if ready == 0 or previous is None or ready < previous:
        return
    logger.info("Receipts stalled with %d ready transactions in the pool; mining a block", ready)
    _, after = rpc.responses([("evm_mine", []), ("txpool_status", [])])
    left = after.get("result")
    pool_before[:] = [int(str(left.get("pending", "0x0")), 16)] if isinstance(left, Mapping) else []


def _check_statuses(
    w3: Web3, rpc: RpcClient, receipts: Sequence[TxReceipt], decoder: RevertDecoder | None
) -> None:
    failed = [i for i, r in enumerate(receipts) if r["status"] != 1]
    if not failed:
        return
    hashes = [HexBytes(receipts[i]["transactionHash"]) for i in failed]
    txs = rpc.responses([("eth_getTransactionByHash", [h.to_0x_hex()]) for h in hashes])
    failures = []
    for i, tx_hash, tx in zip(failed, hashes, txs, strict=True):
        fields = response_result(tx, "eth_getTransactionByHash")
        revert = None
        if decoder is not None:
            action = f"Bulk transaction #{i}"
            revert = mined_revert(w3, receipts[i], decoder, action)
            if revert is None:
                revert = _replayed_revert(rpc, fields, receipts[i], decoder, action)
        gas_limit = int(fields["gas"], 16)
        failures.append(BulkFailure(i, tx_hash, revert, gas_limit, int(receipts[i]["gasUsed"])))
    raise BulkTransactionFailed(failures, receipts)


def _replayed_revert(
    rpc: RpcClient,
    tx: Mapping[str, Any],
    receipt: TxReceipt,
    decoder: RevertDecoder,
    action: str,
) -> TransactionReverted | None:
    """For nodes without a call tracer (Hardhat 2): replay the transaction with eth_call on its
    parent block's state. Exact when it was alone in its block (automine); otherwise the state
    lacks the block's earlier transactions."""
    call = {k: tx[k] for k in ("from", "to", "input", "value", "gas") if tx.get(k) is not None}
    (response,) = rpc.responses([("eth_call", [call, hex(int(receipt["blockNumber"]) - 1)])])
    raw = _revert_data(response.get("error"))
    if raw is None:
        return None
    return TransactionReverted(decoder.decode(raw), raw, action)


def _revert_data(error: Any) -> bytes | None:
    """Revert bytes from a JSON-RPC error: ``data`` is hex (Anvil, geth) or holds ``data``."""
    data = error.get("data") if isinstance(error, Mapping) else None
    if isinstance(data, Mapping):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes(HexBytes(data))
        except ValueError:
            return None
    return None
