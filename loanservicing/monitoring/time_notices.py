"""The time-driven notices of one active loan at a chain time, from its state alone.

:func:`evaluate_loan` raises what the clock brings (the event notices are
:mod:`loanservicing.monitoring.event_notices`): ``reminder`` (the running installment, at
most N days before its due date), ``overdue`` (an installment unpaid after its grace period),
``bucket_changed`` and ``default_eligible``, with the loan's bucket and, when asked, its next
deadline (:mod:`loanservicing.monitoring.deadlines`). A current loan whose reminder window is
open takes its reminder's amounts from
:func:`~loanservicing.ledger.accounting.running_installment_due`, without accruing a copy.
The :class:`~loanservicing.monitoring.monitor.Monitor` calls it for every loan it evaluates.
"""

from __future__ import annotations

from typing import Any

from loanservicing.ledger.accounting import (
    amount_due,
    installments_due,
    installments_past_grace,
    installments_settled,
    running_installment_due,
    unpaid_amount,
)
from loanservicing.ledger.delinquency import BUCKET_LABELS, bucket_of
from loanservicing.ledger.state import LoanState
from loanservicing.monitoring.deadlines import next_deadline
from loanservicing.monitoring.notices import Notice

__all__ = ["evaluate_loan"]


def evaluate_loan(
    s: LoanState,
    now: int,
    block: int,
    decimals: int,
    window: int,
    before: int,
    out: list[Notice],
    with_deadline: bool = False,
) -> tuple[int, int | None]:
    """Append the time-driven notices of one active loan at ``now``; return its bucket and
    (``with_deadline``) its next deadline (:mod:`loanservicing.monitoring.deadlines`)."""
    d = installments_due(s, now)
    if s.paid_count >= d and before == 0:
        # Everything due is paid (installments_settled(s, d) is paid_count), so nothing is
        # past due and nothing is past its grace period.
        due = s.due_date(d + 1) if d < s.installments else 0
        # No reminder window (the common case): nothing to evaluate. Otherwise only the
        # running installment's reminder, its amounts without amount_due when they can be.
        running = None if due == 0 or due - now > window else running_installment_due(s, now)
        if running is not None:
            _remind(out, s, now, block, decimals, 0, d + 1, due, *running)
        if running is not None or due == 0 or due - now > window:
            return 0, (
                next_deadline(s, now, window, d, s.paid_count, d, 0) if with_deadline else None
            )
    q = amount_due(s, now)
    dpd = q.days_past_due
    bucket = bucket_of(dpd)
    loan_id, borrower = s.loan_id, s.borrower

    def notice(kind: str, key: str, amount: int, due: int | None, **details: Any) -> Notice:
        return Notice(
            f"{kind}:{loan_id}:{key}",
            kind,
            loan_id,
            borrower,
            dpd,
            amount,
            decimals,
            due,
            now,
            block,
            details,
        )

    if q.next_installment and q.next_due_date - now <= window:
        _remind(
            out,
            s,
            now,
            block,
            decimals,
            dpd,
            q.next_installment,
            q.next_due_date,
            q.past_due,
            q.current_interest,
            q.current_principal,
        )
    # Everything due paid (the ledger's binary search would start and end at paid_count).
    settled = s.paid_count if s.paid_count >= d else installments_settled(s, d)
    late_through = installments_past_grace(s, now)
    deadline = (
        next_deadline(s, now, window, d, settled, late_through, dpd) if with_deadline else None
    )
    if dpd == 0:
        return bucket, deadline
    since = s.due_date(settled + 1)
    unpaid_before = unpaid_amount(s, settled)
    for k in range(settled + 1, late_through + 1):
        unpaid = unpaid_amount(s, k)
        amount = unpaid - unpaid_before
        unpaid_before = unpaid
        if amount > 0:
            due = s.due_date(k)
            out.append(
                notice(
                    "overdue",
                    f"{k}:{due}",
                    amount,
                    due,
                    installment=k,
                    grace_seconds=s.grace,
                    past_due=q.past_due,
                )
            )
    if bucket != before:
        out.append(
            notice(
                "bucket_changed",
                f"{bucket}:{since}",
                q.past_due,
                since,
                from_bucket=BUCKET_LABELS[before],
                to_bucket=BUCKET_LABELS[bucket],
                recorded_bucket=BUCKET_LABELS[s.bucket],
            )
        )
    if dpd >= s.default_after_days:
        out.append(
            notice(
                "default_eligible",
                str(since),
                q.past_due,
                since,
                default_after_days=s.default_after_days,
                payoff=q.payoff,
                principal_outstanding=s.principal_outstanding,
            )
        )
    return bucket, deadline


def _remind(
    out: list[Notice],
    s: LoanState,
    now: int,
    block: int,
    decimals: int,
    dpd: int,
    installment: int,
    due: int,
    past_due: int,
    current_interest: int,
    current_principal: int,
) -> None:
    """Append the reminder of the running installment ``installment`` (due at ``due``) when
    it has anything left to pay."""
    current = current_interest + current_principal
    if current > 0:
        out.append(
            Notice(
                f"reminder:{s.loan_id}:{installment}:{due}",
                "reminder",
                s.loan_id,
                s.borrower,
                dpd,
                past_due + current,
                decimals,
                due,
                now,
                block,
                {
                    "installment": installment,
                    "current_interest": current_interest,
                    "current_principal": current_principal,
                    "past_due": past_due,
                },
            )
        )
