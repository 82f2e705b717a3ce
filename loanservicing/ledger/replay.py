"""A loan's state rebuilt from its ledger events alone.

The ledger's events carry every number a monitor needs, but a few fields of its stored state
(``installmentsAssessedLate``, ``lastAccrual``, carried interest, the interest paid within the
segment, the interest paid ahead of a prepaid segment) change inside a call without an event
field of their own. So each run of events is replayed as the call that emitted it, with the
Python mirror of that call (:mod:`~loanservicing.ledger.repayments`,
:mod:`~loanservicing.ledger.defaults`, :mod:`~loanservicing.ledger.restructuring`,
:mod:`~loanservicing.ledger.relief`) at the block timestamp of its events, and the replay's
events are checked against the chain's. The result is the loan's state exactly as the ledger
stores it, which :func:`loanservicing.ledger.accounting.amount_due` then evaluates at any
timestamp without an RPC call.

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

from loanservicing.ledger import relief
from loanservicing.ledger.accounting import days_past_due, reset_segment
from loanservicing.ledger.calendar import DayCount
from loanservicing.ledger.calendar_terms import origination_calendar
from loanservicing.ledger.call_effects import CallEffects, Emitted, clear_proposal
from loanservicing.ledger.defaults import declare_default
from loanservicing.ledger.errors import LedgerCallReverted, ReplayMismatch
from loanservicing.ledger.repayments import assess, repay
from loanservicing.ledger.restructuring import accept_restructure
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus

__all__ = ["apply_ledger_events", "originate", "replay_transaction"]

logger = logging.getLogger(__name__)


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
        args = event.args
        for key, value in values.items():
            found = args[key]
            if found != value and int(found) != value:  # decoded ints, or numbers as text
                return f"{name}.{key} is {found}, the replay's {value}"
    return None


def _replay_call(state: LoanState, kind: str, events: Sequence[LedgerEvent], i: int) -> CallEffects:
    """Replay the call of ``kind`` whose events start at ``events[i]``; what it did."""
    t = events[i].timestamp
    if kind == "repay":
        anchor = next(e for e in events[i : i + 3] if e.name == "RepaymentApplied")
        a = anchor.args
        amount = sum(int(a[k]) for k in ("fees", "penalty", "interest", "principal"))
        return repay(state, amount, t)
    if kind == "assess":
        return assess(state, t)
    if kind == "default":
        return declare_default(state, t)
    if kind == "holiday":
        g = events[i + 1].args
        return relief.accept_holiday(
            state, t, int(g["fromInstallment"]), int(g["count"]), state.holiday_deadline
        )
    if kind == "forbear":
        f = next(e for e in events[i : i + 3] if e.name in _FORBEARANCE)
        if f.name == "ForbearanceGranted":
            first, last = int(f.args["fromDay"]), int(f.args["toDay"])
        else:  # ended early: the window's first date named again, yesterday its last
            first, last = state.pause_from, int(f.args["lastDay"])
        return relief.forbear(state, t, first, last)
    reset = next(e for e in events[i : i + 2] if e.name == "ScheduleReset").args
    return accept_restructure(
        state,
        t,
        int(reset["aprBps"]),
        int(reset["installments"]) - int(reset["baseIndex"]),
        int(reset["periodSeconds"]),
        state.proposal_deadline,
    )


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
        w.holiday_periods = count = int(a["count"])
        # The interest-only installments not yet reached move with the schedule (the
        # ScheduleReset before this event started the segment at d + count).
        if w.interest_only > w.base_index - count:
            w.interest_only += count
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
    return _apply(state, events, False)[0]


def replay_transaction(
    state: LoanState | None, events: Sequence[LedgerEvent]
) -> tuple[LoanState, int | None]:
    """:func:`apply_ledger_events`, and, for a transaction that repaid an active loan, the
    loan's days past due just before it (``days_past_due(state, t)`` at the transaction's
    time; None for any other transaction). When the repayment is the transaction's first call
    and its replay agrees with the chain, the figure is the one its own accrual found."""
    wanted = (
        state is not None
        and state.status is LoanStatus.ACTIVE
        and any(e.name == "RepaymentApplied" for e in events)
    )
    return _apply(state, events, wanted)


def _apply(
    state: LoanState | None, events: Sequence[LedgerEvent], lateness_wanted: bool
) -> tuple[LoanState, int | None]:
    lateness: int | None = None
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
        if lateness_wanted and lateness is None and kind != "repay":
            lateness = days_past_due(state, event.timestamp)  # before the first call
        before = copy.copy(state)
        try:
            effects = _replay_call(state, kind, events, i)
            expected = effects.events
            mismatch = _mismatch(expected, events[i : i + len(expected)])
        except LedgerCallReverted as exc:
            effects, expected = CallEffects(), []
            mismatch = f"the replay reverts with {exc.error_name}"
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
            if lateness_wanted and lateness is None:
                lateness = days_past_due(state, event.timestamp)
            consumed = _consume_call(events, i)
            for e in events[i : i + consumed]:
                _apply_from_event(state, e)
            i += consumed
            continue
        if lateness_wanted and lateness is None:
            lateness = effects.days_past_due
        i += len(expected)
    if state is None:
        raise ReplayMismatch("No event was given for the loan.")
    return state, lateness


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
