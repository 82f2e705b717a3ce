"""Repayment: the waterfall, partial/exact/over-payments, prepayment and payoff."""

from __future__ import annotations

from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PRINCIPAL = 12_000 * UNIT
PERIOD = 30 * DAY
CURVE = Curve.of_period(ScheduleKind.ANNUITY, PRINCIPAL, 12, 1200, PERIOD)


def _loan(system: LedgerDriver, start: int, **kwargs: object) -> int:
    return system.originate(system.accounts[1], at=start, **kwargs)  # type: ignore[arg-type]


def test_on_time_installment_is_split_interest_then_principal(system: LedgerDriver) -> None:
    borrower, lender = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = _loan(system, start)
    p1, i1 = CURVE.part(1)
    system.fund(borrower, p1 + i1)
    lender_before = system.balance(lender)
    event = system.repay(loan_id, p1 + i1, borrower, at=start + PERIOD, fund=False)
    assert (event["fees"], event["penalty"], event["interest"], event["principal"]) == (
        0,
        0,
        i1,
        p1,
    )
    assert event["principalOutstanding"] == PRINCIPAL - p1
    assert event["installmentsPaid"] == 1
    assert system.balance(lender) - lender_before == p1 + i1
    assert system.balance(borrower) == PRINCIPAL  # the disbursement is still there
    record = system.record(borrower)
    assert (record["paidOnTime"], record["paidLate"], record["missed"]) == (1, 0, 0)
    assert record["totalRepaid"] == (p1 + i1) * 10**12
    assert system.ledger.functions.daysPastDue(loan_id).call() == 0


def test_partial_payments_cover_interest_first(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.day_end()
    loan_id = _loan(system, start)
    p1, i1 = CURVE.part(1)
    first = system.repay(loan_id, i1 // 2, borrower, at=start + DAY)
    assert (first["interest"], first["principal"], first["installmentsPaid"]) == (i1 // 2, 0, 0)
    second = system.repay(loan_id, i1, borrower, at=start + 2 * DAY)
    assert (second["interest"], second["principal"]) == (i1 - i1 // 2, i1 // 2)
    rest = p1 - i1 // 2
    third = system.repay(loan_id, rest, borrower, at=start + 3 * DAY)
    assert (third["interest"], third["principal"], third["installmentsPaid"]) == (0, rest, 1)
    assert system.record(borrower)["paidOnTime"] == 1
    assert system.loan(loan_id)["paidPrincipal"] == p1


def test_overpayment_pulls_only_the_payoff_and_closes(system: LedgerDriver) -> None:
    borrower, lender = system.accounts[1], system.admin
    start = system.day_end()
    loan_id = _loan(system, start)
    quote = system.due(loan_id, start + 5 * DAY)
    # Interest to the day: five of the period's thirty days.
    assert quote["payoff"] == PRINCIPAL + CURVE.part(1)[1] * 5 * DAY // PERIOD
    system.fund(borrower, quote["payoff"] + 500 * UNIT)
    lender_before = system.balance(lender)
    event = system.repay(
        loan_id, quote["payoff"] + 500 * UNIT, borrower, at=start + 5 * DAY, fund=False
    )
    assert event["interest"] + event["principal"] == quote["payoff"]
    assert event["principalOutstanding"] == 0 and event["status"] == 2
    assert system.balance(borrower) == PRINCIPAL + 500 * UNIT
    assert system.balance(lender) - lender_before == quote["payoff"]
    closed = system.events(event["receipt"], "LoanClosed")
    assert closed == [{"loanId": loan_id, "borrower": borrower, "afterDefault": False}]
    assert system.loan(loan_id)["status"] == 2
    assert system.record(borrower)["loansClosed"] == 1
    system.reverts("LoanNotActive", system.ledger.functions.repay(loan_id, 1), borrower)


def test_prepayment_keeps_the_term_and_lowers_later_installments(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.day_end()
    loan_id = _loan(system, start)
    p1, i1 = CURVE.part(1)
    extra = 3_000 * UNIT
    event = system.repay(loan_id, p1 + i1 + extra, borrower, at=start + 10 * DAY)
    assert (event["interest"], event["principal"]) == (i1, p1 + extra)
    (reset,) = system.events(event["receipt"], "ScheduleReset")
    outstanding = PRINCIPAL - p1 - extra
    assert reset["baseIndex"] == 1 and reset["installments"] == 12
    assert reset["basePrincipal"] == outstanding == event["principalOutstanding"]
    assert reset["segmentStart"] == start + PERIOD  # due date of installment 1
    new_curve = Curve.of_period(ScheduleKind.ANNUITY, outstanding, 11, 1200, PERIOD)
    for number in (2, 7, 12):
        due, p, i = system.installment(loan_id, number)
        assert (p, i) == new_curve.part(number - 1)
        assert due == start + number * PERIOD
    old_total, new_total = sum(CURVE.part(2)), sum(new_curve.part(1))
    assert new_total < old_total
    assert sum(new_curve.part(j)[0] for j in range(1, 12)) == outstanding
    # Installment 2 paid on its due date settles it (the loan is current).
    paid = system.repay(loan_id, new_total, borrower, at=start + 2 * PERIOD)
    assert paid["installmentsPaid"] == 2
    assert system.record(borrower)["paidOnTime"] == 2


def test_payoff_after_several_installments_closes_exactly(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.day_end()
    loan_id = _loan(system, start, kind=ScheduleKind.EQUAL_PRINCIPAL)
    curve = Curve.of_period(ScheduleKind.EQUAL_PRINCIPAL, PRINCIPAL, 12, 1200, PERIOD)
    for k in (1, 2, 3):
        system.repay(loan_id, sum(curve.part(k)), borrower, at=start + k * PERIOD)
    at = start + 3 * PERIOD + 7 * DAY
    # Now (the due date of installment 3, just paid) the payoff is the outstanding principal.
    outstanding = PRINCIPAL - sum(curve.part(k)[0] for k in (1, 2, 3))
    assert system.ledger.functions.payoffAmount(loan_id).call() == outstanding
    # A week later installment 4 is running: seven days of its interest, not the whole period's.
    quote = system.due(loan_id, at)
    assert quote["payoff"] == outstanding + curve.part(4)[1] * 7 * DAY // PERIOD
    assert quote["accruedInterest"] == curve.part(4)[1] * 7 * DAY // PERIOD
    event = system.repay(loan_id, quote["payoff"], borrower, at=at)
    assert event["status"] == 2 and event["principalOutstanding"] == 0


def test_all_installments_on_time_close_the_loan_and_sum_exactly(system: LedgerDriver) -> None:
    borrower, lender = system.accounts[1], system.admin
    start = system.day_end()
    curve = Curve.of_period(ScheduleKind.BULLET, PRINCIPAL, 4, 900, PERIOD)
    loan_id = _loan(system, start, kind=ScheduleKind.BULLET, installments=4, apr_bps=900)
    lender_before = system.balance(lender)
    for k in range(1, 5):
        event = system.repay(loan_id, sum(curve.part(k)), borrower, at=start + k * PERIOD)
    assert event["status"] == 2
    assert system.balance(lender) - lender_before == PRINCIPAL + curve.cumulative(4)[1]
    record = system.record(borrower)
    assert (record["paidOnTime"], record["loansOpened"], record["loansClosed"]) == (4, 1, 1)


def test_late_payment_waterfall_fees_penalty_interest_principal(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    start = system.day_end()
    loan_id = _loan(system, start)
    p1, i1 = CURVE.part(1)
    due1 = start + PERIOD
    late_since = due1 + 5 * DAY
    at = late_since + 10 * DAY
    quote = system.due(loan_id, at)
    fee = (p1 + i1) * 500 // 10_000
    penalty = (p1 + i1) * 600 * (10 * DAY) // (10_000 * 365 * DAY)
    assert (quote["fees"], quote["penalty"], quote["interest"], quote["principal"]) == (
        fee,
        penalty,
        i1,
        p1,
    )
    assert quote["daysPastDue"] == 15
    assert quote["nextInstallment"] == 2 and quote["currentInterest"] == CURVE.part(2)[1]
    # Pay fees, penalty, interest and one unit of principal: split in that order.
    amount = fee + penalty + i1 + 1
    event = system.repay(loan_id, amount, borrower, at=at)
    assert (event["fees"], event["penalty"], event["interest"], event["principal"]) == (
        fee,
        penalty,
        i1,
        1,
    )
    (charges,) = system.events(event["receipt"], "ChargesAccrued")
    assert (charges["lateFee"], charges["penalty"], charges["missed"]) == (fee, penalty, 1)
    assert event["installmentsPaid"] == 0
    # One second later, penalty accrued on the unpaid p1 - 1 for that second comes first; the
    # rest of installment 1 then settles it late and the loan is current again.
    second_penalty = (p1 - 1) * 600 // (10_000 * 365 * DAY)
    later = system.due(loan_id, at + 1)
    assert (later["fees"], later["penalty"], later["principal"]) == (0, second_penalty, p1 - 1)
    rest = system.repay(loan_id, later["pastDue"], borrower, at=at + 1)
    assert (rest["penalty"], rest["principal"]) == (second_penalty, p1 - 1)
    assert rest["installmentsPaid"] == 1
    record = system.record(borrower)
    assert (record["paidLate"], record["paidOnTime"], record["missed"]) == (1, 0, 1)
    assert record["maxDaysPastDue"] == 15 and record["currentDaysPastDue"] == 0
    assert system.loan(loan_id)["bucket"] == 0
