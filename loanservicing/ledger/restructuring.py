"""Restructuring replayed in Python (``LoanRestructuring.sol``: propose, withdraw, accept):
each call changes a state as the ledger would and returns its
:class:`~loanservicing.ledger.call_effects.CallEffects`, or raises
:class:`~loanservicing.ledger.errors.LedgerCallReverted` where the ledger reverts.
"""

from __future__ import annotations

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import (
    accrue,
    default_due,
    installments_due,
    owed,
    reset_segment,
    saturate_charges,
)
from loanservicing.ledger.calendar_terms import restart_calendar
from loanservicing.ledger.call_effects import (
    CallEffects,
    bucket_event,
    charges_event,
    clear_proposal,
    delinquency_report,
    require_active,
    schedule_reset_event,
)
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.state import LoanState

__all__ = ["accept_restructure", "propose_restructure", "withdraw_restructure"]


def propose_restructure(
    w: LoanState, apr_bps: int, installments: int, period: int, deadline: int
) -> CallEffects:
    """``proposeRestructure`` (``LoanRestructuring.propose``): records the proposal, replacing
    any earlier one (the schedule bounds are the contract's to check)."""
    require_active(w)
    w.proposal_apr_bps = apr_bps
    w.proposal_installments = installments
    w.proposal_period = period
    w.proposal_deadline = deadline
    args = {
        "aprBps": apr_bps,
        "installments": installments,
        "periodSeconds": period,
        "deadline": deadline,
    }
    return CallEffects([("RestructureProposed", args)])


def withdraw_restructure(w: LoanState) -> CallEffects:
    """``withdrawRestructure`` (``LoanRestructuring.withdraw``)."""
    if w.proposal_deadline == 0:
        raise LedgerCallReverted("NoRestructureProposal")
    clear_proposal(w)
    return CallEffects([("RestructureWithdrawn", {})])


def accept_restructure(
    w: LoanState, t: int, apr_bps: int, installments: int, period: int, deadline: int
) -> CallEffects:
    """``acceptRestructure`` at ``t`` naming the proposal's terms (``LoanRestructuring.
    accept``): unpaid interest due and the running period's interest to the day carry over,
    interest paid ahead is credited against principal, and a new segment starts at the end of
    ``t``'s date (a calendar-month loan then falls due on that day of the month)."""
    require_active(w)
    if w.proposal_deadline == 0:
        raise LedgerCallReverted("NoRestructureProposal")
    named = (apr_bps, installments, period, deadline)
    proposal = (w.proposal_apr_bps, w.proposal_installments, w.proposal_period)
    if named != (*proposal, w.proposal_deadline):
        raise LedgerCallReverted("RestructureTermsMismatch")
    if t > w.proposal_deadline:
        raise LedgerCallReverted("RestructureExpired")
    c = w.curve()
    a = accrue(w, c, t)
    if default_due(w, t):
        raise LedgerCallReverted("DefaultDue")
    d = installments_due(w, t)
    # As a payoff would: unpaid interest due and the running period's interest to the day
    # carry over; interest paid ahead of that is credited against principal.
    q = owed(w, c, t)
    w.carried = q.interest + q.accrued_interest
    outstanding = w.base_principal - w.paid_principal - q.interest_rebate
    w.advance = 0
    w.advance_pending = False
    w.holiday_periods = 0
    if outstanding == 0:
        raise LedgerCallReverted("NothingToRestructure")
    clear_proposal(w)
    w.apr_bps = apr_bps
    w.period = period
    today = cal.local_day(t, w.offset_seconds)
    reset_segment(w, d, d + installments, outstanding, cal.day_end(today, w.offset_seconds))
    restart_calendar(w)
    old_bucket = w.bucket
    w.bucket = 0
    events = charges_event(w, a) + schedule_reset_event(w)
    events.append(
        (
            "LoanRestructured",
            {
                "principalOutstanding": outstanding,
                "carriedInterest": w.carried,
                "feesOwed": w.fees,
                "penaltyOwed": w.penalty,
            },
        )
    )
    events += bucket_event(old_bucket, 0, 0)
    saturate_charges(w)
    reports = delinquency_report(w, a.missed, 0) if a.missed != 0 or old_bucket != 0 else []
    return CallEffects(events, reports)
