"""Loans as lenders write them, on chain: calendar months under 30/360 with installments in
cents (the two reference tables), the end-of-month rule, due dates that are dates in the loan's
UTC offset, odd first periods, interest-only installments, and the terms the ledger refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.calendar import DayCount
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LoanState
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

CENTS = 4  # rounding exponent: whole cents of the 6-decimal token


def _next_date_on(system: LedgerDriver, day: int) -> dt.date:
    """The first date after today (UTC, chain time) that falls on day ``day`` of its month."""
    date = cal.date_of_day(system.now() // DAY + 1)
    while date.day != day:
        date += dt.timedelta(days=1)
    return date


def _monthly(
    system: LedgerDriver, principal: int, apr_bps: int, count: int, start_date: dt.date, **kw: int
) -> tuple[int, int]:
    """A loan due monthly under 30/360 in cents, originated at noon on ``start_date`` and
    first due on the same day next month (a first period of exactly 30 days): (id, start)."""
    start = cal.day_of_date(start_date) * DAY + 12 * 3600
    first = cal.day_in_month(cal.month_of(cal.day_of_date(start_date)) + 1, start_date.day)
    loan_id = system.originate(
        system.accounts[1],
        principal=principal,
        apr_bps=apr_bps,
        installments=count,
        period=0,
        first_due=cal.day_end(first, 0),
        months=1,
        day_count=int(DayCount.THIRTY_360),
        rounding_exp=kw.pop("rounding_exp", CENTS),
        at=start,
        **kw,
    )
    return loan_id, start


def _cents(units: int) -> str:
    return f"{units / UNIT:,.2f}"


def test_the_30_year_mortgage_to_the_cent(system: LedgerDriver) -> None:
    """250,000 at 6.5 % over 360 monthly installments: 1,580.17 a month, the first split
    1,354.17 interest and 226.00 principal, the last absorbing the difference."""
    loan_id, _ = _monthly(system, 250_000 * UNIT, 650, 360, _next_date_on(system, 15))
    parts = {n: system.installment(loan_id, n) for n in (1, 2, 180, 359, 360)}
    assert [p + i for _, p, i in parts.values()][:4] == [1_580_170_000] * 4
    _, principal1, interest1 = parts[1]
    assert (_cents(interest1), _cents(principal1)) == ("1,354.17", "226.00")
    assert interest1 <= 250_000 * UNIT * 650 * 30 // (10_000 * 360)  # rounded down
    _, last_p, last_i = parts[360]
    assert abs(last_p + last_i - 1_580_170_000) < 2 * UNIT  # the last absorbs the cents
    # The Python twin agrees to the unit, and the principal parts sum to the principal.
    state = LoanState.from_view(loan_id, system.loan(loan_id))
    curve = state.curve()
    assert curve.installment_amount == 1_580_170_000
    assert all(curve.part(n) == (p, i) for n, (_, p, i) in parts.items())
    assert sum(curve.part(n)[0] for n in range(1, 361)) == 250_000 * UNIT


def test_the_12_month_loan_to_the_cent(system: LedgerDriver) -> None:
    """10,000 at 12 % over 12 monthly installments (30/360): 888.49 a month."""
    loan_id, _ = _monthly(system, 10_000 * UNIT, 1200, 12, _next_date_on(system, 10))
    totals = [sum(system.installment(loan_id, n)[1:]) for n in range(1, 13)]
    assert totals[:11] == [888_490_000] * 11
    principal = sum(system.installment(loan_id, n)[1] for n in range(1, 13))
    assert principal == 10_000 * UNIT
    assert abs(totals[11] - 888_490_000) < UNIT  # 888.47: the last absorbs the cents
    # A borrower who pays the amount on the statement pays exactly the installment.
    due = system.due_date(loan_id, 1)
    event = system.repay(loan_id, 888_490_000, system.accounts[1], at=due)
    assert event["installmentsPaid"] == 1
    assert system.due(loan_id, due + 1)["pastDue"] == 0


def test_due_dates_follow_the_end_of_month_rule(system: LedgerDriver) -> None:
    start_date = _next_date_on(system, 31)
    loan_id, _ = _monthly(system, 1_000 * UNIT, 900, 4, start_date)
    dates = [cal.date_of_day(cal.local_day(system.due_date(loan_id, n), 0)) for n in range(1, 5)]
    month = cal.month_of(cal.day_of_date(start_date))
    expected = [cal.date_of_day(cal.day_in_month(month + n, 31)) for n in range(1, 5)]
    assert dates == expected
    assert all(d.day == cal.days_in_month(d.year, d.month) for d in dates)
    assert system.loan(loan_id)["anchorDay"] == 31


def test_a_due_date_is_a_date_in_the_loans_offset(system: LedgerDriver) -> None:
    """Paid at 23:59:59 on the due date in the loan's offset (+08:00) is on time; the next
    second it is one day past due."""
    borrower = system.accounts[2]
    offset = 8 * 3600
    # The first local date whose 23:00 is still ahead (between 23:00 and midnight local,
    # tomorrow's: a bug fixed, the test failed at that hour).
    today = cal.local_day(system.now() + 3600 + 10, offset)
    start = cal.day_end(today, offset) - 3600  # 23:00 local
    first_due = cal.day_end(today + 30, offset) - 5 * 3600  # any time of that date
    kw = {"period": 30 * DAY, "first_due": first_due, "grace": 0, "utc_offset": 480}
    on_time = system.originate(borrower, at=start, **kw)
    late = system.originate(borrower, at=start + 1, **kw)
    due = cal.day_end(today + 30, offset)
    assert system.due_date(on_time, 1) == due
    installment = system.installment_total(on_time, 1)
    system.repay(on_time, installment, borrower, at=due)
    assert system.due(late, due + 1)["daysPastDue"] == 1
    assert system.due(late, due + DAY)["daysPastDue"] == 1
    assert system.due(late, due + DAY + 1)["daysPastDue"] == 2
    system.repay(late, system.due(late, due + 1)["pastDue"], borrower, at=due + 1)
    record = system.record(borrower)
    assert (record["paidOnTime"], record["paidLate"]) == (1, 1)


def test_an_odd_first_period_charges_the_days_it_has(system: LedgerDriver) -> None:
    """A bullet due every 91 days, first due 44 days after origination: 44 days of interest
    (not 91); the payoff on the origination date has none."""
    borrower = system.accounts[3]
    start = system.day_end(system.now() + 3600 + 10) - 3600  # 23:00 UTC still ahead
    today = start // DAY
    loan_id = system.originate(
        borrower,
        kind=ScheduleKind.BULLET,
        period=91 * DAY,
        first_due=cal.day_end(today + 44, 0),
        at=start,
    )
    principal = 12_000 * UNIT
    assert system.loan(loan_id)["oddDays"] == 44 - 91
    _, _, interest1 = system.installment(loan_id, 1)
    assert interest1 == principal * 1200 * 44 // (10_000 * 365)
    # The second: 91 days, as the cumulative interest through it (135 days) less the first's.
    year = 10_000 * 365
    assert system.installment(loan_id, 2)[2] == (
        principal * 1200 * 135 // year - principal * 1200 * 44 // year
    )
    assert system.due(loan_id, start)["payoff"] == principal
    # Halfway through its 44 days, half of its interest.
    halfway = system.due(loan_id, start + 22 * DAY)
    assert halfway["accruedInterest"] == interest1 * 22 // 44


def test_interest_only_installments_then_amortisation(system: LedgerDriver) -> None:
    loan_id = system.originate(system.accounts[1], installments=12, interest_only=3)
    parts = [system.installment(loan_id, n) for n in range(1, 13)]
    assert [p for _, p, _ in parts[:3]] == [0, 0, 0]
    assert all(i > 0 for _, _, i in parts[:3])
    assert all(p > 0 for _, p, _ in parts[3:])
    assert sum(p for _, p, _ in parts) == 12_000 * UNIT
    state = LoanState.from_view(loan_id, system.loan(loan_id))
    assert [state.curve().part(n) for n in range(1, 13)] == [(p, i) for _, p, i in parts]


def test_a_rounded_loan_closes_by_its_payoff(system: LedgerDriver) -> None:
    """The bug the forge invariants found: closing a loan with rounded installments divided by
    zero when its empty segment's installment was derived."""
    loan_id, start = _monthly(system, 317, 900, 1, _next_date_on(system, 12), rounding_exp=2)
    payoff = system.due(loan_id, start + DAY)["payoff"]
    event = system.repay(loan_id, payoff, system.accounts[1], at=start + DAY)
    assert event["status"] == 2 and system.loan(loan_id)["principalOutstanding"] == 0


def test_terms_the_calendar_refuses(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    now = system.now() + 10
    month_later = now + 31 * DAY

    def refused(name: str, **kw: int) -> dict[str, int]:
        terms = system.terms(
            borrower,
            1_000 * UNIT,
            1200,
            12,
            kw.pop("period", 30 * DAY),
            kw.pop("first_due", now + 30 * DAY),
            ScheduleKind(kw.pop("kind", 0)),
            5 * DAY,
            500,
            600,
            90,
            **kw,
        )
        failure = system.reverts(name, system.originate_call(terms), at=now)
        assert failure.revert is not None
        return failure.revert.args

    # Calendar months go with 30/360, periods of days with the actual conventions.
    assert refused("DayCountNotSupported", period=0, first_due=month_later, months=1) == {
        "periodMonths": 1,
        "dayCount": 0,
    }
    assert refused("DayCountNotSupported", day_count=2)["dayCount"] == 2
    refused("InvalidPeriod", period=0, first_due=month_later, months=13, day_count=2)
    refused("InvalidPeriod", period=30 * DAY + 1)
    assert refused("InvalidUtcOffset", utc_offset=7) == {"minutes_": 7}
    assert refused("InvalidInterestOnly", interest_only=12)["interestOnly"] == 12
    refused("InvalidInterestOnly", kind=2, interest_only=1)
    assert refused("InvalidRounding", rounding_exp=19) == {"roundingExp": 19}
    refused("InvalidFirstDueDate", first_due=now + 61 * DAY)


def _delegated(system: LedgerDriver, receipt: Any) -> bool:
    """Whether the transaction ran a linked library (the ledger's general path)."""
    trace = system.rpc(
        "debug_traceTransaction", [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}]
    )

    def calls(frame: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield frame
        for inner in frame.get("calls", []):
            yield from calls(inner)

    return any(frame["type"] == "DELEGATECALL" for frame in calls(trace))


def test_on_time_installments_take_the_short_path_all_the_way(system: LedgerDriver) -> None:
    """Bug: an on-time installment went the general path (half as much gas again) once the
    interest paid since origination exceeded the principal left, i.e. for the second half of a
    mortgage. Every on-time installment but the closing one now takes the short path."""
    loan_id, _ = _monthly(system, 10_000 * UNIT, 3600, 36, _next_date_on(system, 10))
    borrower = system.accounts[1]
    for n in range(1, 37):
        paid = system.repay(
            loan_id, system.installment_total(loan_id, n), borrower, at=system.due_date(loan_id, n)
        )
        assert paid["installmentsPaid"] == n
        assert _delegated(system, paid["receipt"]) is (n == 36), n
