"""Restructuring: servicer proposes, borrower accepts before the deadline; principal and
unpaid charges carry over."""

from __future__ import annotations

from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PRINCIPAL = 12_000 * UNIT
PERIOD = 30 * DAY
CURVE = Curve.of_period(ScheduleKind.ANNUITY, PRINCIPAL, 12, 1200, PERIOD)


def test_restructure_two_steps_and_carry_over(system: LedgerDriver) -> None:
    borrower, servicer = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    system.repay(loan_id, sum(CURVE.part(1)), borrower, at=start + PERIOD)
    # Installments 2 and 3 are missed; 20 days after installment 3's due date the servicer
    # proposes 8% over 24 installments of 30 days.
    at = start + 3 * PERIOD + 20 * DAY
    system.send(system.ledger.functions.assess(loan_id), system.accounts[5], at=at - 1)
    assert system.loan(loan_id)["bucket"] == 2  # 50 days past due
    propose = system.ledger.functions.proposeRestructure(loan_id, 800, 24, PERIOD, at + 7 * DAY)
    receipt = system.send(propose, servicer, at=at)
    (proposed,) = system.events(receipt, "RestructureProposed")
    assert (proposed["aprBps"], proposed["installments"], proposed["deadline"]) == (
        800,
        24,
        at + 7 * DAY,
    )
    accept_at = at + 3 * DAY
    quote = system.due(loan_id, accept_at)
    stranger = system.accounts[4]
    accept = system.ledger.functions.acceptRestructure(loan_id, 800, 24, PERIOD, at + 7 * DAY)
    system.reverts("NotBorrower", accept, stranger)
    receipt = system.send(accept, borrower, at=accept_at)
    (event,) = system.events(receipt, "LoanRestructured")
    outstanding = PRINCIPAL - CURVE.part(1)[0]
    # Carried over: the unpaid interest of installments 2 and 3, and installment 4's interest
    # for the 23 days of its period that ran before the new schedule starts.
    accrued = CURVE.part(4)[1] * 23 * DAY // PERIOD
    assert quote["accruedInterest"] == accrued
    unpaid_interest = CURVE.cumulative(3)[1] - CURVE.part(1)[1] + accrued
    assert event["principalOutstanding"] == outstanding
    assert event["carriedInterest"] == unpaid_interest == quote["interest"] + accrued
    assert (event["feesOwed"], event["penaltyOwed"]) == (quote["fees"], quote["penalty"])
    (reset,) = system.events(receipt, "ScheduleReset")
    assert (reset["baseIndex"], reset["installments"], reset["segmentStart"]) == (3, 27, accept_at)
    (cured,) = system.events(receipt, "DelinquencyBucketChanged")
    assert (cured["fromBucket"], cured["toBucket"]) == (2, 0)
    new_curve = Curve.of_period(ScheduleKind.ANNUITY, outstanding, 24, 800, PERIOD)
    due, p, i = system.installment(loan_id, 4)
    assert (due, p, i) == (accept_at + PERIOD, *new_curve.part(1))
    assert system.ledger.functions.daysPastDue(loan_id).call() == 0
    # Charges and carried interest are paid first by the next payment.
    after = system.due(loan_id, accept_at + DAY)
    assert after["interest"] == unpaid_interest and after["principal"] == 0
    amount = after["fees"] + after["penalty"] + unpaid_interest + sum(new_curve.part(1))
    paid = system.repay(loan_id, amount, borrower, at=accept_at + DAY)
    assert (
        paid["fees"] == after["fees"] and paid["interest"] == unpaid_interest + new_curve.part(1)[1]
    )
    assert paid["installmentsPaid"] == 4
    # The proposal was consumed.
    system.reverts("NoRestructureProposal", accept, borrower)


def test_restructure_deadline_and_roles(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    deadline = start + 5 * DAY
    propose = system.ledger.functions.proposeRestructure(loan_id, 800, 6, PERIOD, deadline)
    system.reverts("AccessControlUnauthorizedAccount", propose, borrower)
    system.reverts(
        "InvalidDeadline",
        system.ledger.functions.proposeRestructure(loan_id, 800, 6, PERIOD, start + 1),
        at=start + 1,
    )
    system.reverts(
        "InvalidInstallments",
        system.ledger.functions.proposeRestructure(loan_id, 800, 0, PERIOD, deadline),
    )
    system.send(propose, at=start + 2)
    accept = system.ledger.functions.acceptRestructure(loan_id, 800, 6, PERIOD, deadline)
    # Exactly at the deadline is still in time; one second later is not.
    snapshot = system.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    system.send(accept, borrower, at=deadline)
    system.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    failure = system.reverts("RestructureExpired", accept, borrower, at=deadline + 1)
    assert failure.revert is not None and failure.revert.args["deadline"] == deadline


def test_acceptance_binds_to_the_terms_the_borrower_saw(system: LedgerDriver) -> None:
    # The review bound a borrower to 100 % APR over 480 daily installments by landing a
    # replacement proposal just before the acceptance of 6 % over 24.
    borrower = system.accounts[1]
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)
    deadline = start + 20 * DAY
    system.send(
        system.ledger.functions.proposeRestructure(loan_id, 600, 24, PERIOD, deadline),
        at=start + DAY,
    )
    system.send(
        system.ledger.functions.proposeRestructure(loan_id, 10_000, 480, DAY, deadline),
        at=start + 2 * DAY,
    )
    seen = system.ledger.functions.acceptRestructure(loan_id, 600, 24, PERIOD, deadline)
    before = system.loan(loan_id)
    system.reverts("RestructureTermsMismatch", seen, borrower, at=start + 2 * DAY + 1)
    assert system.loan(loan_id) == before
    # The servicer withdraws the replacement; nothing is left to accept.
    receipt = system.send(system.ledger.functions.withdrawRestructure(loan_id), at=start + 3 * DAY)
    assert system.events(receipt, "RestructureWithdrawn") == [
        {"loanId": loan_id, "servicer": system.admin}
    ]
    system.reverts("NoRestructureProposal", seen, borrower)
    system.reverts(
        "AccessControlUnauthorizedAccount",
        system.ledger.functions.withdrawRestructure(loan_id),
        borrower,
    )


def test_a_restructuring_cannot_escape_a_default_that_is_due(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.day_end()
    loan_id = system.originate(borrower, default_after_days=30, at=start)
    due = start + PERIOD
    deadline = due + 60 * DAY
    system.send(
        system.ledger.functions.proposeRestructure(loan_id, 600, 24, PERIOD, deadline), at=due
    )
    accept = system.ledger.functions.acceptRestructure(loan_id, 600, 24, PERIOD, deadline)
    failure = system.reverts("DefaultDue", accept, borrower, at=due + 31 * DAY)
    assert failure.revert is not None
    assert (failure.revert.args["daysPastDue"], failure.revert.args["threshold"]) == (31, 30)
    # The stale proposal does not stand in the way of the default, which drops it.
    system.send(system.ledger.functions.declareDefault(loan_id), at=due + 31 * DAY + 1)
    assert system.loan(loan_id)["status"] == 1
    system.reverts("LoanNotActive", accept, borrower)
    system.reverts("NoRestructureProposal", system.ledger.functions.withdrawRestructure(loan_id))
