"""Each loan's servicing state and each borrower's credit record, rebuilt from events alone.

The ledger's events carry every number a monitor needs, but a few fields of its stored state
(``installmentsAssessedLate``, ``lastAccrual``, carried interest, the interest paid within the
segment) change inside a call without an event field of their own. So this module replays
each ledger call in Python with the very integer arithmetic of ``LoanLedger.sol`` (its
``_accrue``, ``_owed``, ``_allocate``, ``_advance``, ``_daysPastDue``; the schedule maths come
from :class:`loanservicing.ledger.schedule.Curve`) at the block timestamp of its events, and checks
that the replay emits the events the chain did. The result is the loan's state exactly as the
ledger stores it, which :func:`amount_due` then evaluates at any timestamp without an RPC call.

A replay that disagrees with an event (which would mean this port and the contract differ) is
logged as an error and the event's own values win, so the index stays usable; ``index verify``
then reports the difference.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import IntEnum
from functools import lru_cache
from typing import Any

from loanservicing.ledger.errors import ReplayMismatch
from loanservicing.ledger.schedule import BPS, RATE_DEN, Curve, ScheduleKind

__all__ = [
    "DAY",
    "AmountDue",
    "CreditRecord",
    "LoanState",
    "LoanStatus",
    "ReplayMismatch",
    "amount_due",
    "apply_ledger_events",
    "apply_registry_event",
    "bucket_of",
    "cumulative_due",
    "days_past_due",
    "due_count",
    "originate",
    "paid_through",
    "unpaid_through",
]

logger = logging.getLogger(__name__)

DAY = 86_400
UINT96_MAX = 2**96 - 1
UINT24_MAX = 2**24 - 1
UINT16_MAX = 2**16 - 1


class LoanStatus(IntEnum):
    """Lifecycle of a loan; values match the Solidity enum."""

    ACTIVE = 0
    DEFAULTED = 1
    CLOSED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass
class LoanState:
    """A loan as the ledger stores it (the fields of ``LoanView``), plus the pending proposal.

    Field names follow the ledger's ``Work`` struct; amounts are ints in the token's units.
    """

    loan_id: int
    borrower: str
    lender: str
    token: str
    kind: ScheduleKind
    principal: int
    installments: int
    apr_bps: int
    penalty_apr_bps: int
    late_fee_bps: int
    default_after_days: int
    period: int
    grace: int
    base_principal: int
    segment_start: int
    paid_principal: int = 0
    paid_interest: int = 0
    last_accrual: int = 0
    status: LoanStatus = LoanStatus.ACTIVE
    bucket: int = 0
    base_index: int = 0
    paid_count: int = 0
    late_count: int = 0
    fees: int = 0
    penalty: int = 0
    carried: int = 0
    proposal_apr_bps: int = 0
    proposal_installments: int = 0
    proposal_period: int = 0
    proposal_deadline: int = 0
    originated_timestamp: int = 0
    total_paid: int = 0
    closed_after_default: bool = False

    @property
    def principal_outstanding(self) -> int:
        return self.base_principal - self.paid_principal

    def curve(self) -> Curve:
        """The schedule segment in force (installments ``base_index + 1 .. installments``)."""
        return Curve(
            self.kind,
            self.base_principal,
            self.installments - self.base_index,
            self.apr_bps,
            self.period,
        )

    def due_date(self, number: int) -> int:
        """Due date of installment ``number`` of the segment in force."""
        return self.segment_start + (number - self.base_index) * self.period

    def as_view(self) -> dict[str, int | str]:
        """The fields of the ledger's ``loan(id)`` view that follow from events, by ABI name."""
        return {
            "borrower": self.borrower,
            "lender": self.lender,
            "token": self.token,
            "status": int(self.status),
            "kind": int(self.kind),
            "principal": self.principal,
            "principalOutstanding": self.principal_outstanding,
            "aprBps": self.apr_bps,
            "penaltyAprBps": self.penalty_apr_bps,
            "lateFeeBps": self.late_fee_bps,
            "defaultAfterDays": self.default_after_days,
            "periodSeconds": self.period,
            "gracePeriodSeconds": self.grace,
            "installments": self.installments,
            "installmentsPaid": self.paid_count,
            "installmentsAssessedLate": self.late_count,
            "baseIndex": self.base_index,
            "basePrincipal": self.base_principal,
            "segmentStart": self.segment_start,
            "paidPrincipal": self.paid_principal,
            "paidInterest": self.paid_interest,
            "feesOwed": self.fees,
            "penaltyOwed": self.penalty,
            "carriedInterest": self.carried,
            "lastAccrual": self.last_accrual,
            "bucket": self.bucket,
        }

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> LoanState:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["kind"] = ScheduleKind(int(values["kind"]))
        values["status"] = LoanStatus(int(values["status"]))
        values["closed_after_default"] = bool(values["closed_after_default"])
        return cls(**values)


@dataclass(frozen=True)
class AmountDue:
    """What is owed at a timestamp, field for field the ledger's ``AmountDue`` struct."""

    fees: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    current_interest: int = 0
    current_principal: int = 0
    remaining_principal: int = 0
    past_due: int = 0
    payoff: int = 0
    days_past_due: int = 0
    next_due_date: int = 0
    next_installment: int = 0

    def as_tuple(self) -> tuple[int, ...]:
        """In the order of the Solidity struct, to compare with ``amountDue(id, t)``."""
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass
class _Accrual:
    late_fee: int = 0
    penalty: int = 0
    missed: int = 0

    def any(self) -> bool:
        return bool(self.late_fee or self.penalty or self.missed)


@dataclass
class _Allocation:
    fees: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    prepaid: int = 0
    total: int = 0


# -------------------------------------------------------------------------------- schedule


@lru_cache(maxsize=262_144)
def cumulative_due(curve: Curve, j: int) -> tuple[int, int]:
    return curve.cumulative(j)


def _sub(a: int, b: int) -> int:
    return a - b if a > b else 0


def bucket_of(days: int) -> int:
    """Delinquency bucket of a days-past-due figure: 0 current, 1..4 as the ledger's."""
    if days == 0:
        return 0
    if days <= 30:
        return 1
    if days <= 60:
        return 2
    if days <= 90:
        return 3
    return 4


def due_count(w: LoanState, t: int, offset: int) -> int:
    start = w.segment_start + offset
    if t <= start:
        return w.base_index
    n = (t - start - 1) // w.period
    m = w.installments - w.base_index
    return w.base_index + (n if n < m else m)


def _days_past_due(w: LoanState, c: Curve, t: int) -> int:
    """Whole days, rounded up, since the due date of the oldest installment due before ``t``
    that is not fully paid; installments of zero amount count as paid."""
    d = due_count(w, t, 0)
    if w.paid_count >= d:
        return 0
    settled = paid_through(w, c, d)
    if settled >= d:
        return 0
    due = w.due_date(settled + 1)
    return (t - due + DAY - 1) // DAY


def unpaid_through(w: LoanState, c: Curve, k: int) -> int:
    """Unpaid scheduled principal and interest of installments 1..k (absolute numbers)."""
    cp, ci = cumulative_due(c, k - w.base_index)
    return _sub(cp, w.paid_principal) + _sub(ci, w.paid_interest)


def _accrue(w: LoanState, c: Curve, t: int) -> _Accrual:
    a = _Accrual()
    if w.status is not LoanStatus.ACTIVE:
        return a
    k0 = w.late_count
    k1 = due_count(w, t, w.grace)
    late_unpaid = k0 > w.paid_count
    if not late_unpaid and k1 <= w.paid_count:
        return a
    u0 = unpaid_through(w, c, k0) if late_unpaid else 0
    if u0 != 0 and t > w.last_accrual:
        a.penalty = u0 * w.penalty_apr_bps * (t - w.last_accrual) // RATE_DEN
    if k1 > k0:
        newly_late = unpaid_through(w, c, k1) - u0
        a.late_fee = newly_late * w.late_fee_bps // BPS
        late_since = w.due_date(k1) + w.grace
        if t > late_since:
            a.penalty += newly_late * w.penalty_apr_bps * (t - late_since) // RATE_DEN
        start = k0 if k0 > w.paid_count else w.paid_count
        a.missed = k1 - start if k1 > start else 0
        w.late_count = k1
    w.fees += a.late_fee
    w.penalty += a.penalty
    w.last_accrual = t
    return a


def _owed(w: LoanState, c: Curve, t: int) -> AmountDue:
    if w.status is LoanStatus.CLOSED:
        return AmountDue()
    outstanding = w.base_principal - w.paid_principal
    current_interest = current_principal = next_installment = next_due = remaining = 0
    if w.status is LoanStatus.DEFAULTED:
        dd = due_count(w, w.last_accrual, 0)
        _, cid_default = cumulative_due(c, dd - w.base_index)
        interest = w.carried + _sub(cid_default, w.paid_interest)
        principal = outstanding
    else:
        d = due_count(w, t, 0)
        jd = d - w.base_index
        cpd, cid = cumulative_due(c, jd)
        interest = w.carried + _sub(cid, w.paid_interest)
        principal = _sub(cpd, w.paid_principal)
        if jd < c.count:
            cp1, ci1 = cumulative_due(c, jd + 1)
            current_interest = _sub(ci1, max(w.paid_interest, cid))
            current_principal = _sub(cp1, max(w.paid_principal, cpd))
            next_installment = d + 1
            next_due = w.due_date(d + 1)
        remaining = outstanding - principal - current_principal
    past_due = w.fees + w.penalty + interest + principal
    return AmountDue(
        fees=w.fees,
        penalty=w.penalty,
        interest=interest,
        principal=principal,
        current_interest=current_interest,
        current_principal=current_principal,
        remaining_principal=remaining,
        past_due=past_due,
        payoff=past_due + current_interest + current_principal + remaining,
        days_past_due=_days_past_due(w, c, t),
        next_due_date=next_due,
        next_installment=next_installment,
    )


# ------------------------------------------------------------------------ public evaluation


def amount_due(state: LoanState, timestamp: int) -> AmountDue:
    """What the ledger's ``amountDue(loanId, timestamp)`` returns, computed from ``state``.

    ``timestamp`` must not be before the chain time the state was last written at (the
    ledger refuses past timestamps too). Exact: the same integer arithmetic as the contract.
    """
    w = copy.copy(state)
    c = w.curve()
    _accrue(w, c, timestamp)
    return _owed(w, c, timestamp)


def days_past_due(state: LoanState, timestamp: int) -> int:
    """What the ledger's ``daysPastDue`` view returns at chain time ``timestamp``."""
    if state.status is LoanStatus.CLOSED:
        return 0
    return _days_past_due(state, state.curve(), timestamp)


# ---------------------------------------------------------------------------- replay: calls

_Expected = list[tuple[str, dict[str, int]]]


def _store(w: LoanState) -> None:
    """What ``_store`` does beyond copying: charges saturate at uint96."""
    w.fees = min(w.fees, UINT96_MAX)
    w.penalty = min(w.penalty, UINT96_MAX)


def _charges_event(w: LoanState, a: _Accrual) -> _Expected:
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


def _reset_segment(
    w: LoanState, base_index: int, installments: int, principal: int, start: int
) -> None:
    w.base_index = base_index
    w.installments = installments
    w.base_principal = principal
    w.segment_start = start
    w.paid_principal = 0
    w.paid_interest = 0
    w.paid_count = base_index
    w.late_count = base_index


def _allocate(w: LoanState, q: AmountDue, amount: int) -> _Allocation:
    rest = amount if amount < q.payoff else q.payoff
    al = _Allocation(total=rest)

    def take(owed: int) -> int:
        nonlocal rest
        taken = rest if rest < owed else owed
        rest -= taken
        return taken

    al.fees = take(q.fees)
    al.penalty = take(q.penalty)
    interest_past_due = take(q.interest)
    principal_past_due = take(q.principal)
    interest_current = take(q.current_interest)
    principal_current = take(q.current_principal)
    al.prepaid = rest
    al.interest = interest_past_due + interest_current
    al.principal = principal_past_due + principal_current + rest
    w.fees -= al.fees
    w.penalty -= al.penalty
    from_carried = min(interest_past_due, w.carried)
    w.carried -= from_carried
    w.paid_interest += al.interest - from_carried
    w.paid_principal += principal_past_due + principal_current + rest
    return al


def paid_through(w: LoanState, c: Curve, d: int) -> int:
    lo = w.paid_count - w.base_index
    hi = d - w.base_index
    while lo < hi:
        mid = (lo + hi + 1) // 2
        cp, ci = cumulative_due(c, mid)
        if cp <= w.paid_principal and ci <= w.paid_interest:
            lo = mid
        else:
            hi = mid - 1
    return lo + w.base_index


def _advance(w: LoanState, c: Curve, q: AmountDue, al: _Allocation) -> _Expected:
    d = w.installments if q.next_installment == 0 else q.next_installment - 1
    if al.prepaid != 0:
        outstanding = w.base_principal - w.paid_principal
        _reset_segment(w, d + 1, w.installments, outstanding, w.due_date(d + 1))
        return [
            (
                "ScheduleReset",
                {
                    "baseIndex": d + 1,
                    "installments": w.installments,
                    "basePrincipal": outstanding,
                    "segmentStart": w.segment_start,
                    "aprBps": w.apr_bps,
                    "periodSeconds": w.period,
                },
            )
        ]
    # As the ledger: the quote and the split tell which installments are now settled.
    if al.principal >= q.principal and al.interest >= q.interest:
        count = d
        if (
            q.next_installment != 0
            and al.principal >= q.principal + q.current_principal
            and al.interest >= q.interest + q.current_interest
        ):
            count = d + 1
        if count > w.paid_count:
            w.paid_count = count
    else:
        w.paid_count = paid_through(w, c, d)
    return []


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
    a = _accrue(w, c, t)
    q = _owed(w, c, t)
    al = _allocate(w, q, amount)
    old_bucket = w.bucket
    after_default = w.status is LoanStatus.DEFAULTED
    reset = _advance(w, c, q, al) if w.status is LoanStatus.ACTIVE else []
    dpd = 0
    if w.base_principal == w.paid_principal:
        w.status = LoanStatus.CLOSED
        w.bucket = 0
    else:
        dpd = _days_past_due(w, c, t)
        if w.status is LoanStatus.ACTIVE:
            w.bucket = bucket_of(dpd)
    _store(w)
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
    a = _accrue(w, c, t)
    dpd = _days_past_due(w, c, t)
    old_bucket = w.bucket
    w.bucket = bucket_of(dpd)
    if not a.any() and w.bucket == old_bucket:
        w.__dict__.update(before.__dict__)  # the ledger returns without storing
        return []
    _store(w)
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
    a = _accrue(w, c, t)
    dpd = _days_past_due(w, c, t)
    q = _owed(w, c, t)
    w.status = LoanStatus.DEFAULTED
    w.last_accrual = t
    old_bucket = w.bucket
    w.bucket = bucket_of(dpd)
    _store(w)
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
    a = _accrue(w, c, t)
    d = due_count(w, t, 0)
    _, cid = cumulative_due(c, d - w.base_index)
    outstanding = w.base_principal - w.paid_principal
    if w.paid_interest < cid:
        w.carried += cid - w.paid_interest
    else:
        excess = w.paid_interest - cid
        outstanding -= excess if excess < outstanding else outstanding
    w.apr_bps = apr_bps
    w.period = period
    _reset_segment(w, d, d + installments, outstanding, t)
    old_bucket = w.bucket
    w.bucket = 0
    w.proposal_apr_bps = w.proposal_installments = w.proposal_period = 0
    w.proposal_deadline = 0
    _store(w)
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


@dataclass(frozen=True)
class LedgerEvent:
    """One decoded ledger event of a loan, with the timestamp of its block."""

    name: str
    args: Mapping[str, Any]
    timestamp: int
    block_number: int = 0
    log_index: int = 0
    tx_hash: str = ""


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
        _reset_segment(
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
            d = due_count(state, t, 0)
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


# ------------------------------------------------------------------------- credit records


@dataclass
class CreditRecord:
    """A borrower's record as the registry's ``creditRecord(borrower)`` returns it."""

    borrower: str
    paid_on_time: int = 0
    paid_late: int = 0
    missed: int = 0
    current_days_past_due: int = 0
    max_days_past_due: int = 0
    defaults: int = 0
    loans_opened: int = 0
    loans_closed: int = 0
    total_repaid: int = 0

    def as_view(self) -> dict[str, int]:
        """By the registry struct's field names."""
        return {
            "paidOnTime": self.paid_on_time,
            "paidLate": self.paid_late,
            "missed": self.missed,
            "currentDaysPastDue": self.current_days_past_due,
            "maxDaysPastDue": self.max_days_past_due,
            "defaults": self.defaults,
            "loansOpened": self.loans_opened,
            "loansClosed": self.loans_closed,
            "totalRepaid": self.total_repaid,
        }

    def _set_days_past_due(self, days: int) -> None:
        dpd = min(days, UINT16_MAX)
        self.current_days_past_due = dpd
        self.max_days_past_due = max(self.max_days_past_due, dpd)


def apply_registry_event(record: CreditRecord, name: str, args: Mapping[str, Any]) -> None:
    """Fold one credit-registry event into ``record`` as the registry does (saturating)."""
    if name == "LoanOpenedReported":
        record.loans_opened = min(record.loans_opened + 1, UINT16_MAX)
    elif name == "RepaymentReported":
        record.paid_on_time = min(record.paid_on_time + int(args["paidOnTime"]), UINT24_MAX)
        record.paid_late = min(record.paid_late + int(args["paidLate"]), UINT24_MAX)
        record._set_days_past_due(int(args["daysPastDue"]))
        record.total_repaid = min(record.total_repaid + int(args["amount"]), UINT96_MAX)
    elif name == "LoanClosedReported":
        record.loans_closed = min(record.loans_closed + 1, UINT16_MAX)
    elif name == "DelinquencyReported":
        record.missed = min(record.missed + int(args["missed"]), UINT24_MAX)
        record._set_days_past_due(int(args["daysPastDue"]))
    elif name == "DefaultReported":
        record.defaults = min(record.defaults + 1, UINT16_MAX)
        record._set_days_past_due(int(args["daysPastDue"]))
