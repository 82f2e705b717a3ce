"""Repayments and assessments replayed in Python: ``repay`` on the ledger's fast path
(``LoanLedger.sol``) and on the general path, and ``assess`` (``LoanRepayments.sol``), with
the accounting of :mod:`loanservicing.ledger.accounting`. Each call changes a state as the
ledger would and returns its :class:`~loanservicing.ledger.call_effects.CallEffects`, or
raises :class:`~loanservicing.ledger.errors.LedgerCallReverted` where the ledger reverts.
"""

from __future__ import annotations

import copy

from loanservicing.ledger.accounting import (
    accrue,
    accrued_days_past_due,
    apply_repayment,
    bucket_of,
    cumulative_due,
    reported_days_past_due,
    saturate_charges,
)
from loanservicing.ledger.call_effects import (
    CallEffects,
    Emitted,
    bucket_event,
    charges_event,
    delinquency_report,
    repayment_report,
    require_active,
    schedule_reset_event,
)
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = ["assess", "repay"]


def _sub(a: int, b: int) -> int:
    return a - b if a > b else 0


def _current_installment_due(w: LoanState, t: int) -> tuple[int, int] | None:
    """The ledger's fast-path test (``_currentInstallmentDue``): for a current loan (nothing
    past due, no charges, carried or advance interest, bucket 0), (interest, principal) left of
    the next installment; None when the general path applies."""
    if w.fees or w.penalty or w.carried or w.advance_pending:
        return None  # flags other than FLAG_LIVE
    if w.bucket != 0 or w.status is not LoanStatus.ACTIVE:
        return None
    count = w.installments - w.base_index
    if count == 0:
        return None
    due = w.due_count(t, 0)
    if due == w.installments or w.paid_count != due:
        return None
    cum_principal, cum_interest = cumulative_due(w.curve(), due + 1 - w.base_index)
    # Principal scheduled after this installment must exceed the interest it could be
    # credited at payoff, so that the installment costs less than the payoff.
    if w.base_principal - cum_principal <= cum_interest:
        return None
    return _sub(cum_interest, w.paid_interest), _sub(cum_principal, w.paid_principal)


def _repay_current_installment(
    w: LoanState, amount: int, interest_due: int, installment_due: int
) -> CallEffects:
    """The ledger's fast path (``_repayCurrentInstallment``): no accrual, no bucket change,
    and the loan stays open (principal after the installment is left)."""
    to_interest = min(amount, interest_due)
    w.paid_principal += amount - to_interest
    w.paid_interest += to_interest
    settled = 1 if amount == installment_due else 0
    w.paid_count += settled
    w.total_paid += amount
    event = {
        "fees": 0,
        "penalty": 0,
        "interest": to_interest,
        "principal": amount - to_interest,
        "principalOutstanding": w.base_principal - w.paid_principal,
        "installmentsPaid": w.paid_count,
        "status": int(LoanStatus.ACTIVE),
    }
    return CallEffects(
        [("RepaymentApplied", event)],
        repayment_report(w, settled, 0, amount, False),
        days_past_due=0,  # the fast path's loan is current
    )


def repay(w: LoanState, amount: int, t: int) -> CallEffects:
    """``repay(loanId, amount)`` at ``t``: the fast path when the loan is current and
    ``amount`` covers at most the current installment, else the general path (which pulls
    at most the payoff). Updates ``w``."""
    if amount == 0:
        raise LedgerCallReverted("ZeroAmount")
    current = _current_installment_due(w, t)
    if current is not None:
        interest_due, principal_due = current
        installment_due = interest_due + principal_due
        if installment_due != 0 and amount <= installment_due:
            return _repay_current_installment(w, amount, interest_due, installment_due)
    if w.status is LoanStatus.CLOSED:
        raise LedgerCallReverted("LoanNotActive", f"loan {w.loan_id} is closed")
    return _general_repay(w, amount, t)


def _general_repay(w: LoanState, amount: int, t: int) -> CallEffects:
    al, a, o = apply_repayment(w, amount, t)
    events = schedule_reset_event(w) if o.schedule_reset else []
    events += charges_event(w, a)
    saturate_charges(w)
    w.total_paid += al.total
    closed = w.status is LoanStatus.CLOSED
    events.append(
        (
            "RepaymentApplied",
            {
                "fees": al.fees,
                "penalty": al.penalty,
                "interest": al.interest,
                "principal": al.principal,
                "principalOutstanding": w.base_principal - w.paid_principal,
                "installmentsPaid": w.paid_count,
                "status": int(w.status),
            },
        )
    )
    events += bucket_event(o.old_bucket, w.bucket, o.days_past_due)
    if al.rebate != 0:
        events.append(("InterestRebated", {"amount": al.rebate}))
    if closed:
        w.closed_after_default = o.after_default
        events.append(("LoanClosed", {"afterDefault": int(o.after_default)}))
    reported = 0 if closed else reported_days_past_due(w, t)
    reports: Emitted = []
    if a.missed != 0 or reported != 0 or o.old_bucket != 0:
        reports += delinquency_report(w, a.missed, reported)
    reports += repayment_report(w, o.on_time, o.late, al.total, closed)
    return CallEffects(events, reports, o.days_past_due_before)


def assess(w: LoanState, t: int) -> CallEffects:
    """``assess(loanId)`` at ``t``: charges and installments brought current, the bucket
    recorded; the ledger stores nothing when nothing changed (``w`` is then left as it was)."""
    require_active(w)
    before = copy.copy(w)
    c = w.curve()
    a = accrue(w, c, t)
    dpd = accrued_days_past_due(w, t)
    old_bucket = w.bucket
    w.bucket = bucket_of(dpd)
    # Settling installments with nothing due alone is not stored (it happens again at every
    # checkpoint), so the ledger never changes a loan without an event.
    if not a.any() and w.bucket == old_bucket:
        w.__dict__.update(before.__dict__)  # the ledger returns without storing
        return CallEffects()
    events = charges_event(w, a) + bucket_event(old_bucket, w.bucket, dpd)
    saturate_charges(w)
    # The registry hears of misses and of days past due once past grace; a loan that fell
    # behind but is still inside its grace period is not delinquent there.
    reported = reported_days_past_due(w, t)
    reports: Emitted = []
    if a.missed != 0 or (w.bucket != old_bucket and (reported != 0 or old_bucket != 0)):
        reports = delinquency_report(w, a.missed, reported)
    return CallEffects(events, reports)
