"""The installments of a loan's schedule segment in force, as the ledger's ``installment``
view computes them: due date, days, principal and interest of each (token units), from the
twin's ``Curve`` and calendar. ``loan schedule``, ``loan quote`` and the restructuring preview
all read a segment through :func:`installments_in_force`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.state import LoanState

__all__ = ["Installment", "installments_in_force"]


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
