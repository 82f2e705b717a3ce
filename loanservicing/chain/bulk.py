"""The high-throughput transaction path: local signing, managed nonces, JSON-RPC batches.

``transactions.send`` sends one transaction and waits for its receipt: one round trip to sign
(on the node), one to send, several to poll, about 50 transactions a second on Anvil. A
:class:`BulkSender` instead reads the chain id and the account's pending nonce once, counts
nonces itself, signs locally (:mod:`loanservicing.chain.signing`, libsecp256k1 via coincurve),
posts the raw transactions as JSON-RPC batches (one HTTP request per ``batch_size``
transactions, through :class:`loanservicing.chain.rpc.RpcClient`) and only then collects the
receipts, again in batches (:mod:`loanservicing.chain.receipts`). Every receipt's status is
checked: a transaction that reverted raises
:class:`~loanservicing.chain.errors.BulkTransactionFailed` naming its index in the input and its
decoded Solidity error. :class:`BulkSenders` does the same for calls from many keys (100
borrowers repaying), in one stream of batches.

On Anvil, a send pauses automine and mines the pool itself (see :func:`_manual_mining`):
under automine, a burst of transactions leaves Anvil's block producer with a queue of mining
jobs, each a copy of the pool's ready set at the moment its miner was polled. Mining those
transactions by other means (``evm_mine``, as a stalled-receipt nudge does) turns every job
left in that queue into an empty block, mined one after another at tens to hundreds of
blocks a second for minutes after the send ended, with an empty pool, whatever the mining
mode is set to meanwhile (the queue is already formed). With automine paused there is no
such queue: ``evm_mine`` packs the pool into full blocks, and the head is still once the
send returns.

Fees are read once per ``submit`` call (latest base fee and ``eth_maxPriorityFeePerGas``, one
batched request): ``maxFeePerGas = 2 * baseFee + tip``, or pass fixed ``fees``. Gas limits are
the caller's, one per call (see :func:`estimate_gas` to estimate once per kind of call).

See docs/bulk.md.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt

from loanservicing.chain.errors import BulkSubmissionRejected, RpcError
from loanservicing.chain.receipts import (
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_RECEIPT_TIMEOUT_S,
    collect_receipts,
)
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.rpc import DEFAULT_BATCH_SIZE, RpcClient, response_result
from loanservicing.chain.signing import CallData, Fees, LocalSigner, SignedTx, encode_call
from loanservicing.errors import LoanServicingError, NodeUnreachable

__all__ = [
    "BulkCall",
    "BulkSender",
    "BulkSenders",
    "current_fees",
    "estimate_gas",
    "mine_pool",
]

logger = logging.getLogger(__name__)

DEFAULT_GAS_MARGIN_PERCENT = 25
FALLBACK_PRIORITY_FEE = 10**9  # 1 gwei, when the node has no eth_maxPriorityFeePerGas
_NONCE_GAP = "nonce too high"
_MINE_ROUNDS = 10_000  # evm_mine calls at most per send (each packs a block-gas-limit's worth)

BulkCall = tuple[ContractFunction, int]
"""A bound contract function and the gas limit to send it with."""


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


@contextmanager
def _manual_mining(rpc: RpcClient) -> Iterator[None]:
    """On an automining Anvil: automine off while the body sends, then ``evm_mine`` until
    the pool holds no ready transaction (or stops shrinking), then automine on again.

    Elsewhere (other nodes, Anvil with automine already off or interval mining) the body
    runs as it is. See the module docstring for why.
    """
    try:
        automine = rpc.call("anvil_getAutomine") is True
    except RpcError:  # not Anvil
        automine = False
    if not automine:
        yield
        return
    rpc.call("evm_setAutomine", [False])
    try:
        yield
    finally:
        failing = sys.exc_info()[1] is not None
        try:
            try:
                mine_pool(rpc)
            finally:
                rpc.call("evm_setAutomine", [True])
        except (RpcError, NodeUnreachable):
            if not failing:
                raise
            logger.warning("Could not mine the pool and restore automine after a failed send")


def mine_pool(rpc: RpcClient) -> int:
    """Mine blocks until the dev node's pool holds no ready transaction, or until a block
    leaves as many as before (transactions that cannot be mined, e.g. a fee cap under the
    base fee). Returns the number of blocks mined."""
    ready = _ready_count(rpc)
    mined = 0
    while ready and mined < _MINE_ROUNDS:
        rpc.call("evm_mine", [])
        mined += 1
        left = _ready_count(rpc)
        if left >= ready:
            logger.info("%d transactions in the pool are not being mined; leaving them", left)
            break
        ready = left
    return mined


def _ready_count(rpc: RpcClient) -> int:
    status = rpc.call("txpool_status")
    return int(str(status.get("pending", "0x0")), 16) if isinstance(status, Mapping) else 0


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


def _mined_anyway(response: Mapping[str, Any], tx: SignedTx) -> bool:
    """Hardhat, when automining, answers a transaction that reverted with an error, yet mines
    it; the error's data names its hash. Its receipt then reports the revert like any other."""
    error = response.get("error")
    data = error.get("data") if isinstance(error, Mapping) else None
    tx_hash = data.get("txHash") if isinstance(data, Mapping) else None
    return isinstance(tx_hash, str) and HexBytes(tx_hash) == HexBytes(tx.hash)


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
        with _manual_mining(self.rpc):
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
        with _manual_mining(self.rpc):
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
