"""Civil-calendar arithmetic as ``libraries/LoanCalendar.sol`` does it, and a loan's calendar.

Dates are day numbers (days since 1970-01-01), months are month numbers (``year * 12 + month
- 1``); due dates fall on a day of the month with the end-of-month rule; 30/360 is the US bond
basis. The integer functions are the contract's line for line (H. Hinnant's
``days_from_civil`` / ``civil_from_days``); :class:`Frequency` and :class:`DayCount` are the
terms a lender writes (``monthly``, ``every:14d``, ``30/360``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "DAY",
    "DayCount",
    "Frequency",
    "anchor_of",
    "civil_from_days",
    "date_of_day",
    "day_end",
    "day_in_month",
    "day_of_date",
    "days360",
    "days_from_civil",
    "days_in_month",
    "format_utc_offset",
    "local_day",
    "month_of",
    "parse_utc_offset",
]

DAY = 86_400
_EPOCH = dt.date(1970, 1, 1)


class DayCount(IntEnum):
    """How a period's interest is counted; values match the Solidity enum."""

    ACTUAL_365 = 0
    ACTUAL_360 = 1
    THIRTY_360 = 2

    @property
    def label(self) -> str:
        return {0: "act/365", 1: "act/360", 2: "30/360"}[int(self)]

    @property
    def year_days(self) -> int:
        return 365 if self is DayCount.ACTUAL_365 else 360

    @classmethod
    def from_label(cls, label: str) -> DayCount:
        for convention in cls:
            if convention.label == label.strip().lower():
                return convention
        raise ValueError(f"unknown day count {label!r}: use 30/360, act/360 or act/365")


_NAMED_MONTHS = {"monthly": 1, "quarterly": 3, "semi-annual": 6, "semiannual": 6, "annual": 12}
_EVERY = re.compile(r"^every:(\d+)(d|w|m)$")


@dataclass(frozen=True)
class Frequency:
    """How often installments fall due: every ``days`` days or every ``months`` months."""

    days: int = 0
    months: int = 0

    @property
    def period_seconds(self) -> int:
        return self.days * DAY

    @property
    def label(self) -> str:
        if self.months:
            named = {v: k for k, v in _NAMED_MONTHS.items() if k != "semiannual"}
            return named.get(self.months, f"every:{self.months}m")
        if self.days % 7 == 0:
            return "weekly" if self.days == 7 else f"every:{self.days // 7}w"
        return "daily" if self.days == 1 else f"every:{self.days}d"

    @classmethod
    def parse(cls, text: str) -> Frequency:
        """``monthly``, ``quarterly``, ``semi-annual``, ``annual``, ``weekly``, ``daily``,
        ``every:14d``, ``every:2w`` or ``every:2m``."""
        label = text.strip().lower()
        if label in _NAMED_MONTHS:
            return cls(months=_NAMED_MONTHS[label])
        if label == "weekly":
            return cls(days=7)
        if label == "daily":
            return cls(days=1)
        match = _EVERY.match(label)
        if match is None or int(match.group(1)) == 0:
            raise ValueError(
                f"unknown frequency {text!r}: use monthly, quarterly, semi-annual, annual, "
                "weekly, daily or every:N followed by d, w or m (every:14d)"
            )
        n, unit = int(match.group(1)), match.group(2)
        if unit == "m":
            return cls(months=n)
        return cls(days=n * 7 if unit == "w" else n)


def days_from_civil(y: int, m: int, d: int) -> int:
    """Day number of the civil date ``y-m-d`` (``LoanCalendar.daysFromCivil``)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(z: int) -> tuple[int, int, int]:
    """Civil date of day number ``z`` (``LoanCalendar.civilFromDays``)."""
    z += 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def month_of(z: int) -> int:
    y, m, _ = civil_from_days(z)
    return y * 12 + m - 1


def day_in_month(month: int, anchor_day: int) -> int:
    """Day ``anchor_day`` of month number ``month``, or its last day (end-of-month rule)."""
    y, m = month // 12, month % 12 + 1
    return days_from_civil(y, m, min(anchor_day, days_in_month(y, m)))


def anchor_of(z: int) -> int:
    """The day of the month of day ``z``, or 31 when it is its month's last day."""
    y, m, d = civil_from_days(z)
    return 31 if d == days_in_month(y, m) else d


def days360(a: int, b: int) -> int:
    """30/360 days (US bond basis) from day ``a`` to day ``b``; 0 when ``b <= a``."""
    if b <= a:
        return 0
    y1, m1, d1 = civil_from_days(a)
    y2, m2, d2 = civil_from_days(b)
    if d1 == 31:
        d1 = 30
    if d2 == 31 and d1 == 30:
        d2 = 30
    return (y2 * 360 + m2 * 30 + d2) - (y1 * 360 + m1 * 30 + d1)


def local_day(t: int, offset: int) -> int:
    """Day number of timestamp ``t`` in a UTC offset of ``offset`` seconds."""
    return (t + offset) // DAY


def day_end(z: int, offset: int) -> int:
    """The last second of day ``z`` in a UTC offset of ``offset`` seconds."""
    return (z + 1) * DAY - 1 - offset


def date_of_day(z: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=z)


def day_of_date(date: dt.date) -> int:
    return (date - _EPOCH).days


_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})$")


def parse_utc_offset(text: str) -> int:
    """``+08:00``, ``-05:30`` or ``Z`` as minutes east of UTC."""
    label = text.strip().upper()
    if label in ("Z", "UTC", "0", "+0", "00:00", "+00:00"):
        return 0
    match = _OFFSET.match(label)
    if match is None:
        raise ValueError(f"unknown UTC offset {text!r}: write it as +08:00 or -05:30")
    sign = -1 if match.group(1) == "-" else 1
    return sign * (int(match.group(2)) * 60 + int(match.group(3)))


def format_utc_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"
