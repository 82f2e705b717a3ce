"""Repayment cannot be blocked by the lender's side, and only what arrived is credited.

The review found that a lender the token has blocklisted made every `repay` revert (and then
misses, late fees and default followed through no fault of the borrower), that revoking the
ledger's reporter role blocked repayments too, and that a fee-on-transfer token was credited
gross (1,065.26 credited, 1,054.61 delivered)."""

from __future__ import annotations

from web3.contract import Contract

from loanservicing.chain.abi import role
from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PRINCIPAL = 12_000 * UNIT
PERIOD = 30 * DAY
CURVE = Curve.of_period(ScheduleKind.ANNUITY, PRINCIPAL, 12, 1200, PERIOD)
INSTALLMENT = sum(CURVE.part(1))


def _blocklist_loan(system: LedgerDriver) -> tuple[Contract, int, int]:
    token = system.deploy_contract("BlocklistStablecoin", "Blocked USD", "bUSD", 6, system.admin)
    system.send(system.ledger.functions.setTokenAllowed(token.address, True))
    start = system.now() + 10
    loan_id = system.originate(system.accounts[1], token=token, at=start)
    return token, loan_id, start


def test_a_blocklisted_lender_is_paid_through_a_claimable_balance(system: LedgerDriver) -> None:
    borrower, lender, rescue = system.accounts[1], system.admin, system.accounts[8]
    token, loan_id, start = _blocklist_loan(system)
    system.send(token.functions.setBlocked(lender, True))
    event = system.repay(loan_id, INSTALLMENT, borrower, at=start + PERIOD, token=token)
    # The repayment counts: the installment is paid on time and the borrower is current.
    assert (
        event["installmentsPaid"] == 1
        and event["principalOutstanding"] == PRINCIPAL - CURVE.part(1)[0]
    )
    (held,) = system.events(event["receipt"], "RepaymentHeld")
    assert held == {
        "loanId": loan_id,
        "lender": lender,
        "token": token.address,
        "amount": INSTALLMENT,
        "claimable": INSTALLMENT,
    }
    assert system.ledger.functions.claimable(lender, token.address).call() == INSTALLMENT
    assert system.balance(system.ledger.address, token) == INSTALLMENT
    assert system.record(borrower)["paidOnTime"] == 1
    # A second held repayment adds up; the general path holds too (a late one).
    late = start + 2 * PERIOD + 10 * DAY
    owed = system.due(loan_id, late)["pastDue"]
    system.repay(loan_id, owed, borrower, at=late, token=token)
    total = INSTALLMENT + owed
    assert system.ledger.functions.claimable(lender, token.address).call() == total
    # The blocked lender cannot receive at its own address; it claims to another one.
    system.reverts("TransferBlocked", system.ledger.functions.claim(token.address, lender))
    receipt = system.send(system.ledger.functions.claim(token.address, rescue))
    (claimed,) = system.events(receipt, "Claimed")
    assert claimed == {"lender": lender, "token": token.address, "to": rescue, "amount": total}
    assert system.balance(rescue, token) == total
    assert system.ledger.functions.claimable(lender, token.address).call() == 0
    system.reverts("NothingToClaim", system.ledger.functions.claim(token.address, rescue))


def test_an_unblocked_lender_is_paid_directly(system: LedgerDriver) -> None:
    borrower, lender = system.accounts[1], system.admin
    token, loan_id, start = _blocklist_loan(system)
    before = system.balance(lender, token)
    event = system.repay(loan_id, INSTALLMENT, borrower, at=start + PERIOD, token=token)
    assert system.events(event["receipt"], "RepaymentHeld") == []
    assert system.balance(lender, token) - before == INSTALLMENT


def test_a_payer_who_cannot_pay_still_reverts(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    token, loan_id, start = _blocklist_loan(system)
    system.fund(borrower, INSTALLMENT, token)
    system.send(token.functions.setBlocked(borrower, True))
    before = system.loan(loan_id)
    system.reverts(
        "TransferBlocked",
        system.ledger.functions.repay(loan_id, INSTALLMENT),
        borrower,
        at=start + PERIOD,
    )
    assert system.loan(loan_id) == before


def test_a_revoked_reporter_role_does_not_block_repayment(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.now() + 10
    loan_id = system.originate(borrower, at=start)
    system.send(system.registry.functions.revokeRole(role("REPORTER_ROLE"), system.ledger.address))
    event = system.repay(loan_id, INSTALLMENT, borrower, at=start + PERIOD)
    assert event["installmentsPaid"] == 1
    (failed,) = system.events(event["receipt"], "CreditReportFailed")
    selector = system.registry.functions.reportRepayment(borrower, 1, 1, 0, 1, False)
    assert failed["loanId"] == loan_id
    assert failed["selector"] == bytes.fromhex(selector._encode_transaction_data()[2:10])
    # The registry's refusal is kept: AccessControlUnauthorizedAccount(ledger, REPORTER_ROLE).
    assert failed["reason"][:4] == bytes.fromhex("e2517d3f")
    # The general path too (a late payment with a miss to report).
    late = start + 2 * PERIOD + 10 * DAY
    owed = system.due(loan_id, late)["pastDue"]
    event = system.repay(loan_id, owed, borrower, at=late)
    assert len(system.events(event["receipt"], "CreditReportFailed")) == 2
    assert system.loan(loan_id)["installmentsPaid"] == 2


def test_a_fee_on_transfer_token_is_refused_at_origination(system: LedgerDriver) -> None:
    token = system.deploy_contract("FeeOnTransferToken", 100)  # 1 % burnt per transfer
    system.send(system.ledger.functions.setTokenAllowed(token.address, True))
    lender = system.admin
    system.send(token.functions.mint(lender, 10**12))
    system.send(token.functions.approve(system.ledger.address, 2**256 - 1))
    terms = system.terms(
        system.accounts[1], 1_000 * UNIT, 1200, 12, PERIOD, system.now() + PERIOD,
        ScheduleKind.ANNUITY, 5 * DAY, 500, 600, 90, token,
    )  # fmt: skip
    count = system.ledger.functions.loanCount().call()
    failure = system.reverts("FeeOnTransferToken", system.originate_call(terms))
    assert failure.revert is not None
    args = failure.revert.args
    assert args["token"].lower() == token.address.lower()
    assert (args["expected"], args["received"]) == (1_000 * UNIT, 990 * UNIT)
    assert system.ledger.functions.loanCount().call() == count
    assert system.balance(system.accounts[1], token) == 0


def test_a_reporter_is_counted_from_its_first_report_whatever_it_is(
    system: LedgerDriver,
) -> None:
    # The loan's opening was not reported (the role was revoked then); the later repayment
    # still counts in the borrower's totals.
    borrower = system.accounts[7]
    reporter_role = role("REPORTER_ROLE")
    system.send(system.registry.functions.revokeRole(reporter_role, system.ledger.address))
    start = system.now() + 10
    loan_id = system.originate(borrower, at=start)
    system.send(system.registry.functions.grantRole(reporter_role, system.ledger.address))
    system.repay(loan_id, INSTALLMENT, borrower, at=start + PERIOD)
    registry = system.registry.functions
    assert registry.reportersOf(borrower).call() == [system.ledger.address]
    assert system.record(borrower)["paidOnTime"] == 1
