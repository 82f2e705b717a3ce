"""Send contract transactions from node-managed accounts and decode their reverts.

This is the simple path (one transaction, wait for its receipt) used by tests, deployment and
single CLI commands on a dev chain; :mod:`loanservicing.chain.bulk` signs locally for throughput.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    Web3Exception,
)
from web3.types import RPCEndpoint, TxReceipt

from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.errors import LoanServicingError

__all__ = ["call", "mined_revert", "send"]

_REVERTS = (ContractCustomError, ContractPanicError, ContractLogicError)


def send(
    w3: Web3,
    fn: ContractFunction | ContractConstructor,
    sender: ChecksumAddress,
    decoder: RevertDecoder,
    action: str = "",
    gas: int | None = None,
) -> TxReceipt:
    """Send ``fn`` from ``sender`` (an account the node signs for), wait for the receipt.

    A revert, at gas estimation or on chain, raises TransactionReverted naming the error.
    """
    tx: dict[str, Any] = {"from": sender}
    if gas is not None:
        tx["gas"] = gas
    try:
        tx_hash = fn.transact(tx)  # type: ignore[arg-type]
    except _REVERTS as exc:
        raise _decoded(decoder, exc, action) from None
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1:
        raise mined_revert(w3, receipt, decoder, action) or _replayed_revert(
            w3, fn, sender, receipt, decoder, action
        )
    return receipt


def call(fn: ContractFunction, decoder: RevertDecoder, action: str = "", **kwargs: Any) -> Any:
    """``fn.call(**kwargs)`` with reverts decoded."""
    try:
        return fn.call(**kwargs)
    except _REVERTS as exc:
        raise _decoded(decoder, exc, action) from None


def _decoded(decoder: RevertDecoder, exc: BaseException, action: str) -> TransactionReverted:
    reverted = decoder.from_exception(exc, action)
    if reverted is None:  # pragma: no cover - _REVERTS are always decodable types
        raise LoanServicingError(str(exc)) from exc
    return reverted


def mined_revert(
    w3: Web3, receipt: TxReceipt, decoder: RevertDecoder, action: str = ""
) -> TransactionReverted | None:
    """The revert of a mined, failed transaction, read from the node's call tracer (Anvil,
    Hardhat and geth answer ``debug_traceTransaction``); None where the node has no tracer."""
    try:
        trace = w3.manager.request_blocking(
            RPCEndpoint("debug_traceTransaction"),
            [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}],
        )
    except (Web3Exception, OSError, ValueError):
        return None
    output = trace.get("output") if isinstance(trace, Mapping) else None
    raw = HexBytes(output) if isinstance(output, str) else HexBytes(b"")
    return TransactionReverted(decoder.decode(bytes(raw)), bytes(raw), action)


def _replayed_revert(
    w3: Web3,
    fn: ContractFunction | ContractConstructor,
    sender: ChecksumAddress,
    receipt: TxReceipt,
    decoder: RevertDecoder,
    action: str,
) -> TransactionReverted:
    """Re-run a mined, failed transaction as a call at its block to recover the revert data
    (a failed deployment has nothing to call: it is reported without a reason)."""
    if not isinstance(fn, ContractFunction):
        return TransactionReverted(None, b"", action)
    try:
        fn.call({"from": sender}, block_identifier=receipt["blockNumber"] - 1)
    except _REVERTS as exc:
        return _decoded(decoder, exc, action)
    return TransactionReverted(None, b"", action)
