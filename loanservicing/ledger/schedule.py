"""Repayment schedules in closed form, the same integer arithmetic as ``LoanSchedule.sol``.

The monitor, the CLI and the tests evaluate schedules off chain with these functions and get
the very numbers the ledger computes: every division rounds down exactly as the contract's
does, and annuity powers use the same 36-decimal fixed point and square-and-multiply order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

from loanservicing.ledger.calendar import DAY, DayCount

__all__ = [
    "BPS",
    "DAY",
    "RATE_DEN",
    "RATE_DEN_DAYS",
    "SCALE",
    "YEAR",
    "Curve",
    "ScheduleKind",
    "period_rate",
    "pow_scaled",
]

SCALE = 10**36
YEAR = 365 * DAY
BPS = 10_000
RATE_DEN = BPS * YEAR
"""Denominator of penalty interest by the second: ``apr_bps * seconds / RATE_DEN``."""
RATE_DEN_DAYS = BPS * 365
"""Denominator of a periodic rate under actual/365: ``apr_bps * days / RATE_DEN_DAYS``."""


class ScheduleKind(IntEnum):
    """How principal is repaid; values match the Solidity enum."""

    ANNUITY = 0
    EQUAL_PRINCIPAL = 1
    BULLET = 2

    @property
    def label(self) -> str:
        return {0: "annuity", 1: "equal-principal", 2: "bullet"}[int(self)]

    @classmethod
    def from_label(cls, label: str) -> ScheduleKind:
        for kind in cls:
            if kind.label == label:
                return kind
        raise ValueError(f"unknown schedule kind {label!r}: use annuity, equal-principal or bullet")


def pow_scaled(x: int, e: int) -> int:
    """``x**e`` in SCALE fixed point, rounded down at every step as ``LoanSchedule.pow``."""
    if e == 0:
        return SCALE
    r = x if e & 1 else SCALE
    e >>= 1
    while e:
        x = x * x // SCALE
        if e & 1:
            r = r * x // SCALE
        e >>= 1
    return r


def period_rate(apr_bps: int, days: int, day_count: DayCount) -> tuple[int, int]:
    """The periodic rate ``(rate_num, rate_den)`` of ``apr_bps`` over ``days`` day-count days
    (``LoanSchedule.periodRate``)."""
    return apr_bps * days, BPS * day_count.year_days


def _floor(x: int, unit: int) -> int:
    return x - x % unit if unit > 1 else x


@dataclass(frozen=True)
class Curve:
    """A schedule segment: ``count`` installments amortising ``principal`` at the periodic
    rate ``rate_num / rate_den``, the first ``io`` interest only, ``odd / rate_den`` added to
    the first installment's interest (``odd`` = principal x apr x odd days), amounts rounded to
    ``unit`` (``LoanSchedule.Curve``)."""

    kind: ScheduleKind
    principal: int
    count: int
    rate_num: int
    rate_den: int = RATE_DEN_DAYS
    io: int = 0
    unit: int = 1
    odd: int = 0

    @classmethod
    def of_period(
        cls, kind: ScheduleKind, principal: int, count: int, apr_bps: int, period: int
    ) -> Curve:
        """A plain segment: ``period`` seconds (whole days) under actual/365."""
        num, den = period_rate(apr_bps, period // DAY, DayCount.ACTUAL_365)
        return cls(kind, principal, count, num, den)

    @cached_property
    def cumulative_memo(self) -> dict[int, tuple[int, int]]:
        """:meth:`cumulative` by installment, as computed so far (see
        :func:`loanservicing.ledger.accounting.cumulative_due`)."""
        return {}

    @property
    def _io(self) -> int:
        return self.io if self.io < self.count else 0

    @cached_property
    def _annuity_constants(self) -> tuple[int, int, int, int, int]:
        """(v, v^n, rate, rounded installment or 0, excess)."""
        v = SCALE * self.rate_den // (self.rate_den + self.rate_num)
        n = self.count - self._io
        vn = pow_scaled(v, n)
        rate = SCALE * self.rate_num // self.rate_den
        installment = excess = 0
        if self.unit > 1 and vn > SCALE >> 64:
            p = self.principal
            exact = p * rate // (SCALE - vn)
            a = (exact + self.unit // 2) // self.unit * self.unit
            if a > exact and (a - exact) * (n - 1) * SCALE >= exact * vn:
                a -= self.unit
            if a * self.rate_den > p * self.rate_num:
                installment, excess = a, a * self.rate_den - p * self.rate_num
        return v, vn, rate, installment, excess

    @property
    def installment_amount(self) -> int:
        """The rounded annuity installment (0 when the schedule is not a rounded annuity)."""
        if self.kind is not ScheduleKind.ANNUITY or self.rate_num == 0 or self.count == 0:
            return 0
        return self._annuity_constants[3]

    def cumulative(self, j: int) -> tuple[int, int]:
        """Cumulative (principal, interest) due through installment ``j``."""
        j = min(j, self.count)
        if j == 0 or self.count == 0:
            return 0, 0
        if self._io == 0 and self.kind is ScheduleKind.ANNUITY and self.rate_num != 0:
            # The common case: an annuity from its first installment.
            principal, interest = self._annuity(j, self.count)
            if self.odd:
                interest = self._interest(0, interest, j == self.count)
            return principal, interest
        p, io = self.principal, self._io
        io_part = min(j, io)
        i = j - io_part
        n = self.count - io
        principal = 0
        if self.kind is ScheduleKind.BULLET:
            principal = p if j == self.count else 0
            num = p * self.rate_num * j
        elif self.rate_num == 0:
            principal = p if i == n else _floor(p * i // n, self.unit)
            return principal, 0
        else:
            num = p * self.rate_num * io_part
            if self.kind is ScheduleKind.EQUAL_PRINCIPAL:
                principal = p if i == n else _floor(p * i // n, self.unit)
                num = (num * 2 * n + p * self.rate_num * i * (2 * n - i + 1)) // (2 * n)
        amortised = 0
        if self.kind is ScheduleKind.ANNUITY and i != 0:
            principal, amortised = self._annuity(i, n)
        return principal, self._interest(num, amortised, j == self.count)

    def _interest(self, num: int, amortised: int, last: bool) -> int:
        """``LoanSchedule._interest``: the interest-only, equal-principal or bullet part and
        the odd part, rounded down to the unit unless ``last``, plus an annuity's."""
        x = (num + self.odd) // self.rate_den  # one division, towards minus infinity
        if not last and self.unit > 1:
            x -= x % self.unit  # Python's % floors: towards minus infinity, as the contract
        return max(x + amortised, 0)

    def _annuity(self, i: int, n: int) -> tuple[int, int]:
        p = self.principal
        v, vn, rate, installment, excess = self._annuity_constants
        if installment == 0:
            dv = max(pow_scaled(v, n - i) - vn, 0)
            denom = SCALE - vn
            principal = p if i == n else p * dv // denom
            ir = i * rate
            interest = p * (ir - dv) // denom if ir > dv else 0
            return principal, interest
        k = n - 1 if i == n else i
        cp = self._rounded(k, v, excess)
        interest = k * installment - cp
        if i == n:
            interest += (p - cp) * self.rate_num // self.rate_den
            cp = p
        return cp, interest

    def _rounded(self, k: int, v: int, excess: int) -> int:
        if k == 0:
            return 0
        vk = pow_scaled(v, k)
        den = self.rate_num * vk
        cp = (excess * (SCALE - vk) + den - 1) // den
        return min(cp, self.principal)

    def part(self, j: int) -> tuple[int, int]:
        """(principal, interest) of installment ``j`` (1-based)."""
        p1, i1 = self.cumulative(j)
        p0, i0 = self.cumulative(j - 1)
        return max(p1 - p0, 0), max(i1 - i0, 0)
