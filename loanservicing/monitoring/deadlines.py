"""A loan's next deadline: the first chain time at which the monitor's evaluation of it could
raise a notice it has not raised, or move its bucket, while its state stays as it is.

The incremental tick (:mod:`loanservicing.monitoring.monitor`) keeps, for each active loan, the
deadline this module computes at the loan's last evaluation (``monitor_deadlines``) and
evaluates again only the loans whose deadline has come (``next_deadline <= now``) besides those
whose events changed them. A deadline may come early (the evaluation then finds nothing new
and computes the next one) but never late: it is the earliest of

* the reminder window's start of the next installment not paid ahead (N days before its due
  date, and not before the previous installment fell due: then it is the running one; the
  segment's first installment runs from the segment's start);
* the end of a prepaid segment's wait (``advance_pending``: the first second after
  ``segment_start``, when the running installment's amount comes due again);
* the end of the grace period of the oldest installment not yet past it and not paid
  (:func:`~loanservicing.ledger.accounting.grace_end`: an ``overdue`` notice);
* the second at which the days past due of the oldest unpaid installment reach the next of
  1, 31, 61, 91 (a bucket boundary: ``bucket_changed``) or the loan's default threshold
  (``default_eligible``), paused time (forbearance) not counted, as
  :func:`~loanservicing.ledger.accounting.accrued_days_past_due` counts it.

The dates come from the ledger's own functions (``due_date``, ``grace_end``, ``paused``,
``installments_due``, ``installments_settled``, ``installments_past_grace``); nothing here
knows a calendar. A repayment, restructuring, payment holiday or forbearance changes the state
and so the deadlines: the loan's events bring it to the next tick's evaluation, which computes
them afresh.
"""

from __future__ import annotations

from loanservicing.ledger.accounting import (
    amount_due,
    grace_end,
    installments_due,
    installments_past_grace,
    installments_settled,
    pause_end,
    paused,
)
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = ["BUCKET_BOUNDARIES", "days_past_due_from", "loan_deadline", "next_deadline"]

BUCKET_BOUNDARIES = (1, 31, 61, 91)
"""The days past due at which a loan enters buckets 1-30, 31-60, 61-90 and 90+."""


def days_past_due_from(s: LoanState, due: int, days: int) -> int:
    """The first second at which the installment due at ``due`` is ``days`` days past due
    (``days`` >= 1): unpaused seconds after ``due`` beyond ``(days - 1)`` whole days.

    Without paused time in between that is ``due + target``; when the forbearance window
    overlaps it, the unpaused time stands still through the window (it cannot be reached
    inside), so the answer is past its end, later by all of the window after ``due``."""
    target = (days - 1) * DAY + 1
    t = due + target
    if paused(s, due, t) == 0:
        return t
    return t + paused(s, due, pause_end(s))


def next_deadline(
    s: LoanState,
    now: int,
    window: int,
    due_count: int,
    settled: int,
    late_through: int,
    dpd: int,
) -> int | None:
    """The next deadline of the active loan ``s`` evaluated at ``now`` (None: none until its
    state changes), from what the evaluation computed: ``due_count`` installments due
    (:func:`installments_due`), ``settled`` of them paid in full
    (:func:`installments_settled`), ``late_through`` past their grace period
    (:func:`installments_past_grace`; any value up to ``settled`` when none is unpaid), and
    ``dpd`` days past due; ``window`` is the reminder window in seconds."""
    if s.status is not LoanStatus.ACTIVE:
        return None
    last = s.installments
    # The earliest candidate, raised to now + 1 once at the end (the earliest of the raised
    # candidates is the raised earliest one).
    found: int | None = None
    # Reminders: the next installment that is not paid ahead, once it is the running one.
    running = due_count + 1
    first = max(running, s.paid_count + 1)
    if first == running and s.due_date(running) - window <= now:
        first = running + 1  # the running installment's reminder was evaluated at now
    if first <= last:
        found = s.due_date(first) - window
        if first - 1 > s.base_index:  # the segment's first installment runs from its start
            found = max(found, s.due_date(first - 1) + 1)
    if s.advance_pending and s.segment_start >= now:
        t = s.segment_start + 1
        if found is None or t < found:
            found = t
    # Overdue: the oldest unpaid installment not yet past its grace period.
    k = max(late_through, settled) + 1
    if k <= last:
        t = grace_end(s, k) + 1
        if found is None or t < found:
            found = t
    # Bucket boundaries and the default threshold, counted from the oldest unpaid due date.
    oldest = settled + 1
    if oldest <= last:
        threshold = next((b for b in BUCKET_BOUNDARIES if b > dpd), None)
        if s.default_after_days > dpd and (threshold is None or s.default_after_days < threshold):
            threshold = s.default_after_days
        if threshold is not None:
            t = days_past_due_from(s, s.due_date(oldest), threshold)
            if found is None or t < found:
                found = t
    if found is None:
        return None
    return found if found > now else now + 1


def loan_deadline(s: LoanState, now: int, window: int) -> int | None:
    """:func:`next_deadline` of ``s`` at ``now`` computed from the state alone."""
    if s.status is not LoanStatus.ACTIVE:
        return None
    d = installments_due(s, now)
    return next_deadline(
        s,
        now,
        window,
        d,
        installments_settled(s, d),
        installments_past_grace(s, now),
        amount_due(s, now).days_past_due,
    )
