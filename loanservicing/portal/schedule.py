"""A loan's schedule from its indexed state: each installment of the schedule in force with
what was paid towards it, what is left and its status at a chain time.

The same reading as :func:`loanservicing.servicing.schedule_view.schedule` (the segment's
installments from :func:`loanservicing.ledger.installments.installments_in_force`, statuses
from :func:`loanservicing.ledger.delinquency.installment_status`), without its chain reads:
installments a prepayment, restructuring or holiday replaced (and every installment of a
closed loan) are listed by number as ``settled``, without amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loanservicing.indexing.database import LogRow
from loanservicing.ledger.delinquency import SETTLED
from loanservicing.ledger.installments import paid_installments
from loanservicing.ledger.state import LoanState, LoanStatus
from loanservicing.portal.replaced_schedule import replaced_rows

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


def installments(
    state: LoanState, now: int, logs: Sequence[LogRow] = ()
) -> list[ScheduledInstallment]:
    """Every installment of the loan at chain time ``now``; ``logs``: the loan's indexed
    events, which give the replaced installments their amounts."""
    closed = state.status is LoanStatus.CLOSED
    base = state.installments if closed else state.base_index
    rebuilt = replaced_rows(state, logs) if logs else None
    if rebuilt is not None:
        rows = [
            ScheduledInstallment(
                r.number, r.due_timestamp, r.due_date, r.principal, r.interest, r.paid, r.status
            )
            for r in rebuilt
        ]
    else:
        rows = [
            ScheduledInstallment(n, None, "", None, None, None, SETTLED) for n in range(1, base + 1)
        ]
    if closed:
        return rows
    for p in paid_installments(state, now):
        i = p.installment
        rows.append(
            ScheduledInstallment(
                i.number, i.due_timestamp, i.due_date, i.principal, i.interest, p.paid, p.status
            )
        )
    return rows
