"""What a restructuring would change, before it is proposed (``loan restructure propose
--dry-run``): the installments still to pay now beside those the new terms would set if the
borrower accepted them at the chain's current time.

The ledger checks the proposal by simulation (an ``eth_call`` of ``proposeRestructure`` from
this account: its bounds, roles and the loan's status), then the ledger twin applies the
proposal and its acceptance to a copy of the loan's state
(:func:`loanservicing.ledger.restructuring.accept_restructure`), so the new schedule is the
one ``loan schedule`` shows after an acceptance at that time, to the unit. Nothing is sent.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from loanservicing.chain.transactions import call
from loanservicing.ledger.delinquency import HOLIDAY, SETTLED
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.installments import Installment, installments_in_force
from loanservicing.ledger.restructuring import accept_restructure, propose_restructure
from loanservicing.ledger.state import LoanState
from loanservicing.servicing.errors import LoanNotOpen
from loanservicing.servicing.schedule_view import ScheduleRow, schedule
from loanservicing.servicing.servicer import Servicer

__all__ = ["RestructurePreview", "preview_restructure"]


@dataclass(frozen=True)
class RestructurePreview:
    """The installments left to pay now (``current``, what is still unpaid of each) and
    those of the proposed terms (``proposed``) if accepted at ``as_of_timestamp``."""

    loan_id: int
    decimals: int
    as_of_timestamp: int
    apr_bps: int
    proposed_apr_bps: int
    principal_outstanding: int
    carried_interest: int
    """Interest due and accrued to the day that the new schedule carries over."""
    current: tuple[ScheduleRow, ...]
    proposed: tuple[Installment, ...]

    @property
    def current_to_pay(self) -> int:
        return sum((r.total or 0) - (r.paid or 0) for r in self.current)

    @property
    def proposed_to_pay(self) -> int:
        return sum(r.total for r in self.proposed)

    @property
    def current_interest(self) -> int:
        return sum(_unpaid_interest(r) for r in self.current)

    @property
    def proposed_interest(self) -> int:
        return sum(r.interest for r in self.proposed)


def _unpaid_interest(row: ScheduleRow) -> int:
    """The part of an installment's interest not yet paid (payments go to interest first)."""
    return max((row.interest or 0) - (row.paid or 0), 0)


def preview_restructure(
    servicer: Servicer,
    loan_id: int,
    apr_bps: int,
    installments: int,
    period_seconds: int,
    deadline: int,
) -> RestructurePreview:
    """The schedule the proposal would set if accepted now, beside the unpaid rest of the
    current one; refused as ``propose_restructure`` would be (nothing is sent)."""
    servicer.check_restructure(loan_id, period_seconds)
    args = (loan_id, apr_bps, installments, period_seconds, deadline)
    call(
        servicer.ledger.functions.proposeRestructure(*args),
        servicer.decoder,
        f"Proposing a restructuring of loan {loan_id}",
        transaction={"from": servicer.account},
    )
    now = servicer.now()
    view = servicer.loan_view(loan_id)
    state = LoanState.from_view(loan_id, view)
    after = copy.deepcopy(state)
    propose_restructure(after, *args[1:])
    try:
        effects = accept_restructure(after, now, *args[1:])
    except LedgerCallReverted as exc:  # a default already due, say: the ledger would refuse
        raise LoanNotOpen(
            f"Loan {loan_id} cannot be restructured now: the ledger would refuse its "
            f"acceptance ({exc.error_name})."
        ) from None
    (restructured,) = (a for name, a in effects.events if name == "LoanRestructured")
    current = tuple(
        r
        for r in schedule(servicer, loan_id)
        if r.status not in (SETTLED, HOLIDAY) and (r.paid or 0) < (r.total or 0)
    )
    return RestructurePreview(
        loan_id=loan_id,
        decimals=int(view["decimals"]),
        as_of_timestamp=now,
        apr_bps=state.apr_bps,
        proposed_apr_bps=apr_bps,
        principal_outstanding=int(restructured["principalOutstanding"]),
        carried_interest=int(restructured["carriedInterest"]),
        current=current,
        proposed=tuple(installments_in_force(after)),
    )
