"""A loan's schedule from its indexed state: each installment of the schedule in force with
what was paid towards it, what is left and its status at a chain time.

The same reading as :func:`loanservicing.servicing.schedule_view.schedule` (the segment's
installments from :func:`loanservicing.ledger.installments.installments_in_force`, statuses
from :func:`loanservicing.ledger.delinquency.installment_status`), without its chain reads:
installments a prepayment, restructuring or holiday replaced (and every installment of a
closed loan) are listed by number as ``settled``, without amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from loanservicing.ledger.accounting import grace_end
from loanservicing.ledger.delinquency import DUE, PARTIAL, SETTLED, installment_status
from loanservicing.ledger.installments import installments_in_force
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = ["ScheduledInstallment", "installments"]


@dataclass(frozen=True)
class ScheduledInstallment:
    """One installment and what was paid towards it; amounts None for one of a replaced
    schedule."""

    number: int
    due_timestamp: int | None
    due_date: str
    principal: int | None
    interest: int | None
    paid: int | None
    status: str

    @property
    def total(self) -> int | None:
        if self.principal is None or self.interest is None:
            return None
        return self.principal + self.interest

    @property
    def unpaid(self) -> int | None:
        if self.total is None or self.paid is None:
            return None
        return max(self.total - self.paid, 0)


def installments(state: LoanState, now: int) -> list[ScheduledInstallment]:
    """Every installment of the loan at chain time ``now``."""
    closed = state.status is LoanStatus.CLOSED
    base = state.installments if closed else state.base_index
    rows = [
        ScheduledInstallment(n, None, "", None, None, None, SETTLED) for n in range(1, base + 1)
    ]
    if closed:
        return rows
    paid_p, paid_i = state.paid_principal, state.paid_interest
    next_is_taken = False
    for i in installments_in_force(state):
        cp0, ci0 = i.principal_before, i.interest_before
        cp1, ci1 = cp0 + i.principal, ci0 + i.interest
        paid = (min(cp1, paid_p) - min(cp0, paid_p)) + (min(ci1, paid_i) - min(ci0, paid_i))
        status = installment_status(
            i.total, paid, i.due_timestamp, grace_end(state, i.number), now, False, next_is_taken
        )
        next_is_taken = next_is_taken or status in (PARTIAL, DUE)
        rows.append(
            ScheduledInstallment(
                i.number, i.due_timestamp, i.due_date, i.principal, i.interest, paid, status
            )
        )
    return rows
