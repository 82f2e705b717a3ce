"""Repayment schedules in closed form, the same integer arithmetic as ``LoanSchedule.sol``.

The monitor, the CLI and the tests evaluate schedules off chain with these functions and get
the very numbers the ledger computes: every division rounds down exactly as the contract's
does, and annuity powers use the same 36-decimal fixed point and square-and-multiply order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "BPS",
    "DAY",
    "RATE_DEN",
    "SCALE",
    "YEAR",
    "Curve",
    "Installment",
    "ScheduleKind",
    "installments",
    "pow_scaled",
]

SCALE = 10**36
DAY = 86_400
YEAR = 365 * DAY
BPS = 10_000
RATE_DEN = BPS * YEAR


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


@dataclass(frozen=True)
class Installment:
    """One installment of a schedule segment."""

    number: int
    due_timestamp: int
    principal: int
    interest: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True)
class Curve:
    """A schedule segment: ``count`` installments amortising ``principal``."""

    kind: ScheduleKind
    principal: int
    count: int
    apr_bps: int
    period: int

    @property
    def rate_num(self) -> int:
        return self.apr_bps * self.period

    def _annuity_constants(self) -> tuple[int, int, int]:
        v = SCALE * RATE_DEN // (RATE_DEN + self.rate_num)
        return v, pow_scaled(v, self.count), SCALE * self.rate_num // RATE_DEN

    def cumulative(self, j: int) -> tuple[int, int]:
        """Cumulative (principal, interest) due through installment ``j``, rounded down."""
        m, p = self.count, self.principal
        j = min(j, m)
        if j == 0 or m == 0:
            return 0, 0
        if self.rate_num == 0:
            if self.kind is ScheduleKind.BULLET:
                return (p if j == m else 0), 0
            return p * j // m, 0
        if self.kind is ScheduleKind.ANNUITY:
            v, vm, rate = self._annuity_constants()
            dv = max(pow_scaled(v, m - j) - vm, 0)
            denom = SCALE - vm
            principal = p if j == m else p * dv // denom
            jr = j * rate
            interest = p * (jr - dv) // denom if jr > dv else 0
            return principal, interest
        if self.kind is ScheduleKind.EQUAL_PRINCIPAL:
            principal = p * j // m
            interest = p * self.rate_num * j * (2 * m - j + 1) // (2 * m * RATE_DEN)
            return principal, interest
        return (p if j == m else 0), p * self.rate_num * j // RATE_DEN

    def part(self, j: int) -> tuple[int, int]:
        """(principal, interest) of installment ``j`` (1-based)."""
        p1, i1 = self.cumulative(j)
        p0, i0 = self.cumulative(j - 1)
        return max(p1 - p0, 0), max(i1 - i0, 0)


def installments(curve: Curve, segment_start: int, base_index: int = 0) -> list[Installment]:
    """Every installment of a segment; installment ``base_index + j`` is due at
    ``segment_start + j * period``."""
    rows = []
    for j in range(1, curve.count + 1):
        principal, interest = curve.part(j)
        rows.append(
            Installment(base_index + j, segment_start + j * curve.period, principal, interest)
        )
    return rows
