"""Notices of a repayment the ledger held (the token refused the transfer to the lender) and of
a credit report the registry refused: each raised once, at its block's time, decoded; a held
repayment's notice survives a reorg that mines its transaction again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3.contract import Contract

from loanservicing.chain.abi import REPORTER_ROLE, role
from loanservicing.chain.node import mine
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.monitoring.channels import describe
from tests.support.ledger_driver import UNIT, LedgerDriver, private_deployment
from tests.support.monitoring import Watch


@pytest.fixture
def watch(system: LedgerDriver, tmp_path: Path) -> Watch:
    return Watch(system, tmp_path / "index.db")


def _blocklist_token(s: LedgerDriver) -> Contract:
    """A BlocklistStablecoin (its issuer: the admin), allowed on the ledger."""
    token = s.deploy_contract("BlocklistStablecoin", "Blocked USD", "bUSD", 6, s.admin)
    s.send(s.ledger.functions.setTokenAllowed(token.address, True))
    return token


def test_a_held_repayment_raises_one_notice_with_the_lenders_claimable_balance(
    system: LedgerDriver, watch: Watch
) -> None:
    s = system
    borrower = s.accounts[2]
    token = _blocklist_token(s)
    loan_id = s.originate(borrower, token=token)
    watch.tick()
    s.send(token.functions.setBlocked(s.admin, True))
    first = s.repay(loan_id, 100 * UNIT, borrower, token=token)
    raised = watch.tick().raised
    assert [n.kind for n in raised] == ["payment_received", "repayment_held"]
    held = raised[1]
    tx_hash = first["receipt"]["transactionHash"].to_0x_hex()
    block = s.w3.eth.get_block(first["receipt"]["blockNumber"])
    assert held.id == f"repayment_held:{loan_id}:{tx_hash}:0"
    assert (held.loan_id, held.borrower, held.amount, held.decimals) == (
        loan_id,
        borrower,
        100 * UNIT,
        6,
    )
    assert held.chain_timestamp == block["timestamp"] and held.block == block["number"]
    assert held.details == {
        "lender": s.admin,
        "token": token.address,
        "claimable": 100 * UNIT,
        "tx_hash": tx_hash,
    }
    assert "held by the ledger" in describe(held) and "`loan claim`" in describe(held)
    assert watch.tick().raised == []  # raised once
    s.repay(loan_id, 50 * UNIT, borrower, token=token)
    (second,) = [n for n in watch.tick().raised if n.kind == "repayment_held"]
    assert second.amount == 50 * UNIT and second.details["claimable"] == 150 * UNIT
    # Claimed by the lender (to another address): no notice, and new repayments to an
    # unblocked lender are not held.
    s.send(s.ledger.functions.claim(token.address, s.accounts[8]))
    s.send(token.functions.setBlocked(s.admin, False))
    s.repay(loan_id, 10 * UNIT, borrower, token=token)
    assert watch.kinds() == ["payment_received"]


def test_a_failed_credit_report_raises_one_notice_naming_the_registry_function_and_error(
    system: LedgerDriver, watch: Watch
) -> None:
    s = system
    borrower = s.accounts[3]
    loan_id = s.originate(borrower)
    watch.tick()
    # The registry no longer takes the ledger's reports; servicing goes on.
    s.send(s.registry.functions.revokeRole(role(REPORTER_ROLE), s.ledger.address))
    paid = s.repay(loan_id, s.installment_total(loan_id, 1), borrower)
    (failure,) = s.events(paid["receipt"], "CreditReportFailed")
    raised = watch.tick().raised
    assert [n.kind for n in raised] == ["payment_received", "credit_report_failed"]
    notice = raised[1]
    tx_hash = paid["receipt"]["transactionHash"].to_0x_hex()
    assert notice.id == f"credit_report_failed:{loan_id}:{tx_hash}:0"
    assert notice.amount == 0 and notice.loan_id == loan_id
    assert notice.details["function"] == "reportRepayment"
    assert notice.details["selector"] == "0x" + bytes(failure["selector"]).hex()
    assert notice.details["reason"] == "0x" + bytes(failure["reason"]).hex()
    assert notice.details["error"].startswith("AccessControlUnauthorizedAccount(account=")
    assert "reportRepayment failed (AccessControlUnauthorizedAccount(" in describe(notice)
    assert watch.tick().raised == []
    # An origination's report fails too; its loan exists, so its notice names it.
    other = s.originate(borrower)
    reports = [n for n in watch.tick().raised if n.kind == "credit_report_failed"]
    assert [(n.loan_id, n.details["function"]) for n in reports] == [(other, "reportLoanOpened")]


@pytest.fixture
def private(artifacts: dict[str, ContractArtifact]) -> Iterator[LedgerDriver]:
    """A private Anvil: anvil_reorg rewrites history."""
    with private_deployment(artifacts) as system:
        yield system


def _repay_tx(s: LedgerDriver, loan_id: int, amount: int, payer: str) -> dict[str, Any]:
    return {
        "from": payer,
        "to": s.ledger.address,
        "data": s.ledger.functions.repay(loan_id, amount)._encode_transaction_data(),
        "gas": hex(600_000),
        "nonce": hex(s.w3.eth.get_transaction_count(payer)),  # type: ignore[arg-type]
        "maxFeePerGas": hex(10**11),
        "maxPriorityFeePerGas": hex(1),
        "chainId": hex(s.w3.eth.chain_id),
        "type": "0x2",
    }


def test_a_held_repayments_notice_survives_a_reorg_that_mines_it_again(
    private: LedgerDriver, tmp_path: Path
) -> None:
    s = private
    borrower = s.accounts[7]
    token = _blocklist_token(s)
    loan_id = s.originate(borrower, token=token)
    s.fund(borrower, 1_000 * UNIT, token)
    s.send(token.functions.setBlocked(s.admin, True))
    watch = Watch(s, tmp_path / "index.db")
    watch.tick()
    tx = _repay_tx(s, loan_id, 100 * UNIT, borrower)
    tx_hash = s.rpc("eth_sendTransaction", [tx])
    s.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    mine(s.w3)
    before = [n for n in watch.tick().raised if n.kind == "repayment_held"]
    assert [n.details["tx_hash"] for n in before] == [tx_hash]
    s.rpc("anvil_reorg", [2, [[tx, 1]]])  # the same transaction, one block later
    report = watch.tick()
    assert report.rescanned and report.raised == []
    stored = watch.monitor.store.notices(kind="repayment_held")
    assert [n.id for n in stored] == [before[0].id]
    rows = watch.indexer.db.conn.execute(
        "SELECT tx_hash FROM logs WHERE event = 'RepaymentHeld'"
    ).fetchall()
    assert [str(r[0]) for r in rows] == [tx_hash]
