"""A loan's accounting with the very integer arithmetic of ``libraries/LoanAccounting.sol``.

Charges brought current (:func:`accrue`), what is owed at a time (:func:`owed`,
:func:`amount_due`), the waterfall of a repayment (:func:`allocate`), the schedule after it
(:func:`advance`) and days past due; the schedule maths come from
:class:`loanservicing.ledger.schedule.Curve`. Every division rounds down as the contract's does.

The private functions keep the contract's names and its short local names, so the two read
side by side. What they mean in the lender's words:

=====================  ==============================================================
name here              meaning
=====================  ==============================================================
``w``                  the loan's working state (the ledger's ``Work``): a LoanState
``c``                  the schedule segment in force (a Curve)
``q``                  the amount due at the time (the ledger's ``AmountDue``)
``a`` / ``al``         the charges just accrued / the split of a repayment
``t``                  the chain time of the call
``k0``                 installments already assessed late (``installmentsAssessedLate``)
``k1``                 installments now past their grace period
``d``                  installments whose due date is before ``t``
``j``, ``jd``          an installment number within the segment (``d - baseIndex``)
``cp``, ``ci``         cumulative principal / interest due through an installment
``cpd``, ``cid``       cumulative principal / interest due through installment ``d``
``cp1``, ``ci1``       the same through the installment now running (``d + 1``)
``u0``                 unpaid principal and interest of the installments assessed late
``dd``                 installments due when the loan was declared in default
``_due_count``         installments due at ``t`` (public: :func:`installments_due`,
                       :func:`installments_past_grace`)
``_paid_through``      the last installment fully paid (public: :func:`installments_settled`)
``_unpaid_through``    unpaid principal and interest of installments 1..k (public:
                       :func:`unpaid_amount`)
=====================  ==============================================================
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache

from loanservicing.ledger.schedule import BPS, DAY, RATE_DEN, Curve
from loanservicing.ledger.state import AmountDue, LoanState, LoanStatus

__all__ = [
    "UINT96_MAX",
    "Accrual",
    "Allocation",
    "accrue",
    "advance",
    "allocate",
    "amount_due",
    "cumulative_due",
    "days_past_due",
    "installments_due",
    "installments_past_grace",
    "installments_settled",
    "owed",
    "reset_segment",
    "saturate_charges",
    "unpaid_amount",
]

UINT96_MAX = 2**96 - 1


@dataclass
class Accrual:
    """Charges one accrual brought current (the ledger's ``Accrual``)."""

    late_fee: int = 0
    penalty: int = 0
    missed: int = 0
    """Installments newly counted as missed (past grace, unpaid)."""

    def any(self) -> bool:
        return bool(self.late_fee or self.penalty or self.missed)


@dataclass
class Allocation:
    """How a repayment was split by the waterfall (the ledger's ``Allocation``)."""

    fees: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    prepaid: int = 0
    """Principal paid beyond the installments due and running (a prepayment)."""
    total: int = 0


@lru_cache(maxsize=262_144)
def cumulative_due(curve: Curve, j: int) -> tuple[int, int]:
    """Cumulative (principal, interest) scheduled through installment ``j`` of a segment."""
    return curve.cumulative(j)


def _sub(a: int, b: int) -> int:
    return a - b if a > b else 0


# ------------------------------------------------------------------- the contract's internals


def _due_count(w: LoanState, t: int, offset: int) -> int:
    start = w.segment_start + offset
    if t <= start:
        return w.base_index
    n = (t - start - 1) // w.period
    m = w.installments - w.base_index
    return w.base_index + (n if n < m else m)


def _paid_through(w: LoanState, c: Curve, d: int) -> int:
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


def _unpaid_through(w: LoanState, c: Curve, k: int) -> int:
    cp, ci = cumulative_due(c, k - w.base_index)
    return _sub(cp, w.paid_principal) + _sub(ci, w.paid_interest)


def _days_past_due(w: LoanState, c: Curve, t: int) -> int:
    """Whole days, rounded up, since the due date of the oldest installment due before ``t``
    that is not fully paid; installments of zero amount count as paid."""
    d = _due_count(w, t, 0)
    if w.paid_count >= d:
        return 0
    settled = _paid_through(w, c, d)
    if settled >= d:
        return 0
    due = w.due_date(settled + 1)
    return (t - due + DAY - 1) // DAY


def accrue(w: LoanState, c: Curve, t: int) -> Accrual:
    """Bring late fees and penalty interest current at ``t`` (``_accrue``); updates ``w``."""
    a = Accrual()
    if w.status is not LoanStatus.ACTIVE:
        return a
    k0 = w.late_count
    k1 = _due_count(w, t, w.grace)
    late_unpaid = k0 > w.paid_count
    if not late_unpaid and k1 <= w.paid_count:
        return a
    u0 = _unpaid_through(w, c, k0) if late_unpaid else 0
    if u0 != 0 and t > w.last_accrual:
        a.penalty = u0 * w.penalty_apr_bps * (t - w.last_accrual) // RATE_DEN
    if k1 > k0:
        newly_late = _unpaid_through(w, c, k1) - u0
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


def owed(w: LoanState, c: Curve, t: int) -> AmountDue:
    """What ``w`` owes at ``t`` once its charges are current (``_owed``)."""
    if w.status is LoanStatus.CLOSED:
        return AmountDue()
    outstanding = w.base_principal - w.paid_principal
    current_interest = current_principal = next_installment = next_due = remaining = 0
    if w.status is LoanStatus.DEFAULTED:
        dd = _due_count(w, w.last_accrual, 0)
        _, cid_default = cumulative_due(c, dd - w.base_index)
        interest = w.carried + _sub(cid_default, w.paid_interest)
        principal = outstanding
    else:
        d = _due_count(w, t, 0)
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


def allocate(w: LoanState, q: AmountDue, amount: int) -> Allocation:
    """Split ``amount`` by the waterfall: fees, penalty, interest and principal past due,
    then the running installment, then prepaid principal (``_allocate``); updates ``w``."""
    rest = amount if amount < q.payoff else q.payoff
    al = Allocation(total=rest)

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


def reset_segment(
    w: LoanState, base_index: int, installments: int, principal: int, start: int
) -> None:
    """Start a new schedule segment after installment ``base_index`` (``resetSegment``)."""
    w.base_index = base_index
    w.installments = installments
    w.base_principal = principal
    w.segment_start = start
    w.paid_principal = 0
    w.paid_interest = 0
    w.paid_count = base_index
    w.late_count = base_index


def advance(w: LoanState, c: Curve, q: AmountDue, al: Allocation) -> bool:
    """After a repayment split ``al`` of quote ``q``: count the installments now settled, or,
    for a prepayment, start a new segment of the rest (``_advance``). True when it reset the
    segment (the ledger then emits ScheduleReset)."""
    d = w.installments if q.next_installment == 0 else q.next_installment - 1
    if al.prepaid != 0:
        outstanding = w.base_principal - w.paid_principal
        reset_segment(w, d + 1, w.installments, outstanding, w.due_date(d + 1))
        return True
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
        w.paid_count = _paid_through(w, c, d)
    return False


def saturate_charges(w: LoanState) -> None:
    """What ``_store`` does beyond copying: charges saturate at uint96."""
    w.fees = min(w.fees, UINT96_MAX)
    w.penalty = min(w.penalty, UINT96_MAX)


# ------------------------------------------------------------------------ public evaluation


def amount_due(state: LoanState, timestamp: int) -> AmountDue:
    """What the ledger's ``amountDue(loanId, timestamp)`` returns, computed from ``state``.

    ``timestamp`` must not be before the chain time the state was last written at (the
    ledger refuses past timestamps too). Exact: the same integer arithmetic as the contract.
    """
    w = copy.copy(state)
    c = w.curve()
    accrue(w, c, timestamp)
    return owed(w, c, timestamp)


def days_past_due(state: LoanState, timestamp: int) -> int:
    """What the ledger's ``daysPastDue`` view returns at chain time ``timestamp``."""
    if state.status is LoanStatus.CLOSED:
        return 0
    return _days_past_due(state, state.curve(), timestamp)


def installments_due(state: LoanState, timestamp: int) -> int:
    """The number of the last installment whose due date is before ``timestamp``."""
    return _due_count(state, timestamp, 0)


def installments_past_grace(state: LoanState, timestamp: int) -> int:
    """The number of the last installment whose grace period ended before ``timestamp``."""
    return _due_count(state, timestamp, state.grace)


def installments_settled(state: LoanState, through: int) -> int:
    """The number of the last installment, up to ``through``, paid in full (installments of
    the segment in force, counted from the loan's first)."""
    return _paid_through(state, state.curve(), through)


def unpaid_amount(state: LoanState, through: int) -> int:
    """Unpaid scheduled principal and interest of installments 1..``through``."""
    return _unpaid_through(state, state.curve(), through)
