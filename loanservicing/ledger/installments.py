"""The installments of a loan's schedule segment in force, as the ledger's ``installment``
view computes them: due date, days, principal and interest of each (token units), from the
twin's ``Curve`` and calendar. ``loan schedule``, ``loan quote`` and the restructuring preview
all read a segment through :func:`installments_in_force`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import grace_end
from loanservicing.ledger.delinquency import DUE, PARTIAL, installment_status
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = ["Installment", "PaidInstallment", "installments_in_force", "paid_installments"]


@dataclass(frozen=True)
class Installment:
    """One installment of a segment (token units)."""

    number: int
    """Its number in the loan (after the installments earlier segments replaced)."""
    due_timestamp: int
    due_date: str
    """The due date in the loan's UTC offset (YYYY-MM-DD)."""
    days: int
    """The period's days by the loan's day count (the first from the origination date)."""
    principal: int
    interest: int
    principal_before: int
    """The segment's principal due by the installment before this one (cumulative)."""
    interest_before: int
    """The segment's interest due by the installment before this one (cumulative)."""

    @property
    def total(self) -> int:
        return self.principal + self.interest


def installments_in_force(state: LoanState) -> Iterator[Installment]:
    """Installments ``base_index + 1 .. installments`` of ``state``'s segment in force."""
    curve = state.curve()
    base = state.base_index
    cp0, ci0 = curve.cumulative(0)
    for j in range(1, state.installments - base + 1):
        cp1, ci1 = curve.cumulative(j)
        due = state.due_date_at(j)
        yield Installment(
            number=base + j,
            due_timestamp=due,
            due_date=cal.date_of_day(cal.local_day(due, state.offset_seconds)).isoformat(),
            days=state.period_days + (state.odd_days if base + j == 1 else 0),
            principal=max(cp1 - cp0, 0),
            interest=max(ci1 - ci0, 0),
            principal_before=cp0,
            interest_before=ci0,
        )
        cp0, ci0 = cp1, ci1


@dataclass(frozen=True)
class PaidInstallment:
    """An installment of the segment in force, what was paid towards it (payments go to the
    earliest installments first, interest and principal apart) and its status at a time."""

    installment: Installment
    paid: int
    status: str


def paid_installments(state: LoanState, now: int) -> Iterator[PaidInstallment]:
    """The installments in force with what was paid towards each and its status at ``now``
    (the words of :mod:`loanservicing.ledger.delinquency`; one installment at most is due)."""
    paid_p, paid_i = state.paid_principal, state.paid_interest
    closed = state.status is LoanStatus.CLOSED
    next_is_taken = False
    for i in installments_in_force(state):
        cp0, ci0 = i.principal_before, i.interest_before
        cp1, ci1 = cp0 + i.principal, ci0 + i.interest
        paid = (min(cp1, paid_p) - min(cp0, paid_p)) + (min(ci1, paid_i) - min(ci0, paid_i))
        status = installment_status(
            i.total, paid, i.due_timestamp, grace_end(state, i.number), now, closed, next_is_taken
        )
        next_is_taken = next_is_taken or status in (PARTIAL, DUE)
        yield PaidInstallment(i, paid, status)
