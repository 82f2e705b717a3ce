"""Delinquency: exact boundaries, late fees once per installment, penalty accrual, assess,
buckets, default and recoveries."""

from __future__ import annotations

import pytest

from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PRINCIPAL = 12_000 * UNIT
PERIOD = 30 * DAY
GRACE = 5 * DAY
CURVE = Curve.of_period(ScheduleKind.ANNUITY, PRINCIPAL, 12, 1200, PERIOD)
T1 = sum(CURVE.part(1))
YEAR_BPS = 10_000 * 365 * DAY


@pytest.fixture
def loan(system: LedgerDriver) -> tuple[int, int]:
    """(loan id, origination time): 12,000 at 12%, 12 x 30 days, 5-day grace, 5% late fee,
    6% penalty, default after 90 days."""
    start = system.day_end()
    return system.originate(system.accounts[1], at=start), start


def test_due_date_and_grace_boundaries_to_the_second(
    system: LedgerDriver, loan: tuple[int, int]
) -> None:
    loan_id, start = loan
    due = start + PERIOD
    at_due = system.due(loan_id, due)
    assert (at_due["pastDue"], at_due["daysPastDue"], at_due["nextInstallment"]) == (0, 0, 1)
    after_due = system.due(loan_id, due + 1)
    assert (after_due["pastDue"], after_due["daysPastDue"]) == (T1, 1)
    assert (after_due["fees"], after_due["penalty"]) == (0, 0)
    end_of_grace = system.due(loan_id, due + GRACE)
    assert (end_of_grace["fees"], end_of_grace["penalty"], end_of_grace["daysPastDue"]) == (0, 0, 5)
    late = system.due(loan_id, due + GRACE + 1)
    assert late["fees"] == T1 * 500 // 10_000
    assert late["penalty"] == T1 * 600 * 1 // YEAR_BPS
    assert late["daysPastDue"] == 6


def test_paying_at_the_due_date_is_on_time_and_one_second_later_is_late(
    system: LedgerDriver,
) -> None:
    borrower = system.accounts[1]
    start = system.day_end()
    on_time = system.originate(borrower, at=start - 1)
    late = system.originate(borrower, at=start)
    system.repay(on_time, T1, borrower, at=start + PERIOD)
    late_at = start + PERIOD + GRACE + 1
    system.repay(late, system.due(late, late_at)["pastDue"], borrower, at=late_at)
    record = system.record(borrower)
    assert (record["paidOnTime"], record["paidLate"], record["missed"]) == (1, 1, 1)


def test_assess_cannot_mark_a_loan_late_early(system: LedgerDriver, loan: tuple[int, int]) -> None:
    loan_id, start = loan
    keeper = system.accounts[5]
    before = system.loan(loan_id)
    # At the due date nothing is past due: assess changes nothing and emits nothing.
    at_due = system.send(system.ledger.functions.assess(loan_id), keeper, at=start + PERIOD)
    assert at_due["logs"] == []
    assert system.loan(loan_id) == before
    # At the end of the grace period the loan is 5 days past due (bucket 1-30) but no miss
    # is recorded and no charge made.
    end_of_grace = system.send(
        system.ledger.functions.assess(loan_id), keeper, at=start + PERIOD + GRACE
    )
    assert system.events(end_of_grace, "ChargesAccrued") == []
    assert [e["toBucket"] for e in system.events(end_of_grace, "DelinquencyBucketChanged")] == [1]
    after = system.loan(loan_id)
    assert (after["feesOwed"], after["penaltyOwed"], after["installmentsAssessedLate"]) == (0, 0, 0)
    assert system.record(system.accounts[1])["missed"] == 0


def test_assess_bucket_changes_once_per_bucket(system: LedgerDriver, loan: tuple[int, int]) -> None:
    loan_id, start = loan
    keeper = system.accounts[5]
    due = start + PERIOD
    first = system.send(system.ledger.functions.assess(loan_id), keeper, at=due + 1)
    assert system.events(first, "DelinquencyBucketChanged") == [
        {"loanId": loan_id, "fromBucket": 0, "toBucket": 1, "daysPastDue": 1}
    ]
    again = system.send(system.ledger.functions.assess(loan_id), keeper, at=due + 2 * DAY)
    assert again["logs"] == []  # same bucket, nothing late yet: nothing changes
    third = system.send(system.ledger.functions.assess(loan_id), keeper, at=due + 31 * DAY)
    (change,) = system.events(third, "DelinquencyBucketChanged")
    assert (change["fromBucket"], change["toBucket"], change["daysPastDue"]) == (1, 2, 31)
    assert system.loan(loan_id)["bucket"] == 2
    assert system.record(system.accounts[1])["currentDaysPastDue"] == 31


def test_late_fee_is_charged_once_per_late_installment(
    system: LedgerDriver, loan: tuple[int, int]
) -> None:
    loan_id, start = loan
    keeper = system.accounts[5]
    late_since = start + PERIOD + GRACE
    first = system.send(system.ledger.functions.assess(loan_id), keeper, at=late_since + 1)
    (charges,) = system.events(first, "ChargesAccrued")
    assert (charges["lateFee"], charges["missed"]) == (T1 * 500 // 10_000, 1)
    for offset in (DAY, 3 * DAY):
        receipt = system.send(
            system.ledger.functions.assess(loan_id), keeper, at=late_since + offset
        )
        (more,) = system.events(receipt, "ChargesAccrued")
        assert (more["lateFee"], more["missed"]) == (0, 0)
        assert more["penalty"] > 0
    assert system.loan(loan_id)["feesOwed"] == T1 * 500 // 10_000
    assert system.record(system.accounts[1])["missed"] == 1
    # Installment 2 passing its grace period unpaid is charged its own fee, once.
    T2 = sum(CURVE.part(2))
    second = system.send(
        system.ledger.functions.assess(loan_id), keeper, at=late_since + PERIOD + 1
    )
    (charges2,) = system.events(second, "ChargesAccrued")
    assert (charges2["lateFee"], charges2["missed"]) == (T2 * 500 // 10_000, 1)
    assert system.record(system.accounts[1])["missed"] == 2


def test_penalty_accrues_on_the_overdue_amount(system: LedgerDriver, loan: tuple[int, int]) -> None:
    loan_id, start = loan
    late_since = start + PERIOD + GRACE
    exact = T1 * 600 * (20 * DAY) // YEAR_BPS
    # Quoted without any checkpoint.
    assert system.due(loan_id, late_since + 20 * DAY)["penalty"] == exact
    # With keeper checkpoints in between, each step rounds down by less than one unit.
    keeper = system.accounts[5]
    for day in (3, 9, 14):
        system.send(system.ledger.functions.assess(loan_id), keeper, at=late_since + day * DAY)
    checkpointed = system.due(loan_id, late_since + 20 * DAY)["penalty"]
    assert exact - 4 <= checkpointed <= exact


def test_penalty_of_two_missed_installments(system: LedgerDriver, loan: tuple[int, int]) -> None:
    loan_id, start = loan
    keeper = system.accounts[5]
    late1 = start + PERIOD + GRACE
    late2 = late1 + PERIOD
    T2 = sum(CURVE.part(2))
    system.send(system.ledger.functions.assess(loan_id), keeper, at=late1)  # not late yet
    system.send(system.ledger.functions.assess(loan_id), keeper, at=late1 + 1)
    system.send(system.ledger.functions.assess(loan_id), keeper, at=late2 + 1)
    at = late2 + 10 * DAY
    quote = system.due(loan_id, at)
    # Each checkpoint charges every unpaid late amount from its own grace end (or the last
    # checkpoint), rounded down once per checkpoint.
    expected = (
        T1 * 600 * 1 // YEAR_BPS  # checkpoint late1 + 1: installment 1 for one second
        + T1 * 600 * PERIOD // YEAR_BPS  # checkpoint late2 + 1: installment 1 since late1 + 1
        + T2 * 600 * 1 // YEAR_BPS  # ... and installment 2 since its grace end
        + (T1 + T2) * 600 * (at - late2 - 1) // YEAR_BPS  # quote: both since late2 + 1
    )
    assert quote["penalty"] == expected
    assert quote["fees"] == T1 * 500 // 10_000 + T2 * 500 // 10_000


def test_assess_refuses_closed_and_defaulted_loans(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.now() + 10
    closed = system.originate(borrower, at=start)
    system.repay(closed, system.due(closed, start + 1)["payoff"], borrower, at=start + 1)
    system.reverts("LoanNotActive", system.ledger.functions.assess(closed))
    defaulted = system.originate(borrower, at=start + 2, default_after_days=30)
    system.send(system.ledger.functions.declareDefault(defaulted), at=start + 2 + PERIOD + 30 * DAY)
    system.reverts("LoanNotActive", system.ledger.functions.assess(defaulted))
    system.reverts("LoanNotActive", system.ledger.functions.declareDefault(defaulted))
    system.reverts("LoanNotFound", system.ledger.functions.assess(999))


def test_default_threshold_recoveries_and_frozen_charges(
    system: LedgerDriver, loan: tuple[int, int]
) -> None:
    loan_id, start = loan
    borrower, lender = system.accounts[1], system.admin
    due = start + PERIOD
    failure = system.reverts(
        "DefaultThresholdNotReached",
        system.ledger.functions.declareDefault(loan_id),
        at=due + 89 * DAY,
    )
    assert failure.revert is not None
    assert failure.revert.args == {"loanId": loan_id, "daysPastDue": 89, "threshold": 90}
    receipt = system.send(system.ledger.functions.declareDefault(loan_id), at=due + 90 * DAY)
    (event,) = system.events(receipt, "LoanDefaulted")
    assert event["daysPastDue"] == 90 and event["principalOutstanding"] == PRINCIPAL
    # Installments 1..3 were due by then: their interest is owed, all principal is accelerated.
    assert event["interestOwed"] == CURVE.cumulative(3)[1]
    record = system.record(borrower)
    assert record["defaults"] == 1 and record["currentDaysPastDue"] == 90
    frozen = system.due(loan_id, due + 90 * DAY)
    later = system.due(loan_id, due + 400 * DAY)
    for field in ("fees", "penalty", "interest", "principal", "payoff"):
        assert later[field] == frozen[field]
    assert frozen["principal"] == PRINCIPAL and frozen["currentInterest"] == 0
    # A partial recovery, then the rest: the loan closes as recovered.
    lender_before = system.balance(lender)
    part = system.repay(loan_id, frozen["fees"] + 1, borrower, at=due + 100 * DAY)
    assert (part["fees"], part["penalty"], part["status"]) == (frozen["fees"], 1, 1)
    rest = system.due(loan_id, due + 101 * DAY)["payoff"]
    assert rest == frozen["payoff"] - frozen["fees"] - 1
    final = system.repay(loan_id, rest + 10, borrower, at=due + 101 * DAY)
    assert final["status"] == 2
    assert system.events(final["receipt"], "LoanClosed")[0]["afterDefault"] is True
    assert system.balance(lender) - lender_before == frozen["payoff"]
    assert system.record(borrower)["loansClosed"] == 1
