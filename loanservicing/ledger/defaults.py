"""A default declared, replayed in Python (``LoanDefaults.declareDefault``): returns the
call's :class:`~loanservicing.ledger.call_effects.CallEffects`, or raises
:class:`~loanservicing.ledger.errors.LedgerCallReverted` where the ledger reverts.
"""

from __future__ import annotations

from loanservicing.ledger.accounting import (
    accrue,
    accrued_days_past_due,
    bucket_of,
    owed,
    reported_days_past_due,
    saturate_charges,
)
from loanservicing.ledger.call_effects import (
    CallEffects,
    bucket_event,
    charges_event,
    clear_proposal,
    delinquency_report,
    require_active,
)
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = ["declare_default"]


def declare_default(w: LoanState, t: int) -> CallEffects:
    """``declareDefault(loanId)`` at ``t`` (``LoanDefaults.declareDefault``): only once days
    past due reach the threshold past grace; drops a pending proposal."""
    require_active(w)
    c = w.curve()
    a = accrue(w, c, t)
    dpd = accrued_days_past_due(w, t)
    if dpd < w.default_after_days:
        raise LedgerCallReverted("DefaultThresholdNotReached", f"{dpd} days past due")
    if reported_days_past_due(w, t) == 0:
        raise LedgerCallReverted("DefaultInsideGrace")
    q = owed(w, c, t)
    w.status = LoanStatus.DEFAULTED
    w.last_accrual = t
    old_bucket = w.bucket
    w.bucket = bucket_of(dpd)
    clear_proposal(w)
    events = charges_event(w, a) + bucket_event(old_bucket, w.bucket, dpd)
    events.append(
        (
            "LoanDefaulted",
            {
                "daysPastDue": dpd,
                "principalOutstanding": w.base_principal - w.paid_principal,
                "interestOwed": q.interest,
                "feesOwed": w.fees,
                "penaltyOwed": w.penalty,
            },
        )
    )
    saturate_charges(w)
    reports = delinquency_report(w, a.missed, dpd) if a.missed != 0 else []
    reports.append(("reportDefault", {"loanId": w.loan_id, "daysPastDue": dpd}))
    return CallEffects(events, reports)
