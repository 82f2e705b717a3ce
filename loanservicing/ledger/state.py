"""The ledger's records in Python: a loan's stored state, what it owes at a time, its events.

``LoanState`` is the one replay state: a loan as ``LoanLedger.sol`` stores it (the fields of its
``loan(id)`` view), rebuilt from events by :mod:`loanservicing.ledger.replay` or read from the
view itself (:meth:`LoanState.from_view`). ``AmountDue`` is the ledger's ``AmountDue`` struct.
``LoanSnapshot`` is what a person reads about a loan at one chain time: the state's public
figures with its amount due and days past due then. The servicing API builds snapshots from the
ledger's views, the monitor from the index; both go through
:func:`loanservicing.ledger.portfolio.snapshot`, so the portfolio summary and the aging report
count the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import IntEnum
from functools import lru_cache
from typing import Any

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.calendar import DayCount
from loanservicing.ledger.schedule import Curve, ScheduleKind, period_rate

__all__ = ["AmountDue", "LedgerEvent", "LoanSnapshot", "LoanState", "LoanStatus"]


class LoanStatus(IntEnum):
    """Lifecycle of a loan; values match the Solidity enum."""

    ACTIVE = 0
    DEFAULTED = 1
    CLOSED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass
class LoanState:
    """A loan as the ledger stores it (the fields of ``LoanView``), plus the pending proposal.

    Field names follow the ledger's ``Work`` struct; amounts are ints in the token's units.
    """

    loan_id: int
    borrower: str
    lender: str
    token: str
    kind: ScheduleKind
    principal: int
    installments: int
    apr_bps: int
    penalty_apr_bps: int
    late_fee_bps: int
    default_after_days: int
    period: int
    grace: int
    base_principal: int
    segment_start: int
    paid_principal: int = 0
    paid_interest: int = 0
    last_accrual: int = 0
    status: LoanStatus = LoanStatus.ACTIVE
    bucket: int = 0
    base_index: int = 0
    paid_count: int = 0
    late_count: int = 0
    fees: int = 0
    penalty: int = 0
    carried: int = 0
    advance: int = 0
    """Interest paid for the period running before a prepaid segment begins
    (``advanceInterest``); meaningful while :attr:`advance_pending`."""
    advance_pending: bool = False
    """The segment was started by a prepayment and its first period has not begun
    (``FLAG_ADVANCE``): no installment of it is running, and the payoff credits back
    :attr:`advance` less what was earned to the day."""
    proposal_apr_bps: int = 0
    proposal_installments: int = 0
    proposal_period: int = 0
    proposal_deadline: int = 0
    originated_timestamp: int = 0
    total_paid: int = 0
    closed_after_default: bool = False
    months: int = 0
    """Calendar months per period (0: a period of ``period`` seconds, whole days)."""
    day_count: DayCount = DayCount.ACTUAL_365
    utc_offset: int = 0
    """The loan's UTC offset in minutes: its due dates are dates there."""
    anchor_day: int = 0
    """The day of the month due dates fall on (31: the last day); calendar months only."""
    rounding_exp: int = 0
    """Installments are whole multiples of ``10 ** rounding_exp`` units."""
    interest_only: int = 0
    """Installments 1..interest_only (absolute) are interest only."""
    odd_days: int = 0
    """The first period's day-count days beyond (negative: short of) a regular period's."""
    calendar_month: int = 0
    """Calendar months: installment n falls due in month ``calendar_month + n * months``."""
    holiday_periods: int = 0
    """While :attr:`advance_pending`: the periods :attr:`advance` covers (0: one; a payment
    holiday of N installments: N); 0 otherwise."""
    pause_from: int = 0
    """The forbearance window's first paused date (a day number in the loan's offset)."""
    pause_to: int = 0
    """Its last paused date (0: no forbearance)."""
    holiday_from: int = 0
    """The pending payment holiday proposal: its first installment, count and deadline."""
    holiday_count: int = 0
    holiday_deadline: int = 0

    def __copy__(self) -> LoanState:
        """A shallow copy (every field is an int, str or enum), made without
        ``copy.copy``'s generic reduce-and-rebuild: the replay copies a state per call."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    @property
    def principal_outstanding(self) -> int:
        return self.base_principal - self.paid_principal

    @property
    def offset_seconds(self) -> int:
        return self.utc_offset * 60

    @property
    def period_days(self) -> int:
        """Day-count days of a regular period (``LoanAccounting.periodDays``)."""
        return 30 * self.months if self.months else self.period // cal.DAY

    def curve(self) -> Curve:
        """The schedule segment in force (installments ``base_index + 1 .. installments``),
        as ``LoanAccounting.curve`` builds it; one object for every state with the same
        segment (a curve is immutable, and what it caches serves them all)."""
        return _segment_curve(
            self.kind,
            self.base_principal,
            self.installments,
            self.base_index,
            self.apr_bps,
            self.period_days,
            self.day_count,
            self.interest_only,
            self.rounding_exp,
            self.odd_days,
        )

    def due_date_at(self, j: int) -> int:
        """Due date of the segment's installment ``j`` (relative; -1: the period before)."""
        if self.months == 0:
            return self.segment_start + j * self.period
        month = self.calendar_month + (self.base_index + j) * self.months
        return cal.day_end(cal.day_in_month(month, self.anchor_day), self.offset_seconds)

    def due_date(self, number: int) -> int:
        """Due date of installment ``number`` of the segment in force: the last second of its
        date in the loan's offset."""
        return self.due_date_at(number - self.base_index)

    def due_count(self, t: int, offset: int) -> int:
        """Installments (absolute) whose due date plus ``offset`` is before ``t``
        (``LoanAccounting.dueCount``)."""
        if t <= self.segment_start + offset:
            return self.base_index
        t -= offset
        if self.months == 0:
            n = self.base_index + (t - self.segment_start - 1) // self.period
        else:
            y, m, d = cal.civil_from_days(cal.local_day(t, self.offset_seconds))
            month = y * 12 + m - 1
            n = (month - self.calendar_month) // self.months
            # Due this month: on the anchor day, or the month's last day when shorter.
            due_this_month = n and self.calendar_month + n * self.months == month
            if due_this_month and min(self.anchor_day, cal.days_in_month(y, m)) >= d:
                n -= 1
        return min(n, self.installments)

    def days_between(self, start: int, end: int) -> int:
        """Day-count days from the date of ``start`` to the date of ``end``."""
        if end <= start:
            return 0
        a = cal.local_day(start, self.offset_seconds)
        b = cal.local_day(end, self.offset_seconds)
        return cal.days360(a, b) if self.day_count is DayCount.THIRTY_360 else b - a

    def as_view(self) -> dict[str, int | str]:
        """The fields of the ledger's ``loan(id)`` view that follow from events, by ABI name."""
        return {
            "borrower": self.borrower,
            "lender": self.lender,
            "token": self.token,
            "status": int(self.status),
            "kind": int(self.kind),
            "principal": self.principal,
            "principalOutstanding": self.principal_outstanding,
            "aprBps": self.apr_bps,
            "penaltyAprBps": self.penalty_apr_bps,
            "lateFeeBps": self.late_fee_bps,
            "defaultAfterDays": self.default_after_days,
            "periodSeconds": self.period,
            "gracePeriodSeconds": self.grace,
            "installments": self.installments,
            "installmentsPaid": self.paid_count,
            "installmentsAssessedLate": self.late_count,
            "baseIndex": self.base_index,
            "basePrincipal": self.base_principal,
            "segmentStart": self.segment_start,
            "paidPrincipal": self.paid_principal,
            "paidInterest": self.paid_interest,
            "feesOwed": self.fees,
            "penaltyOwed": self.penalty,
            "carriedInterest": self.carried,
            "lastAccrual": self.last_accrual,
            "bucket": self.bucket,
            "advanceInterest": self.advance,
            "advancePending": self.advance_pending,
            "periodMonths": self.months,
            "dayCount": int(self.day_count),
            "utcOffsetMinutes": self.utc_offset,
            "anchorDay": self.anchor_day,
            "interestOnly": self.interest_only,
            "roundingExp": self.rounding_exp,
            "oddDays": self.odd_days,
            "calendarMonth": self.calendar_month,
            "holidayPeriods": self.holiday_periods,
            "forbearanceFrom": self.pause_from,
            "forbearanceTo": self.pause_to,
        }

    @classmethod
    def from_view(cls, loan_id: int, view: Mapping[str, Any]) -> LoanState:
        """The state a ``loan(id)`` view describes (the inverse of :meth:`as_view`).

        The view holds no pending proposal, origination time or totals paid: those stay 0.
        ``advanceInterest`` and ``advancePending`` (FLAG_ADVANCE) come back as stored.
        """
        return cls(
            loan_id=loan_id,
            borrower=str(view["borrower"]),
            lender=str(view["lender"]),
            token=str(view["token"]),
            kind=ScheduleKind(int(view["kind"])),
            principal=int(view["principal"]),
            installments=int(view["installments"]),
            apr_bps=int(view["aprBps"]),
            penalty_apr_bps=int(view["penaltyAprBps"]),
            late_fee_bps=int(view["lateFeeBps"]),
            default_after_days=int(view["defaultAfterDays"]),
            period=int(view["periodSeconds"]),
            grace=int(view["gracePeriodSeconds"]),
            base_principal=int(view["basePrincipal"]),
            segment_start=int(view["segmentStart"]),
            paid_principal=int(view["paidPrincipal"]),
            paid_interest=int(view["paidInterest"]),
            last_accrual=int(view["lastAccrual"]),
            status=LoanStatus(int(view["status"])),
            bucket=int(view["bucket"]),
            base_index=int(view["baseIndex"]),
            paid_count=int(view["installmentsPaid"]),
            late_count=int(view["installmentsAssessedLate"]),
            fees=int(view["feesOwed"]),
            penalty=int(view["penaltyOwed"]),
            carried=int(view["carriedInterest"]),
            advance=int(view["advanceInterest"]),
            advance_pending=bool(view["advancePending"]),
            months=int(view["periodMonths"]),
            day_count=DayCount(int(view["dayCount"])),
            utc_offset=int(view["utcOffsetMinutes"]),
            anchor_day=int(view["anchorDay"]),
            interest_only=int(view["interestOnly"]),
            rounding_exp=int(view["roundingExp"]),
            odd_days=int(view["oddDays"]),
            calendar_month=int(view["calendarMonth"]),
            holiday_periods=int(view["holidayPeriods"]),
            pause_from=int(view["forbearanceFrom"]),
            pause_to=int(view["forbearanceTo"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> LoanState:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["kind"] = ScheduleKind(int(values["kind"]))
        values["status"] = LoanStatus(int(values["status"]))
        values["closed_after_default"] = bool(values["closed_after_default"])
        values["advance_pending"] = bool(values["advance_pending"])
        values["day_count"] = DayCount(int(values["day_count"]))
        return cls(**values)


@dataclass(frozen=True)
class AmountDue:
    """What is owed at a timestamp, field for field the ledger's ``AmountDue`` struct."""

    fees: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    current_interest: int = 0
    current_principal: int = 0
    remaining_principal: int = 0
    past_due: int = 0
    payoff: int = 0
    days_past_due: int = 0
    next_due_date: int = 0
    next_installment: int = 0
    accrued_interest: int = 0
    """The running period's interest earned by whole days elapsed, less what was paid
    towards it (part of the payoff)."""
    interest_rebate: int = 0
    """Interest paid towards the running period beyond what was earned to the day, credited
    back at payoff (at most one of this and :attr:`accrued_interest` is non-zero)."""

    def as_tuple(self) -> tuple[int, ...]:
        """In the order of the Solidity struct, to compare with ``amountDue(id, t)``."""
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def from_view(cls, due: Mapping[str, int]) -> AmountDue:
        """From an ``amountDue(id, t)`` result keyed by the struct's ABI names."""
        return cls(
            fees=int(due["fees"]),
            penalty=int(due["penalty"]),
            interest=int(due["interest"]),
            principal=int(due["principal"]),
            current_interest=int(due["currentInterest"]),
            current_principal=int(due["currentPrincipal"]),
            remaining_principal=int(due["remainingPrincipal"]),
            past_due=int(due["pastDue"]),
            payoff=int(due["payoff"]),
            days_past_due=int(due["daysPastDue"]),
            next_due_date=int(due["nextDueDate"]),
            next_installment=int(due["nextInstallment"]),
            accrued_interest=int(due["accruedInterest"]),
            interest_rebate=int(due["interestRebate"]),
        )


@dataclass(frozen=True)
class LoanSnapshot:
    """A loan as a person reads it at chain time ``as_of_timestamp``.

    Amounts in the token's smallest units (``decimals``); ``status`` is the status label
    (``active``, ``defaulted``, ``closed``).
    """

    loan_id: int
    borrower: str
    lender: str
    token: str
    decimals: int
    status: str
    kind: ScheduleKind
    principal: int
    principal_outstanding: int
    apr_bps: int
    penalty_apr_bps: int
    late_fee_bps: int
    period_seconds: int
    grace_seconds: int
    default_after_days: int
    installments_total: int
    installments_paid: int
    days_past_due: int
    delinquency_bucket: int
    """0 current, 1: 1-30, 2: 31-60, 3: 61-90, 4: over 90 days past due, as of now."""
    recorded_bucket: int
    """The bucket the ledger last recorded (at the latest repayment or assessment)."""
    past_due: int
    next_due_timestamp: int | None
    next_due_amount: int
    next_installment: int | None
    payoff: int
    fees_owed: int
    penalty_owed: int
    paid_principal: int
    paid_interest: int
    base_index: int
    base_principal: int
    segment_start: int
    as_of_timestamp: int


@dataclass(frozen=True)
class LedgerEvent:
    """One decoded ledger event of a loan, with the timestamp of its block."""

    name: str
    args: Mapping[str, Any]
    timestamp: int
    block_number: int = 0
    log_index: int = 0
    tx_hash: str = ""


@lru_cache(maxsize=65_536)
def _segment_curve(
    kind: ScheduleKind,
    base_principal: int,
    installments: int,
    base_index: int,
    apr_bps: int,
    period_days: int,
    day_count: DayCount,
    interest_only: int,
    rounding_exp: int,
    odd_days: int,
) -> Curve:
    """:meth:`LoanState.curve` of a state with these fields."""
    rate_num, rate_den = period_rate(apr_bps, period_days, day_count)
    io = interest_only - base_index if interest_only > base_index else 0
    odd = base_principal * apr_bps * odd_days if base_index == 0 else 0
    return Curve(
        kind,
        base_principal,
        installments - base_index,
        rate_num,
        rate_den,
        io,
        10**rounding_exp,
        odd,
    )
