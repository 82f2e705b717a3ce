"""Payment holidays and forbearance replayed in Python (``LoanRelief.sol``), with the
accounting of :mod:`loanservicing.ledger.accounting`: each call changes a state as the ledger
would and returns its :class:`~loanservicing.ledger.call_effects.CallEffects`, or raises
:class:`~loanservicing.ledger.errors.LedgerCallReverted` where the ledger reverts.

A holiday of N installments from the next one to fall due starts a new segment from
installment ``d + N`` at the old due date of installment ``d + N``, over the same remaining
installments; the N periods' simple interest on the outstanding principal is capitalised and
kept as interest paid ahead over those periods (``advance``, ``holiday_periods``), so that a
payoff during the holiday pays it to the day only. A forbearance is a window of paused dates
(``pause_from`` .. ``pause_to``) that the accounting's clock of lateness skips.
"""

from __future__ import annotations

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import (
    accrue,
    accrued_days_past_due,
    bucket_of,
    installments_due,
    owed_and_running,
    pause_end,
    reported_days_past_due,
    reset_segment,
    saturate_charges,
)
from loanservicing.ledger.call_effects import (
    CallEffects,
    Emitted,
    bucket_event,
    charges_event,
    delinquency_report,
    require_active,
    schedule_reset_event,
)
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.schedule import period_rate
from loanservicing.ledger.state import LoanState

__all__ = [
    "MAX_HOLIDAY",
    "accept_holiday",
    "clear_holiday",
    "forbear",
    "propose_holiday",
    "withdraw_holiday",
]

MAX_HOLIDAY = 255
"""The most installments one holiday may skip (``LoanRelief.MAX_HOLIDAY``)."""
UINT16_MAX = 2**16 - 1


def clear_holiday(w: LoanState) -> None:
    w.holiday_from = w.holiday_count = w.holiday_deadline = 0


def _check_length(w: LoanState, count: int) -> None:
    max_count = min(UINT16_MAX - w.installments, MAX_HOLIDAY)
    if count == 0 or count > max_count:
        raise LedgerCallReverted("InvalidHolidayLength", f"{count} of at most {max_count}")


def propose_holiday(w: LoanState, t: int, first: int, count: int, deadline: int) -> CallEffects:
    """``proposeHoliday`` at ``t``: records the proposal, replacing any earlier one."""
    require_active(w)
    nxt = installments_due(w, t) + 1
    if first < nxt or first > w.installments:
        raise LedgerCallReverted("HolidayOutOfRange")
    _check_length(w, count)
    if deadline <= t:
        raise LedgerCallReverted("InvalidDeadline")
    w.holiday_from, w.holiday_count, w.holiday_deadline = first, count, deadline
    args = {"fromInstallment": first, "count": count, "deadline": deadline}
    return CallEffects([("HolidayProposed", args)])


def withdraw_holiday(w: LoanState) -> CallEffects:
    """``withdrawHoliday``."""
    if w.holiday_deadline == 0:
        raise LedgerCallReverted("NoHolidayProposal")
    clear_holiday(w)
    return CallEffects([("HolidayWithdrawn", {})])


def accept_holiday(w: LoanState, t: int, first: int, count: int, deadline: int) -> CallEffects:
    """``acceptHoliday`` at ``t`` naming the proposal (``LoanRelief.acceptHoliday``)."""
    require_active(w)
    if w.holiday_deadline == 0:
        raise LedgerCallReverted("NoHolidayProposal")
    if (first, count, deadline) != (w.holiday_from, w.holiday_count, w.holiday_deadline):
        raise LedgerCallReverted("HolidayTermsMismatch")
    if t > w.holiday_deadline:
        raise LedgerCallReverted("HolidayExpired")
    c = w.curve()
    accrue(w, c, t)
    q, running = owed_and_running(w, c, t)
    if q.interest + q.principal != 0 or w.advance_pending:
        raise LedgerCallReverted("HolidayNotCurrent")
    d = installments_due(w, t)
    if first != d + 1:
        raise LedgerCallReverted("HolidayOutOfRange")
    _check_length(w, count)
    clear_holiday(w)
    outstanding = w.base_principal - w.paid_principal
    days = w.period_days * count + (w.odd_days if d == 0 else 0)
    rate_num, rate_den = period_rate(w.apr_bps, days, w.day_count)
    unit = 10**w.rounding_exp
    capitalised = outstanding * rate_num // rate_den // unit * unit
    paid_ahead = running - q.current_interest
    if outstanding + capitalised <= paid_ahead:
        raise LedgerCallReverted("NothingToRestructure")
    principal = outstanding + capitalised - paid_ahead
    start = w.due_date(d + count)
    reset_segment(w, d + count, w.installments + count, principal, start)
    w.advance_pending = True
    w.advance = capitalised
    w.holiday_periods = count
    if w.interest_only > d:
        w.interest_only += count
    granted = {
        "fromInstallment": first,
        "count": count,
        "capitalisedInterest": capitalised,
        "principalOutstanding": principal,
    }
    return CallEffects([*schedule_reset_event(w), ("HolidayGranted", granted)])


def forbear(w: LoanState, t: int, from_day: int, to_day: int) -> CallEffects:
    """``forbear`` at ``t`` (``LoanRelief.forbear``): sets, extends or ends early the loan's
    forbearance window, after bringing its charges current under the window in force."""
    require_active(w)
    c = w.curve()
    a = accrue(w, c, t)
    today = cal.local_day(t, w.offset_seconds)
    change = w.pause_to >= today and w.pause_from <= today and from_day == w.pause_from
    invalid = to_day > 2**24 - 1 or to_day + 1 < from_day
    invalid = invalid or (to_day + 1 < today if change else to_day < from_day or from_day < today)
    if invalid:
        raise LedgerCallReverted("InvalidForbearance")
    begun = not change and w.pause_to != 0 and w.pause_from <= today
    # A window that has begun still matters while it runs or an installment due before its
    # end is unpaid.
    if begun and (w.pause_to >= today or w.due_count(pause_end(w), 0) > w.paid_count):
        raise LedgerCallReverted("ForbearanceInEffect")
    ended = to_day < today
    removed = to_day < from_day
    w.pause_from = 0 if removed else from_day
    w.pause_to = 0 if removed else to_day
    dpd = accrued_days_past_due(w, t)
    old_bucket = w.bucket
    w.bucket = bucket_of(dpd)
    events: Emitted = charges_event(w, a) + bucket_event(old_bucket, w.bucket, dpd)
    saturate_charges(w)
    reported = reported_days_past_due(w, t)
    reports: Emitted = []
    if a.missed != 0 or (w.bucket != old_bucket and (reported != 0 or old_bucket != 0)):
        reports = delinquency_report(w, a.missed, reported)
    if ended:
        events.append(("ForbearanceEnded", {"lastDay": to_day}))
    else:
        events.append(("ForbearanceGranted", {"fromDay": from_day, "toDay": to_day}))
        if not change:
            args = {"loanId": w.loan_id, "fromDay": from_day, "toDay": to_day}
            reports.append(("reportForbearance", args))
    return CallEffects(events, reports)
