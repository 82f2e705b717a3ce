"""A loan's calendar as the ledger sets it: at origination (``LoanCalendarTerms.store``) and
when a restructuring starts a new one (``LoanRestructuring._newCalendar``). The replay, the
index and the schedule view all take it from here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.state import LoanState

__all__ = ["origination_calendar", "restart_calendar"]


def origination_calendar(terms: Mapping[str, Any], t: int) -> dict[str, int]:
    """The calendar a loan originated at ``t`` with ``terms`` stores: its segment start (the
    end of the date one period before the first due date, in the loan's offset), anchor day,
    odd days and the calendar's start month."""
    offset = int(terms.get("utcOffsetMinutes", 0)) * 60
    months = int(terms.get("periodMonths", 0))
    today = cal.local_day(t, offset)
    first = cal.local_day(int(terms["firstDueDate"]), offset)
    anchor = 0
    if months == 0:
        regular = int(terms["periodSeconds"]) // cal.DAY
        start = first - regular
        first_days = first - today
    else:
        anchor = cal.anchor_of(first)
        start = cal.day_in_month(cal.month_of(first) - months, anchor)
        regular = 30 * months
        first_days = cal.days360(today, first)
    return {
        "segment_start": cal.day_end(start, offset),
        "anchor_day": anchor,
        "odd_days": first_days - regular,
        "calendar_month": cal.month_of(start) if months else 0,
    }


def restart_calendar(w: LoanState) -> None:
    """The calendar of a segment a restructuring started at the end of a date (its
    ``segment_start``): a loan due in calendar months falls due on that day of the month from
    then on (installment ``base_index + 1`` a period after it); no odd first period, no
    interest-only installments."""
    today = cal.local_day(w.segment_start, w.offset_seconds)
    if w.months:
        w.anchor_day = cal.anchor_of(today)
        w.calendar_month = cal.month_of(today) - w.base_index * w.months
    w.interest_only = w.odd_days = 0
