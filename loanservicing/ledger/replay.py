"""Each ledger call replayed in Python, to rebuild a loan's state from its events alone.

The ledger's events carry every number a monitor needs, but a few fields of its stored state
(``installmentsAssessedLate``, ``lastAccrual``, carried interest, the interest paid within the
segment, the interest paid ahead of a prepaid segment) change inside a call without an event
field of their own. So this module replays each call of ``LoanLedger.sol`` (originate, repay
on its fast path) and of its libraries ``LoanRepayments.sol`` (repay on the general path,
assess), ``LoanDefaults.sol``
(declareDefault) and ``LoanRestructuring.sol`` (proposeRestructure, acceptRestructure,
withdrawRestructure) with the accounting of :mod:`loanservicing.ledger.accounting`, at the
block timestamp of its events, and checks that the replay emits the events the chain did. The
result is the loan's state exactly as the ledger stores it, which
:func:`loanservicing.ledger.accounting.amount_due` then evaluates at any timestamp without an
RPC call.

Each call is also a function here (:func:`repay`, :func:`assess`, :func:`declare_default`,
:func:`propose_restructure`, :func:`accept_restructure`, :func:`withdraw_restructure`): it
changes a state as the ledger would and returns the :class:`CallEffects` (the loan's events and
the reports to the credit registry), or raises
:class:`~loanservicing.ledger.errors.LedgerCallReverted` where the ledger reverts.

Which call emitted a run of events is told from the events' names
(:func:`apply_ledger_events`). A replay that disagrees with an event (which would mean this
port and the contract differ) is logged as an error and the events' own values win, so the
index stays usable; ``index verify`` then reports the difference.

One change is invisible in events: an ``assess`` that only settles installments with nothing
due (``installmentsPaid`` moves, nothing is charged, the bucket stays) stores without emitting
anything, so a replay from events alone sees it only at the loan's next call, whose accrual
settles the same installments.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

from loanservicing.ledger import calendar as cal
from loanservicing.ledger import relief
from loanservicing.ledger.accounting import (
    accrue,
    accrued_days_past_due,
    apply_repayment,
    bucket_of,
    cumulative_due,
    default_due,
    installments_due,
    owed,
    reported_days_past_due,
    reset_segment,
    saturate_charges,
)
from loanservicing.ledger.calendar import DayCount
from loanservicing.ledger.calendar_terms import origination_calendar, restart_calendar
from loanservicing.ledger.call_effects import (
    CallEffects,
    Emitted,
    bucket_event,
    charges_event,
    clear_proposal,
    delinquency_report,
    repayment_report,
    require_active,
    schedule_reset_event,
)
from loanservicing.ledger.errors import LedgerCallReverted, ReplayMismatch
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus

__all__ = [
    "CallEffects",
    "accept_restructure",
    "apply_ledger_events",
    "assess",
    "declare_default",
    "originate",
    "propose_restructure",
    "repay",
    "withdraw_restructure",
]

logger = logging.getLogger(__name__)


def _sub(a: int, b: int) -> int:
    return a - b if a > b else 0


# -------------------------------------------------------------------------- repayment


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
        [("RepaymentApplied", event)], repayment_report(w, settled, 0, amount, False)
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
    return CallEffects(events, reports)


# ------------------------------------------------------------------ delinquency, default


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


# ------------------------------------------------------------------------ restructuring


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


# -------------------------------------------------------------------------- replay: events


def originate(event: LedgerEvent) -> LoanState:
    """A new loan's state from its ``LoanOriginated`` event."""
    args = event.args
    terms = args["terms"]
    calendar = origination_calendar(terms, event.timestamp)
    return LoanState(
        loan_id=int(args["loanId"]),
        borrower=str(args["borrower"]),
        lender=str(args["lender"]),
        token=str(terms["token"]),
        kind=ScheduleKind(int(terms["kind"])),
        principal=int(terms["principal"]),
        installments=int(terms["installments"]),
        apr_bps=int(terms["aprBps"]),
        penalty_apr_bps=int(terms["penaltyAprBps"]),
        late_fee_bps=int(terms["lateFeeBps"]),
        default_after_days=int(terms["defaultAfterDays"]),
        period=int(terms["periodSeconds"]),
        grace=int(terms["gracePeriodSeconds"]),
        base_principal=int(terms["principal"]),
        segment_start=calendar["segment_start"],
        last_accrual=event.timestamp,
        originated_timestamp=event.timestamp,
        months=int(terms.get("periodMonths", 0)),
        day_count=DayCount(int(terms.get("dayCount", 0))),
        utc_offset=int(terms.get("utcOffsetMinutes", 0)),
        anchor_day=calendar["anchor_day"],
        rounding_exp=int(terms.get("roundingExp", 0)),
        interest_only=int(terms.get("interestOnly", 0)),
        odd_days=calendar["odd_days"],
        calendar_month=calendar["calendar_month"],
    )


_ANCHORS = {
    "RepaymentApplied",
    "LoanDefaulted",
    "LoanRestructured",
    "HolidayGranted",
    "ForbearanceGranted",
    "ForbearanceEnded",
}
_FORBEARANCE = ("ForbearanceGranted", "ForbearanceEnded")
_AFTER_ANCHOR = {"DelinquencyBucketChanged", "InterestRebated", "LoanClosed"}
_SIDE_EVENTS = {"CreditReportFailed", "RepaymentHeld"}
"""Ledger events about a call's credit reports and money, which change no loan state."""


def _call_kind(events: Sequence[LedgerEvent], i: int) -> str:
    """Which ledger call emitted the events of one loan starting at ``events[i]``."""
    name = events[i].name
    if name == "RepaymentApplied":
        return "repay"
    if name == "LoanDefaulted":
        return "default"
    if name in _FORBEARANCE:
        return "forbear"
    nxt = [e.name for e in events[i + 1 : i + 3]]
    if name == "ScheduleReset":
        if nxt[:1] == ["HolidayGranted"]:
            return "holiday"
        return "restructure" if nxt[:1] == ["LoanRestructured"] else "repay"
    if name in ("ChargesAccrued", "DelinquencyBucketChanged") and any(
        n in _FORBEARANCE for n in nxt
    ):
        return "forbear"
    if name == "ChargesAccrued":
        if nxt[:1] == ["ScheduleReset"]:
            return "restructure"
        if nxt[:1] == ["RepaymentApplied"]:
            return "repay"
        if nxt[:1] == ["LoanDefaulted"] or nxt == ["DelinquencyBucketChanged", "LoanDefaulted"]:
            return "default"
        return "assess"
    if name == "DelinquencyBucketChanged":
        return "default" if nxt[:1] == ["LoanDefaulted"] else "assess"
    raise ReplayMismatch(f"Event {name} cannot start a ledger call.")


def _mismatch(expected: Emitted, actual: Sequence[LedgerEvent]) -> str | None:
    """Where the chain's events differ from the replay's, or None when they agree."""
    if not expected:
        return "the replay emits nothing"
    if len(actual) < len(expected):
        return f"{len(expected)} events expected, {len(actual)} emitted"
    for (name, values), event in zip(expected, actual, strict=False):
        if name != event.name:
            return f"{name} expected, {event.name} emitted"
        for key, value in values.items():
            if int(event.args[key]) != value:
                return f"{name}.{key} is {event.args[key]}, the replay's {value}"
    return None


def _replay_call(state: LoanState, kind: str, events: Sequence[LedgerEvent], i: int) -> Emitted:
    """Replay the call of ``kind`` whose events start at ``events[i]``; its expected events."""
    t = events[i].timestamp
    if kind == "repay":
        anchor = next(e for e in events[i : i + 3] if e.name == "RepaymentApplied")
        a = anchor.args
        amount = sum(int(a[k]) for k in ("fees", "penalty", "interest", "principal"))
        return repay(state, amount, t).events
    if kind == "assess":
        return assess(state, t).events
    if kind == "default":
        return declare_default(state, t).events
    if kind == "holiday":
        g = events[i + 1].args
        return relief.accept_holiday(
            state, t, int(g["fromInstallment"]), int(g["count"]), state.holiday_deadline
        ).events
    if kind == "forbear":
        f = next(e for e in events[i : i + 3] if e.name in _FORBEARANCE)
        if f.name == "ForbearanceGranted":
            first, last = int(f.args["fromDay"]), int(f.args["toDay"])
        else:  # ended early: the window's first date named again, yesterday its last
            first, last = state.pause_from, int(f.args["lastDay"])
        return relief.forbear(state, t, first, last).events
    reset = next(e for e in events[i : i + 2] if e.name == "ScheduleReset").args
    return accept_restructure(
        state,
        t,
        int(reset["aprBps"]),
        int(reset["installments"]) - int(reset["baseIndex"]),
        int(reset["periodSeconds"]),
        state.proposal_deadline,
    ).events


def _apply_from_event(w: LoanState, event: LedgerEvent) -> None:
    """Fallback when a replay disagrees: take what the event states as the truth."""
    a = event.args
    if event.name == "RepaymentApplied":
        w.paid_principal = w.base_principal - int(a["principalOutstanding"])
        w.paid_count = int(a["installmentsPaid"])
        w.status = LoanStatus(int(a["status"]))
        w.total_paid += sum(int(a[k]) for k in ("fees", "penalty", "interest", "principal"))
    elif event.name == "ChargesAccrued":
        w.late_count = int(a["installmentsAssessedLate"])
        w.fees, w.penalty = int(a["feesOwed"]), int(a["penaltyOwed"])
        w.last_accrual = event.timestamp
    elif event.name == "DelinquencyBucketChanged":
        w.bucket = int(a["toBucket"])
    elif event.name == "ScheduleReset":
        reset_segment(
            w,
            int(a["baseIndex"]),
            int(a["installments"]),
            int(a["basePrincipal"]),
            int(a["segmentStart"]),
        )
        w.apr_bps, w.period = int(a["aprBps"]), int(a["periodSeconds"])
    elif event.name == "LoanDefaulted":
        w.status = LoanStatus.DEFAULTED
        w.last_accrual = event.timestamp
        clear_proposal(w)
    elif event.name == "LoanRestructured":
        w.carried = int(a["carriedInterest"])
        w.fees, w.penalty = int(a["feesOwed"]), int(a["penaltyOwed"])
        w.advance, w.advance_pending = 0, False
        clear_proposal(w)
    elif event.name == "HolidayGranted":
        w.advance = int(a["capitalisedInterest"])
        w.advance_pending = True
        w.holiday_periods = int(a["count"])
        relief.clear_holiday(w)
    elif event.name == "ForbearanceGranted":
        w.pause_from, w.pause_to = int(a["fromDay"]), int(a["toDay"])
    elif event.name == "ForbearanceEnded":
        last = int(a["lastDay"])
        w.pause_from, w.pause_to = (0, 0) if last < w.pause_from else (w.pause_from, last)
    elif event.name == "LoanClosed":
        w.status = LoanStatus.CLOSED
        w.bucket = 0
        w.closed_after_default = bool(a["afterDefault"])


def apply_ledger_events(
    state: LoanState | None,
    events: Sequence[LedgerEvent],
) -> LoanState:
    """Apply the ledger events of ONE loan from one transaction, in log order.

    Returns the new state (``state`` is updated in place when it is not None). Raises
    ReplayMismatch only for events that cannot belong to any ledger call.
    """
    i = 0
    while i < len(events):
        event = events[i]
        if event.name == "LoanOriginated":
            state = originate(event)
            i += 1
            continue
        if state is None:
            raise ReplayMismatch(
                f"Event {event.name} of loan {event.args.get('loanId')} comes before the "
                "loan's LoanOriginated event."
            )
        if event.name in _SIDE_EVENTS:
            i += 1
            continue
        if event.name == "RestructureProposed":
            a = event.args
            state.proposal_apr_bps = int(a["aprBps"])
            state.proposal_installments = int(a["installments"])
            state.proposal_period = int(a["periodSeconds"])
            state.proposal_deadline = int(a["deadline"])
            i += 1
            continue
        if event.name == "RestructureWithdrawn":
            clear_proposal(state)
            i += 1
            continue
        if event.name == "HolidayProposed":
            a = event.args
            state.holiday_from, state.holiday_count = int(a["fromInstallment"]), int(a["count"])
            state.holiday_deadline = int(a["deadline"])
            i += 1
            continue
        if event.name == "HolidayWithdrawn":
            relief.clear_holiday(state)
            i += 1
            continue
        kind = _call_kind(events, i)
        before = copy.copy(state)
        try:
            expected = _replay_call(state, kind, events, i)
            mismatch = _mismatch(expected, events[i : i + len(expected)])
        except LedgerCallReverted as exc:
            expected, mismatch = [], f"the replay reverts with {exc.error_name}"
        if mismatch is not None:
            logger.error(
                "Replaying %s of loan %s at block %d did not reproduce its events (%s; "
                "expected %s, got %s); the events' own values are used instead.",
                kind,
                event.args.get("loanId"),
                event.block_number,
                mismatch,
                [name for name, _ in expected],
                [e.name for e in events[i:]],
            )
            state.__dict__.update(before.__dict__)
            consumed = _consume_call(events, i)
            for e in events[i : i + consumed]:
                _apply_from_event(state, e)
            i += consumed
            continue
        i += len(expected)
    if state is None:
        raise ReplayMismatch("No event was given for the loan.")
    return state


def _consume_call(events: Sequence[LedgerEvent], i: int) -> int:
    """How many events from ``i`` belong to one call, judged by names alone (fallback)."""
    j = i
    while j < len(events) and events[j].name not in _ANCHORS:
        j += 1
    if j == len(events):
        return len(events) - i
    j += 1
    while j < len(events) and events[j].name in _AFTER_ANCHOR:
        j += 1
    return j - i
