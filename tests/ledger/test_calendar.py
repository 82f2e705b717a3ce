"""The calendar arithmetic the ledger does on chain (mirrored by ``ledger/calendar.py``) against
Python's own calendar: civil dates, the end-of-month rule, 30/360, and the terms a lender
writes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.calendar import DayCount, Frequency

DATES = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2399, 12, 31))


@given(DATES)
def test_civil_dates_and_day_numbers_agree_with_datetime(date: dt.date) -> None:
    z = (date - dt.date(1970, 1, 1)).days
    assert cal.days_from_civil(date.year, date.month, date.day) == z
    assert cal.civil_from_days(z) == (date.year, date.month, date.day)
    assert cal.month_of(z) == date.year * 12 + date.month - 1


@given(st.integers(1970, 2399), st.integers(1, 12))
def test_days_in_month_agrees_with_datetime(year: int, month: int) -> None:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    assert cal.days_in_month(year, month) == (nxt - dt.timedelta(days=1)).day


def _due_dates(first: dt.date, months: int, count: int) -> list[dt.date]:
    z = cal.day_of_date(first)
    anchor = cal.anchor_of(z)
    return [
        cal.date_of_day(cal.day_in_month(cal.month_of(z) + n * months, anchor))
        for n in range(count)
    ]


def test_end_of_month_rule_across_a_leap_year() -> None:
    # First due on 31 January: the last day of February (29 in 2028), then 31 March.
    assert _due_dates(dt.date(2028, 1, 31), 1, 5) == [
        dt.date(2028, 1, 31),
        dt.date(2028, 2, 29),
        dt.date(2028, 3, 31),
        dt.date(2028, 4, 30),
        dt.date(2028, 5, 31),
    ]
    assert _due_dates(dt.date(2027, 1, 31), 1, 3)[1] == dt.date(2027, 2, 28)
    # First due on the last day of February: every due date stays at the month's end.
    assert _due_dates(dt.date(2027, 2, 28), 1, 3) == [
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 30),
    ]
    # A day that every month has keeps its day; quarterly from 30 November.
    assert _due_dates(dt.date(2027, 1, 15), 1, 3)[2] == dt.date(2027, 3, 15)
    assert _due_dates(dt.date(2027, 11, 30), 3, 3) == [
        dt.date(2027, 11, 30),
        dt.date(2028, 2, 29),
        dt.date(2028, 5, 31),
    ]


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ((2027, 1, 15), (2027, 2, 15), 30),
        ((2027, 1, 31), (2027, 2, 28), 28),
        ((2027, 1, 30), (2027, 3, 31), 60),
        ((2027, 1, 31), (2027, 3, 31), 60),
        ((2027, 2, 28), (2027, 3, 31), 33),
        ((2027, 12, 2), (2028, 2, 1), 59),
        ((2027, 3, 1), (2027, 3, 1), 0),
    ],
)
def test_days360_is_the_us_bond_basis(
    start: tuple[int, int, int], end: tuple[int, int, int], days: int
) -> None:
    a, b = cal.days_from_civil(*start), cal.days_from_civil(*end)
    assert cal.days360(a, b) == days


@given(DATES, st.integers(0, 400))
def test_days360_counts_thirty_a_month(date: dt.date, months: int) -> None:
    z = cal.day_of_date(date)
    if date.day > 28:
        return
    later = cal.day_in_month(cal.month_of(z) + months, date.day)
    assert cal.days360(z, later) == 30 * months


@given(st.integers(0, 2**34), st.sampled_from([-720, -300, 0, 330, 480, 840]))
def test_a_due_date_ends_at_the_last_second_of_its_local_date(t: int, minutes: int) -> None:
    offset = minutes * 60
    z = cal.local_day(t, offset)
    end = cal.day_end(z, offset)
    assert cal.local_day(end, offset) == z and cal.local_day(end + 1, offset) == z + 1
    local = dt.datetime.fromtimestamp(t, dt.UTC) + dt.timedelta(seconds=offset)
    assert cal.date_of_day(z) == local.date()


def test_frequencies_and_conventions_as_lenders_write_them() -> None:
    assert Frequency.parse("monthly") == Frequency(months=1)
    assert Frequency.parse("quarterly") == Frequency(months=3)
    assert Frequency.parse("semi-annual") == Frequency(months=6)
    assert Frequency.parse("annual") == Frequency(months=12)
    assert Frequency.parse("weekly") == Frequency(days=7)
    assert Frequency.parse("every:14d") == Frequency(days=14)
    assert Frequency.parse("every:2w") == Frequency(days=14)
    assert Frequency.parse("every:2m") == Frequency(months=2)
    assert [Frequency.parse(x).label for x in ("monthly", "every:14d", "weekly")] == [
        "monthly",
        "every:2w",
        "weekly",
    ]
    with pytest.raises(ValueError, match="unknown frequency"):
        Frequency.parse("every:0d")
    assert DayCount.from_label("30/360") is DayCount.THIRTY_360
    assert DayCount.from_label("ACT/365") is DayCount.ACTUAL_365
    assert DayCount.ACTUAL_360.year_days == 360
    with pytest.raises(ValueError, match="unknown day count"):
        DayCount.from_label("act/act")
    assert cal.parse_utc_offset("+08:00") == 480
    assert cal.parse_utc_offset("-05:30") == -330
    assert cal.format_utc_offset(-330) == "-05:30"
    with pytest.raises(ValueError, match="UTC offset"):
        cal.parse_utc_offset("8 hours")
