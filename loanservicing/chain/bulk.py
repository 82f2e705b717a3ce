"""The high-throughput transaction path: local signing, managed nonces, JSON-RPC batches.

``transactions.send`` sends one transaction and waits for its receipt: one round trip to sign
(on the node), one to send, several to poll, about 50 transactions a second on Anvil. A
:class:`BulkSender` instead reads the chain id and the account's pending nonce once, counts
nonces itself, signs locally (:mod:`loanservicing.chain.signing`, libsecp256k1 via coincurve),
posts the raw transactions as JSON-RPC batches (one HTTP request per ``batch_size``
transactions, through :class:`loanservicing.chain.rpc.RpcClient`) and only then collects the
receipts, again in batches. Every receipt's status is checked: a
transaction that reverted raises :class:`BulkTransactionFailed` naming its index in the input
and its decoded Solidity error. :class:`BulkSenders` does the same for calls from many keys
(100 borrowers repaying), in one stream of batches.

Fees are read once per ``submit`` call (latest base fee and ``eth_maxPriorityFeePerGas``, one
batched request): ``maxFeePerGas = 2 * baseFee + tip``, or pass fixed ``fees``. Gas limits are
the caller's, one per call (see :func:`estimate_gas` to estimate once per kind of call).

See docs/bulk.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.datastructures import AttributeDict
from web3.types import TxParams, TxReceipt

from loanservicing.chain.errors import (
    BulkSubmissionRejected,
    BulkTransactionFailed,
    ReceiptTimeout,
    TransactionReverted,
)
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.rpc import RpcClient, response_result
from loanservicing.chain.signing import CallData, Fees, LocalSigner, SignedTx, encode_call
from loanservicing.chain.transactions import mined_revert
from loanservicing.errors import LoanServicingError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "BulkCall",
    "BulkFailure",
    "BulkSender",
    "BulkSenders",
    "BulkSubmissionRejected",
    "BulkTransactionFailed",
    "ReceiptTimeout",
    "current_fees",
    "estimate_gas",
    "format_receipt",
    "nudge_stalled_pool",
]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 250
DEFAULT_RECEIPT_TIMEOUT_S = 120.0
DEFAULT_POLL_INTERVAL_S = 0.02
DEFAULT_GAS_MARGIN_PERCENT = 25
STALL_NUDGE_S = 0.1  # no new receipt for this long: check the dev node's pool (see below)
FALLBACK_PRIORITY_FEE = 10**9  # 1 gwei, when the node has no eth_maxPriorityFeePerGas
_NONCE_GAP = "nonce too high"

BulkCall = tuple[ContractFunction, int]
"""A bound contract function and the gas limit to send it with."""


# ---------------------------------------------------------------------------- errors
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


def _message(response: Mapping[str, Any]) -> str:
    error = response.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message", error))
    return str(error)


# ------------------------------------------------------------------- fees and gas
def current_fees(w3: Web3, rpc: RpcClient | None = None) -> Fees:
    """EIP-1559 caps from the node: ``2 * latest base fee + eth_maxPriorityFeePerGas``."""
    rpc = rpc or RpcClient.for_web3(w3)
    block, tip = rpc.responses(
        [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", [])]
    )
    latest = response_result(block, "eth_getBlockByNumber")
    base_fee = int(latest.get("baseFeePerGas") or "0x0", 16)
    priority = int(tip["result"], 16) if "result" in tip else FALLBACK_PRIORITY_FEE
    return Fees(max_fee_per_gas=2 * base_fee + priority, max_priority_fee_per_gas=priority)


def estimate_gas(
    fn: ContractFunction, sender: ChecksumAddress, margin_percent: int = DEFAULT_GAS_MARGIN_PERCENT
) -> int:
    """The node's gas estimate for ``fn`` from ``sender`` plus ``margin_percent``.

    Estimate once per kind of call (e.g. one ``originate``, one ``repay``) and reuse the limit
    for the whole batch; a limit that turns out too low makes that transaction revert, which
    :class:`BulkTransactionFailed` reports. A call that would revert raises here instead.
    """
    estimate = fn.estimate_gas(cast(TxParams, {"from": sender}))
    return estimate * (100 + margin_percent) // 100


# --------------------------------------------------------------------- submission
def _send_raw_batches(
    rpc: RpcClient,
    signed: Iterable[tuple[ChecksumAddress, SignedTx]],
    batch_size: int,
) -> tuple[list[HexBytes], list[tuple[ChecksumAddress, int, int, str]]]:
    """Post ``signed`` in batches; stop after the first batch with a rejection.

    ``signed`` may be lazy (signing as it goes): batch k is posted by a worker thread while
    the caller's iterator signs batch k+1, so local work overlaps the node's. Returns the
    accepted hashes (in order) and the rejections as (sender, index, nonce, message).
    """
    accepted: list[HexBytes] = []
    iterator = iter(signed)
    offset = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-send") as pool:
        in_flight: Future[tuple[list[HexBytes], list[tuple[ChecksumAddress, int, int, str]]]]
        in_flight = pool.submit(lambda: ([], []))
        while True:
            chunk = list(islice(iterator, batch_size))  # signs while the last batch is out
            hashes, rejected = in_flight.result()
            accepted += hashes
            if rejected:
                return accepted, rejected
            if not chunk:
                return accepted, []
            in_flight = pool.submit(_send_batch, rpc, chunk, offset)
            offset += len(chunk)


def _send_batch(
    rpc: RpcClient, chunk: Sequence[tuple[ChecksumAddress, SignedTx]], offset: int
) -> tuple[list[HexBytes], list[tuple[ChecksumAddress, int, int, str]]]:
    """Send one batch. A node may handle a batch's requests concurrently, out of order; one
    that cannot queue a transaction whose predecessor has not arrived yet (Hardhat when
    automining) answers "nonce too high". Those are sent again, in order, while each round
    gets some accepted."""
    hashes: list[HexBytes | None] = [None] * len(chunk)
    rejected: list[tuple[ChecksumAddress, int, int, str]] = []
    todo = list(range(len(chunk)))
    while todo:
        responses = rpc.responses(
            [("eth_sendRawTransaction", ["0x" + chunk[i][1].raw.hex()]) for i in todo]
        )
        gapped: list[int] = []
        for i, response in zip(todo, responses, strict=True):
            sender, tx = chunk[i]
            if "error" not in response or _mined_anyway(response, tx):
                hashes[i] = HexBytes(tx.hash)
            elif _NONCE_GAP in _message(response).lower():
                gapped.append(i)
            else:
                rejected.append((sender, offset + i, tx.nonce, _message(response)))
        if len(gapped) == len(todo):  # no progress: report them
            for i in gapped:
                sender, tx = chunk[i]
                message = _message(responses[todo.index(i)])
                rejected.append((sender, offset + i, tx.nonce, message))
            break
        if gapped:
            logger.debug("Resending %d transactions the node saw out of order", len(gapped))
        todo = gapped
    return [h for h in hashes if h is not None], sorted(rejected, key=lambda r: r[1])


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


def _mined_anyway(response: Mapping[str, Any], tx: SignedTx) -> bool:
    """Hardhat, when automining, answers a transaction that reverted with an error, yet mines
    it; the error's data names its hash. Its receipt then reports the revert like any other."""
    error = response.get("error")
    data = error.get("data") if isinstance(error, Mapping) else None
    tx_hash = data.get("txHash") if isinstance(data, Mapping) else None
    return isinstance(tx_hash, str) and HexBytes(tx_hash) == HexBytes(tx.hash)


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


# --------------------------------------------------------------------- one sender
class BulkSender:
    """Sends many contract calls from one local key; see the module docstring.

    The chain id and the account's pending nonce are read once, at construction; from then on
    nonces are counted locally, so nothing else may send from this account meanwhile. After a
    rejection the nonce is read from the node again.
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        decoder: RevertDecoder | None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        fees: Fees | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT_S,
        rpc: RpcClient | None = None,
        chain_id: int | None = None,
        nonce: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise LoanServicingError("The batch size must be at least 1.")
        self.w3 = w3
        self.decoder = decoder
        self.batch_size = batch_size
        self.fees = fees
        self.poll_interval = poll_interval
        self.receipt_timeout = receipt_timeout
        self.rpc = rpc or RpcClient.for_web3(w3)
        self.signer = LocalSigner(account)
        if chain_id is None or nonce is None:
            chain_reply, nonce_reply = self.rpc.responses(
                [("eth_chainId", []), ("eth_getTransactionCount", [self.address, "pending"])]
            )
            chain_id = int(response_result(chain_reply, "eth_chainId"), 16)
            nonce = int(response_result(nonce_reply, "eth_getTransactionCount"), 16)
        self.chain_id: int = chain_id
        self.nonce: int = nonce

    @property
    def address(self) -> ChecksumAddress:
        return self.signer.address

    def resync_nonce(self) -> int:
        """Read the pending nonce from the node again (after a rejection or outside sends)."""
        self.nonce = int(self.rpc.call("eth_getTransactionCount", [self.address, "pending"]), 16)
        return self.nonce

    def sign_one(self, call: CallData, gas: int, fees: Fees) -> SignedTx:
        """Sign one call with the next nonce (which is then used up)."""
        signed = self.signer.sign(self.chain_id, self.nonce, call, gas, fees)
        self.nonce += 1
        return signed

    def sign(self, calls: Iterable[BulkCall], fees: Fees | None = None) -> list[SignedTx]:
        """Sign ``calls`` with consecutive nonces without sending them (pre-signing)."""
        fees = fees or self.fees or current_fees(self.w3, self.rpc)
        return [self.sign_one(encode_call(fn), gas, fees) for fn, gas in calls]

    def submit(self, calls: Iterable[BulkCall]) -> list[HexBytes]:
        """Sign and send ``calls`` in JSON-RPC batches; return their hashes, in order.

        Signing runs while the previous batch is with the node. Raises BulkSubmissionRejected
        if the node refuses a transaction (nothing after that batch is sent and the nonce is
        read again from the node).
        """
        fees = self.fees or current_fees(self.w3, self.rpc)
        return self.send_signed(self.sign_one(encode_call(fn), gas, fees) for fn, gas in calls)

    def send_signed(self, signed: Iterable[SignedTx]) -> list[HexBytes]:
        """Send transactions signed by :meth:`sign`, in batches."""
        accepted, rejected = _send_raw_batches(
            self.rpc, ((self.address, tx) for tx in signed), self.batch_size
        )
        if rejected:
            self.resync_nonce()
            raise BulkSubmissionRejected(
                self.address, [(i, n, m) for _, i, n, m in rejected], accepted
            )
        return accepted

    def receipts(self, hashes: Sequence[HexBytes | bytes], check: bool = True) -> list[TxReceipt]:
        """Receipts of ``hashes`` in order (polling until all are mined); with ``check``, raise
        BulkTransactionFailed for any that reverted, naming its index and decoded error."""
        return collect_receipts(
            self.w3,
            self.rpc,
            hashes,
            self.decoder,
            batch_size=self.batch_size,
            poll_interval=self.poll_interval,
            timeout=self.receipt_timeout,
            check=check,
        )

    def send_all(self, calls: Iterable[BulkCall]) -> list[TxReceipt]:
        """submit + receipts: every call mined with status 1, or an exception."""
        return self.receipts(self.submit(calls))


# ------------------------------------------------------------------- many senders
class BulkSenders:
    """One :class:`BulkSender` per key, for calls from many accounts in one batch stream.

    Calls are ``(sender address, function, gas)``; they are signed and sent in the order given
    (each sender's nonces increase along it), so interleave them as you like — e.g. 100
    borrowers each repaying one loan go out as one stream of batches, not 100.
    """

    def __init__(
        self,
        w3: Web3,
        accounts: Iterable[LocalAccount],
        decoder: RevertDecoder | None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        fees: Fees | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT_S,
    ) -> None:
        self.w3 = w3
        self.decoder = decoder
        self.batch_size = batch_size
        self.fees = fees
        self.poll_interval = poll_interval
        self.receipt_timeout = receipt_timeout
        self.rpc = RpcClient.for_web3(w3)
        self.senders: dict[ChecksumAddress, BulkSender] = {}
        accounts = list(accounts)
        replies = self.rpc.responses(
            [("eth_chainId", [])]
            + [("eth_getTransactionCount", [a.address, "pending"]) for a in accounts]
        )  # the chain id and every nonce in one request
        chain_id = int(response_result(replies[0], "eth_chainId"), 16)
        for account, reply in zip(accounts, replies[1:], strict=True):
            self.senders[account.address] = BulkSender(
                w3,
                account,
                decoder,
                batch_size=batch_size,
                fees=fees,
                poll_interval=poll_interval,
                receipt_timeout=receipt_timeout,
                rpc=self.rpc,
                chain_id=chain_id,
                nonce=int(response_result(reply, "eth_getTransactionCount"), 16),
            )

    def sender(self, address: ChecksumAddress) -> BulkSender:
        try:
            return self.senders[address]
        except KeyError:
            raise LoanServicingError(
                f"No private key was given for {address}, so it cannot send bulk transactions."
            ) from None

    def sign(
        self,
        calls: Iterable[tuple[ChecksumAddress, ContractFunction, int]],
        fees: Fees | None = None,
    ) -> list[tuple[ChecksumAddress, SignedTx]]:
        fees = fees or self.fees or current_fees(self.w3, self.rpc)
        return [
            (address, self.sender(address).sign_one(encode_call(fn), gas, fees))
            for address, fn, gas in calls
        ]

    def submit(
        self, calls: Iterable[tuple[ChecksumAddress, ContractFunction, int]]
    ) -> list[HexBytes]:
        """Sign and send; hashes in input order. See BulkSender.submit for rejections."""
        fees = self.fees or current_fees(self.w3, self.rpc)
        return self.send_signed(
            (address, self.sender(address).sign_one(encode_call(fn), gas, fees))
            for address, fn, gas in calls
        )

    def send_signed(self, signed: Iterable[tuple[ChecksumAddress, SignedTx]]) -> list[HexBytes]:
        accepted, rejected = _send_raw_batches(self.rpc, signed, self.batch_size)
        if rejected:
            for bulk_sender in self.senders.values():
                bulk_sender.resync_nonce()
            sender = rejected[0][0]
            raise BulkSubmissionRejected(sender, [(i, n, m) for _, i, n, m in rejected], accepted)
        return accepted

    def receipts(self, hashes: Sequence[HexBytes | bytes], check: bool = True) -> list[TxReceipt]:
        return collect_receipts(
            self.w3,
            self.rpc,
            hashes,
            self.decoder,
            batch_size=self.batch_size,
            poll_interval=self.poll_interval,
            timeout=self.receipt_timeout,
            check=check,
        )

    def send_all(
        self, calls: Iterable[tuple[ChecksumAddress, ContractFunction, int]]
    ) -> list[TxReceipt]:
        return self.receipts(self.submit(calls))
