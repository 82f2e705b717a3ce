"""The bulk path against a real Anvil: same results as sequential sends, nonces, failures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import coincurve
import eth_keys.backends
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys.backends.coincurve import CoinCurveECCBackend
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.bulk import BulkSender, BulkSenders, current_fees, estimate_gas
from loanservicing.chain.errors import BulkSubmissionRejected, BulkTransactionFailed
from loanservicing.chain.node import AnvilNode, revert, snapshot
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.rpc import RpcClient
from loanservicing.chain.signing import SIGNING_BACKEND, CallData, Fees, LocalSigner, encode_call
from loanservicing.chain.transactions import send
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_system
from loanservicing.errors import NodeUnreachable
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.borrower_signature import PLAIN_CALENDAR, TermsSigner

UNIT = 10**6
LOANS = 50
BORROWERS = 5
ORIGINATE_GAS = 400_000
REPAY_GAS = 400_000


def dev_key(index: int) -> LocalAccount:
    return dev_signer(index).local_account()


@dataclass
class Deployed:
    w3: Web3
    ledger: Contract
    token: Contract
    decoder: RevertDecoder
    admin: ChecksumAddress
    borrowers: list[ChecksumAddress]

    def send(self, fn: Any, sender: ChecksumAddress | None = None) -> Any:
        return send(self.w3, fn, sender or self.admin, self.decoder)

    def terms(self, i: int, now: int) -> tuple[Any, ...]:
        """Varied terms for loan number ``i`` (borrower, principal, kind, installments)."""
        kinds = (ScheduleKind.ANNUITY, ScheduleKind.EQUAL_PRINCIPAL, ScheduleKind.BULLET)
        return (
            self.borrowers[i % len(self.borrowers)],
            self.token.address,
            (1_000 + 37 * i) * UNIT,
            600 + 25 * i,
            6 + i % 7,
            30 * DAY,
            now + 30 * DAY,
            int(kinds[i % 3]),
            5 * DAY,
            500,
            600,
            90,
            *PLAIN_CALENDAR,
        )

    def originations(self, numbers: Sequence[int], now: int) -> list[Any]:
        """``originate`` calls for loans ``numbers``, each signed by its borrower (EIP-712)
        with its next nonces, counted from the ledger's now: send them in this order."""
        signer = TermsSigner(self.ledger)
        return [
            signer.originate(
                dev_key(1 + i % len(self.borrowers)), self.terms(i, now), self.admin, now + DAY
            )
            for i in numbers
        ]

    def loan(self, loan_id: int) -> dict[str, Any]:
        outputs = next(
            item["outputs"][0]["components"]
            for item in cast(list[dict[str, Any]], self.ledger.abi)
            if item.get("type") == "function" and item["name"] == "loan"
        )
        raw = self.ledger.functions.loan(loan_id).call()
        return dict(zip([c["name"] for c in outputs], raw, strict=True))


@pytest.fixture(scope="module")
def deployed(w3: Web3, artifacts: dict[str, ContractArtifact]) -> Deployed:
    admin = w3.eth.accounts[0]
    decoder = revert_decoder(artifacts)
    sender = TransactionSender(w3, dev_signer(0), decoder)
    system = bind(w3, deploy_system(sender, artifacts), artifacts)
    borrowers = [dev_key(i).address for i in range(1, BORROWERS + 1)]
    result = Deployed(w3, system.ledger, system.token, decoder, admin, borrowers)
    result.send(system.token.functions.mint(admin, 10**9 * UNIT))
    result.send(system.token.functions.approve(system.ledger.address, 2**256 - 1))
    for borrower in borrowers:
        result.send(system.token.functions.approve(system.ledger.address, 2**256 - 1), borrower)
    return result


def _originated_ids(d: Deployed, receipts: Sequence[Any]) -> list[int]:
    ids = []
    for receipt in receipts:
        (event,) = d.ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        ids.append(int(event["args"]["loanId"]))
    return ids


def _repayments(d: Deployed, ids: Sequence[int]) -> list[tuple[ChecksumAddress, Any]]:
    """One repayment per loan, by its borrower: the first installment, exactly."""
    calls = []
    for loan_id in ids:
        _, principal, interest = d.ledger.functions.installment(loan_id, 1).call()
        borrower = d.loan(loan_id)["borrower"]
        calls.append((borrower, d.ledger.functions.repay(loan_id, principal + interest)))
    return calls


def _run(
    d: Deployed, originate: Callable[[list[Any]], list[Any]], repay: Callable[[list[Any]], Any]
) -> tuple[list[int], list[dict[str, Any]], list[int]]:
    now = int(d.w3.eth.get_block("latest")["timestamp"])
    receipts = originate(d.originations(range(LOANS), now))
    ids = _originated_ids(d, receipts)
    repay(_repayments(d, ids))
    balances = [int(d.token.functions.balanceOf(b).call()) for b in d.borrowers]
    return ids, [d.loan(i) for i in ids], balances


def test_bulk_originate_and_repay_equal_sequential_sends(deployed: Deployed, w3: Web3) -> None:
    d = deployed
    before = snapshot(w3)
    sequential = _run(
        d,
        lambda fns: [d.send(fn) for fn in fns],
        lambda calls: [d.send(fn, borrower) for borrower, fn in calls],
    )
    revert(w3, before)

    lender = BulkSender(w3, dev_key(0), d.decoder, batch_size=16)
    payers = BulkSenders(w3, [dev_key(i) for i in range(1, BORROWERS + 1)], d.decoder)
    blocks_before = w3.eth.block_number
    bulk = _run(
        d,
        lambda fns: lender.send_all((fn, ORIGINATE_GAS) for fn in fns),
        lambda calls: payers.send_all((b, fn, REPAY_GAS) for b, fn in calls),
    )

    seq_ids, seq_loans, seq_balances = sequential
    bulk_ids, bulk_loans, bulk_balances = bulk
    assert bulk_ids == seq_ids == list(range(seq_ids[0], seq_ids[0] + LOANS))
    for seq_loan, bulk_loan in zip(seq_loans, bulk_loans, strict=True):
        # lastAccrual is the origination's block time, which differs between the two runs.
        del seq_loan["lastAccrual"], bulk_loan["lastAccrual"]
        assert bulk_loan == seq_loan
    assert all(loan["installmentsPaid"] == 1 for loan in bulk_loans)
    assert bulk_balances == seq_balances
    # The bulk path packed several transactions per block (2 * LOANS transactions in all).
    assert w3.eth.block_number - blocks_before < 2 * LOANS


def test_nonces_are_consecutive_across_submissions(deployed: Deployed, w3: Web3) -> None:
    d = deployed
    start = w3.eth.get_transaction_count(d.admin)
    sender = BulkSender(w3, dev_key(0), d.decoder, batch_size=7)
    assert sender.nonce == start
    mint = d.token.functions.mint(d.borrowers[0], UNIT)
    first = sender.submit([(mint, 100_000)] * 10)
    second = sender.submit([(mint, 100_000)] * 5)
    assert sender.nonce == start + 15
    receipts = sender.receipts(first + second)
    assert [r["status"] for r in receipts] == [1] * 15
    nonces = [w3.eth.get_transaction(h)["nonce"] for h in first + second]
    assert nonces == list(range(start, start + 15))
    assert w3.eth.get_transaction_count(d.admin) == start + 15


def test_a_reverting_call_is_reported_by_index_and_error_name(deployed: Deployed, w3: Web3) -> None:
    d = deployed
    borrower = d.borrowers[0]
    (origination,) = d.originations([0], int(w3.eth.get_block("latest")["timestamp"]))
    loan_id = d.send(origination)
    (event,) = d.ledger.events.LoanOriginated().process_receipt(loan_id, errors=DISCARD)
    good = d.ledger.functions.repay(int(event["args"]["loanId"]), UNIT)
    calls = [(good, REPAY_GAS)] * 10
    calls[3] = (d.ledger.functions.repay(999_999, UNIT), REPAY_GAS)
    calls[7] = (d.ledger.functions.repay(1, 0), REPAY_GAS)
    sender = BulkSender(w3, dev_key(1), d.decoder)
    assert sender.address == borrower
    with pytest.raises(BulkTransactionFailed) as info:
        sender.send_all(calls)
    failed = info.value
    assert failed.indices == [3, 7]
    assert [f.error_name for f in failed.failures] == ["LoanNotFound", "ZeroAmount"], str(failed)
    assert "#3 LoanNotFound(loanId=999999)" in str(failed)
    assert "#7 ZeroAmount()" in str(failed)
    assert str(failed).startswith("2 of 10 bulk transactions reverted")
    assert [r["status"] for r in failed.receipts] == [1, 1, 1, 0, 1, 1, 1, 0, 1, 1]


def test_a_gas_limit_too_low_is_not_silently_dropped(deployed: Deployed, w3: Web3) -> None:
    d = deployed
    now = int(w3.eth.get_block("latest")["timestamp"])
    sender = BulkSender(w3, dev_key(0), d.decoder)
    # Loans 1 and 6 have one borrower: its nonces in order; the second runs out of gas before
    # using its nonce, so the same signed call succeeds next.
    first, second = d.originations([1, 6], now)
    gas = estimate_gas(first, d.admin)
    with pytest.raises(BulkTransactionFailed) as info:
        sender.send_all([(first, gas), (second, 60_000), (second, gas)])
    assert info.value.indices == [1]
    assert info.value.failures[0].out_of_gas
    assert "#1 ran out of gas (limit 60000)" in str(info.value)
    assert d.ledger.functions.loanCount().call() >= 2


def test_node_rejections_raise_and_resync_the_nonce(deployed: Deployed, w3: Web3) -> None:
    d = deployed
    sender = BulkSender(w3, dev_key(0), d.decoder)
    mint = d.token.functions.mint(d.borrowers[0], UNIT)
    d.send(mint)  # the node sends from the same account: the local nonce is now stale
    with pytest.raises(BulkSubmissionRejected) as info:
        sender.submit([(mint, 100_000)] * 3)
    rejected = info.value
    assert rejected.rejected[0][0] == 0
    assert "nonce" in str(rejected).lower()
    assert str(rejected).startswith(f"The node rejected bulk transaction #0 from {d.admin}")
    assert sender.nonce == w3.eth.get_transaction_count(d.admin, "pending")
    (receipt,) = sender.send_all([(mint, 100_000)])
    assert receipt["status"] == 1

    broke = BulkSender(w3, Account.create(), d.decoder)
    with pytest.raises(BulkSubmissionRejected, match=r"(?i)insufficient funds") as info:
        broke.submit([(mint, 100_000)])
    assert info.value.accepted == []


def test_signatures_use_coincurve_and_equal_eth_account(deployed: Deployed, w3: Web3) -> None:
    d = deployed
    account = dev_key(3)
    # eth_account signs through eth-keys, whose backend here is coincurve (libsecp256k1) ...
    assert isinstance(eth_keys.backends.get_backend(), CoinCurveECCBackend)
    assert isinstance(account._key_obj.backend, CoinCurveECCBackend)
    # ... and the bulk path calls coincurve directly, producing the same bytes.
    signer = LocalSigner(account)
    assert SIGNING_BACKEND == "coincurve"
    assert signer.backend is coincurve.PrivateKey
    now = int(w3.eth.get_block("latest")["timestamp"])
    fees = Fees(max_fee_per_gas=3 * 10**9, max_priority_fee_per_gas=10**9)
    for fn in (*d.originations([4], now), d.ledger.functions.repay(7, 5)):
        call = encode_call(fn)
        assert "0x" + call.data.hex() == fn._encode_transaction_data()
        signed = signer.sign(31337, 42, call, 250_000, fees)
        reference = account.sign_transaction(
            {
                "type": 2,
                "chainId": 31337,
                "nonce": 42,
                "to": fn.address,
                "value": 0,
                "data": call.data,
                "gas": 250_000,
                "maxFeePerGas": fees.max_fee_per_gas,
                "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            }
        )
        assert signed.raw == bytes(reference.raw_transaction)
        assert HexBytes(signed.hash) == reference.hash


def test_keyword_arguments_encode_like_positional_ones(deployed: Deployed) -> None:
    d = deployed
    by_name = encode_call(d.ledger.functions.repay(loanId=7, amount=5 * UNIT))
    assert by_name == encode_call(d.ledger.functions.repay(7, 5 * UNIT))
    assert by_name.to == bytes.fromhex(d.ledger.address[2:])


def test_fees_follow_the_base_fee(w3: Web3) -> None:
    fees = current_fees(w3)
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    assert fees.max_fee_per_gas == 2 * base_fee + fees.max_priority_fee_per_gas
    assert fees.max_priority_fee_per_gas > 0


def test_receipts_are_formatted_like_web3s(deployed: Deployed, w3: Web3) -> None:
    d = deployed
    now = int(w3.eth.get_block("latest")["timestamp"])
    (fast,) = BulkSender(w3, dev_key(0), d.decoder).send_all(
        [(fn, ORIGINATE_GAS) for fn in d.originations([5], now)]
    )
    assert fast == w3.eth.get_transaction_receipt(fast["transactionHash"])
    assert len(fast["logs"]) >= 3


def test_an_unreachable_node_is_one_clear_error() -> None:
    w3 = Web3(HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2}))
    with pytest.raises(NodeUnreachable, match=r"^A JSON-RPC batch of 2 requests to http"):
        BulkSender(w3, dev_key(0), None)


QUIET_POLLS = 10


def test_the_head_stands_still_after_a_large_bulk_send() -> None:
    """5,000 transfers through the bulk path on an Anvil of its own: when the send returns,
    every block it made holds transactions and the head no longer moves (under automine with
    stall nudges, Anvil went on mining hundreds of empty blocks a second); automine is on
    again afterwards."""
    with AnvilNode() as node:
        w3 = Web3(HTTPProvider(node.rpc_url, request_kwargs={"timeout": 60}))
        rpc = RpcClient(node.rpc_url, timeout=60)
        start = w3.eth.block_number
        bulk = BulkSender(w3, dev_key(0), None)
        fees = Fees(max_fee_per_gas=50 * 10**9, max_priority_fee_per_gas=1)
        signed = [bulk.sign_one(CallData(b"\x11" * 20, b""), 21_000, fees) for _ in range(5_000)]
        receipts = bulk.receipts(bulk.send_signed(signed))
        assert all(r["status"] == 1 for r in receipts)
        head = w3.eth.block_number
        assert head == max(int(r["blockNumber"]) for r in receipts)
        for number in range(start + 1, head + 1):
            assert w3.eth.get_block(number)["transactions"], f"block {number} is empty"
        heads = []
        for _ in range(QUIET_POLLS):
            time.sleep(0.1)
            heads.append(int(rpc.call("eth_blockNumber"), 16))
        assert heads == [head] * QUIET_POLLS
        assert rpc.call("txpool_status") == {"pending": "0x0", "queued": "0x0"}
        assert rpc.call("anvil_getAutomine") is True
        tx_hash = w3.eth.send_transaction(
            {"from": w3.eth.accounts[1], "to": w3.eth.accounts[2], "value": 1}
        )
        assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["blockNumber"] == head + 1
