"""Each ledger call replayed in Python, to rebuild a loan's state from its events alone.

The ledger's events carry every number a monitor needs, but a few fields of its stored state
(``installmentsAssessedLate``, ``lastAccrual``, carried interest, the interest paid within the
segment) change inside a call without an event field of their own. So this module replays
each call of ``LoanLedger.sol`` (originate, repay on its fast and general paths, assess) and
of its libraries ``LoanDefaults.sol`` (declareDefault) and ``LoanRestructuring.sol``
(proposeRestructure, acceptRestructure) with the accounting of
:mod:`loanservicing.ledger.accounting`, at the block timestamp of its events, and checks that
the replay emits the events the chain did. The result is the loan's state exactly as the
ledger stores it, which :func:`loanservicing.ledger.accounting.amount_due` then evaluates at
any timestamp without an RPC call.

Which call emitted a run of events is told from the events' names
(:func:`apply_ledger_events`). A replay that disagrees with an event (which would mean this
port and the contract differ) is logged as an error and the events' own values win, so the
index stays usable; ``index verify`` then reports the difference.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

from loanservicing.ledger.accounting import (
    UINT96_MAX,
    Accrual,
    accrue,
    advance,
    allocate,
    cumulative_due,
    days_past_due,
    installments_due,
    owed,
    reset_segment,
    saturate_charges,
)
from loanservicing.ledger.delinquency import bucket_of
from loanservicing.ledger.errors import ReplayMismatch
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus

__all__ = ["apply_ledger_events", "originate"]

logger = logging.getLogger(__name__)


def _sub(a: int, b: int) -> int:
    return a - b if a > b else 0


# ---------------------------------------------------------------------------- replay: calls

_Expected = list[tuple[str, dict[str, int]]]


def _charges_event(w: LoanState, a: Accrual) -> _Expected:
    if not a.any():
        return []
    return [
        (
            "ChargesAccrued",
            {
                "lateFee": a.late_fee,
                "penalty": a.penalty,
                "missed": a.missed,
                "installmentsAssessedLate": w.late_count,
                "feesOwed": min(w.fees, UINT96_MAX),
                "penaltyOwed": min(w.penalty, UINT96_MAX),
            },
        )
    ]


def _schedule_reset(w: LoanState) -> _Expected:
    """The ScheduleReset event of the segment ``w`` now has."""
    return [
        (
            "ScheduleReset",
            {
                "baseIndex": w.base_index,
                "installments": w.installments,
                "basePrincipal": w.base_principal,
                "segmentStart": w.segment_start,
                "aprBps": w.apr_bps,
                "periodSeconds": w.period,
            },
        )
    ]


def _current_installment_due(w: LoanState, t: int) -> tuple[int, int] | None:
    """The ledger's fast-path test (``_currentInstallmentDue``): for a current loan (nothing
    past due, no charges, bucket 0), (interest, principal) left of the next installment."""
    if w.fees or w.penalty or w.carried or w.bucket != 0 or w.status is not LoanStatus.ACTIVE:
        return None
    count = w.installments - w.base_index
    if count == 0:
        return None
    due = (t - w.segment_start - 1) // w.period if t > w.segment_start else 0
    if due >= count or w.paid_count != w.base_index + due:
        return None
    cum_principal, cum_interest = cumulative_due(w.curve(), due + 1)
    return _sub(cum_interest, w.paid_interest), _sub(cum_principal, w.paid_principal)


def _repay_current_installment(
    w: LoanState, amount: int, interest_due: int, installment_due: int
) -> _Expected:
    """The ledger's fast path (``_repayCurrentInstallment``): no accrual, no bucket change."""
    to_interest = min(amount, interest_due)
    w.paid_principal += amount - to_interest
    w.paid_interest += to_interest
    if amount == installment_due:
        w.paid_count += 1
    outstanding = w.base_principal - w.paid_principal
    if outstanding == 0:
        w.status = LoanStatus.CLOSED
    w.total_paid += amount
    expected: _Expected = [
        (
            "RepaymentApplied",
            {
                "fees": 0,
                "penalty": 0,
                "interest": to_interest,
                "principal": amount - to_interest,
                "principalOutstanding": outstanding,
                "installmentsPaid": w.paid_count,
                "status": int(w.status),
            },
        )
    ]
    if outstanding == 0:
        w.closed_after_default = False
        expected.append(("LoanClosed", {"afterDefault": 0}))
    return expected


def _repay(w: LoanState, amount: int, t: int) -> _Expected:
    """Replay ``repay`` of ``amount`` (what was applied). Both ledger paths leave the same
    state, so the applied amount decides, as the ledger's argument would."""
    current = _current_installment_due(w, t)
    if current is not None:
        interest_due, principal_due = current
        installment_due = interest_due + principal_due
        if installment_due != 0 and amount <= installment_due:
            return _repay_current_installment(w, amount, interest_due, installment_due)
    return _general_repay(w, amount, t)


def _general_repay(w: LoanState, amount: int, t: int) -> _Expected:
    c = w.curve()
    a = accrue(w, c, t)
    q = owed(w, c, t)
    al = allocate(w, q, amount)
    old_bucket = w.bucket
    after_default = w.status is LoanStatus.DEFAULTED
    reset = _schedule_reset(w) if w.status is LoanStatus.ACTIVE and advance(w, c, q, al) else []
    dpd = 0
    if w.base_principal == w.paid_principal:
        w.status = LoanStatus.CLOSED
        w.bucket = 0
    else:
        dpd = days_past_due(w, t)
        if w.status is LoanStatus.ACTIVE:
            w.bucket = bucket_of(dpd)
    saturate_charges(w)
    w.total_paid += al.total
    expected = [*reset, *_charges_event(w, a)]
    expected.append(
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
    if w.bucket != old_bucket:
        expected.append(
            (
                "DelinquencyBucketChanged",
                {"fromBucket": old_bucket, "toBucket": w.bucket, "daysPastDue": dpd},
            )
        )
    if w.status is LoanStatus.CLOSED:
        w.closed_after_default = after_default
        expected.append(("LoanClosed", {"afterDefault": int(after_default)}))
    return expected


def _assess(w: LoanState, t: int) -> _Expected:
    before = copy.copy(w)
    c = w.curve()
    a = accrue(w, c, t)
    dpd = days_past_due(w, t)
    old_bucket = w.bucket
    w.bucket = bucket_of(dpd)
    if not a.any() and w.bucket == old_bucket:
        w.__dict__.update(before.__dict__)  # the ledger returns without storing
        return []
    saturate_charges(w)
    expected = _charges_event(w, a)
    if w.bucket != old_bucket:
        expected.append(
            (
                "DelinquencyBucketChanged",
                {"fromBucket": old_bucket, "toBucket": w.bucket, "daysPastDue": dpd},
            )
        )
    return expected


def _declare_default(w: LoanState, t: int) -> _Expected:
    c = w.curve()
    a = accrue(w, c, t)
    dpd = days_past_due(w, t)
    q = owed(w, c, t)
    w.status = LoanStatus.DEFAULTED
    w.last_accrual = t
    old_bucket = w.bucket
    w.bucket = bucket_of(dpd)
    saturate_charges(w)
    expected = _charges_event(w, a)
    if w.bucket != old_bucket:
        expected.append(
            (
                "DelinquencyBucketChanged",
                {"fromBucket": old_bucket, "toBucket": w.bucket, "daysPastDue": dpd},
            )
        )
    expected.append(
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
    return expected


def _accept_restructure(
    w: LoanState, t: int, apr_bps: int, installments: int, period: int
) -> _Expected:
    c = w.curve()
    a = accrue(w, c, t)
    d = installments_due(w, t)
    _, cid = cumulative_due(c, d - w.base_index)
    outstanding = w.base_principal - w.paid_principal
    if w.paid_interest < cid:
        w.carried += cid - w.paid_interest
    else:
        excess = w.paid_interest - cid
        outstanding -= excess if excess < outstanding else outstanding
    w.apr_bps = apr_bps
    w.period = period
    reset_segment(w, d, d + installments, outstanding, t)
    old_bucket = w.bucket
    w.bucket = 0
    w.proposal_apr_bps = w.proposal_installments = w.proposal_period = 0
    w.proposal_deadline = 0
    saturate_charges(w)
    expected = _charges_event(w, a)
    expected.append(
        (
            "ScheduleReset",
            {
                "baseIndex": d,
                "installments": w.installments,
                "basePrincipal": outstanding,
                "segmentStart": t,
                "aprBps": w.apr_bps,
                "periodSeconds": w.period,
            },
        )
    )
    expected.append(
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
    if old_bucket != 0:
        expected.append(
            (
                "DelinquencyBucketChanged",
                {"fromBucket": old_bucket, "toBucket": 0, "daysPastDue": 0},
            )
        )
    return expected


# -------------------------------------------------------------------------- replay: events


def originate(event: LedgerEvent) -> LoanState:
    """A new loan's state from its ``LoanOriginated`` event."""
    args = event.args
    terms = args["terms"]
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
        segment_start=int(terms["firstDueDate"]) - int(terms["periodSeconds"]),
        originated_timestamp=event.timestamp,
    )


_ANCHORS = {"RepaymentApplied", "LoanDefaulted", "LoanRestructured"}


def _call_kind(events: Sequence[LedgerEvent], i: int) -> str:
    """Which ledger call emitted the events of one loan starting at ``events[i]``."""
    name = events[i].name
    if name == "RepaymentApplied":
        return "repay"
    if name == "LoanDefaulted":
        return "default"
    nxt = [e.name for e in events[i + 1 : i + 3]]
    if name == "ScheduleReset":
        return "restructure" if nxt[:1] == ["LoanRestructured"] else "repay"
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


def _matches(expected: _Expected, actual: Sequence[LedgerEvent]) -> bool:
    if len(actual) < len(expected):
        return False
    for (name, values), event in zip(expected, actual, strict=False):
        if name != event.name:
            return False
        for key, value in values.items():
            if int(event.args[key]) != value:
                return False
    return True


def _apply_from_event(w: LoanState, event: LedgerEvent) -> None:
    """Fallback when a replay disagrees: take what the event states as the truth."""
    a = event.args
    if event.name == "RepaymentApplied":
        w.paid_principal = w.base_principal - int(a["principalOutstanding"])
        w.paid_count = int(a["installmentsPaid"])
        w.status = LoanStatus(int(a["status"]))
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
    elif event.name == "LoanRestructured":
        w.carried = int(a["carriedInterest"])
        w.fees, w.penalty = int(a["feesOwed"]), int(a["penaltyOwed"])
    elif event.name == "LoanClosed":
        w.status = LoanStatus.CLOSED
        w.bucket = 0


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
        if event.name == "RestructureProposed":
            a = event.args
            state.proposal_apr_bps = int(a["aprBps"])
            state.proposal_installments = int(a["installments"])
            state.proposal_period = int(a["periodSeconds"])
            state.proposal_deadline = int(a["deadline"])
            i += 1
            continue
        kind = _call_kind(events, i)
        before = copy.copy(state)
        t = event.timestamp
        if kind == "repay":
            anchor = next(e for e in events[i : i + 3] if e.name == "RepaymentApplied")
            a = anchor.args
            amount = sum(int(a[k]) for k in ("fees", "penalty", "interest", "principal"))
            expected = _repay(state, amount, t)
        elif kind == "assess":
            expected = _assess(state, t)
        elif kind == "default":
            expected = _declare_default(state, t)
        else:
            reset = next(e for e in events[i : i + 2] if e.name == "ScheduleReset").args
            d = installments_due(state, t)
            expected = _accept_restructure(
                state,
                t,
                int(reset["aprBps"]),
                int(reset["installments"]) - d,
                int(reset["periodSeconds"]),
            )
        actual = events[i : i + len(expected)]
        if not expected or not _matches(expected, actual):
            logger.error(
                "Replaying %s of loan %s at block %d did not reproduce its events "
                "(expected %s, got %s); the events' own values are used instead.",
                kind,
                event.args.get("loanId"),
                event.block_number,
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
    while j < len(events) and events[j].name in {"DelinquencyBucketChanged", "LoanClosed"}:
        j += 1
    return j - i
