"""A loan's accounting with the very integer arithmetic of ``libraries/LoanAccounting.sol``.

Charges brought current (:func:`accrue`), what is owed at a time (:func:`owed`,
:func:`amount_due`), the waterfall of a repayment and the payoff (:func:`allocate`), the
schedule after it (:func:`advance`), a whole repayment (:func:`apply_repayment`), days past due
and the delinquency bucket; the schedule maths come from
:class:`loanservicing.ledger.schedule.Curve`. Every division rounds down as the contract's does.

Two kinds of function. The contract's own (:func:`accrue`, :func:`owed`, :func:`allocate`,
:func:`advance`, :func:`apply_repayment`, :func:`reset_segment`,
:func:`accrued_days_past_due`, :func:`reported_days_past_due`, :func:`default_due`,
:func:`with_amount_due`, :func:`bucket_of`) work on the ledger's working copy ``w`` in place, as
the contract's do on memory, and, as the contract's, the days-past-due ones need ``w`` accrued
at ``t`` first. Those of the last section (:func:`amount_due`, :func:`days_past_due`, ...) take a
stored state and never change it: they evaluate what the ledger's views return.

The private functions keep the contract's names and its short local names, so the two read
side by side. What they mean in the lender's words:

=====================  ==============================================================
name here              meaning
=====================  ==============================================================
``w``                  the loan's working state (the ledger's ``Work``): a LoanState
``c``                  the schedule segment in force (a Curve)
``q``                  the amount due at the time (the ledger's ``AmountDue``)
``a`` / ``al``         the charges just accrued / the split of a repayment
``o``                  what a repayment changed (the ledger's ``Outcome``)
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
``running``            the running period's scheduled interest (``w.runningInterest``,
                       which the contract's ``owed`` sets and ``advance`` reads; here
                       ``_owed`` returns it)
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

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.schedule import BPS, DAY, RATE_DEN, Curve, ScheduleKind
from loanservicing.ledger.state import AmountDue, LoanState, LoanStatus

__all__ = [
    "UINT96_MAX",
    "Accrual",
    "Allocation",
    "Outcome",
    "accrue",
    "accrued_days_past_due",
    "advance",
    "allocate",
    "amount_due",
    "apply_repayment",
    "bucket_of",
    "cumulative_due",
    "days_past_due",
    "default_due",
    "grace_end",
    "installments_due",
    "installments_past_grace",
    "installments_settled",
    "owed",
    "owed_and_running",
    "pause_end",
    "paused",
    "reported_days_past_due",
    "reset_segment",
    "running_installment_due",
    "saturate_charges",
    "unpaid_amount",
    "with_amount_due",
]

UINT96_MAX = 2**96 - 1


@dataclass
class Accrual:
    """Charges one accrual brought current (the ledger's ``Accrual``)."""

    late_fee: int = 0
    penalty: int = 0
    missed: int = 0
    """Installments with an amount due newly counted as missed (past grace, unpaid)."""

    def any(self) -> bool:
        return bool(self.late_fee or self.penalty or self.missed)


@dataclass
class Allocation:
    """How a repayment was split (the ledger's ``Allocation``): by the waterfall below the
    payoff, or the payoff itself."""

    fees: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    prepaid: int = 0
    """Principal paid beyond the installments due and running (a prepayment)."""
    total: int = 0
    rebate: int = 0
    """Interest paid ahead credited back by a payoff (the ledger emits InterestRebated)."""


@dataclass
class Outcome:
    """What a repayment changed, for events and the credit report (the ledger's ``Outcome``)."""

    on_time: int = 0
    late: int = 0
    days_past_due_before: int = 0
    """Days past due at the repayment's time, accrued, before the repayment (the quote's)."""
    days_past_due: int = 0
    old_bucket: int = 0
    after_default: bool = False
    schedule_reset: bool = False
    """:func:`advance` started a new segment (where the ledger emits ScheduleReset)."""


def cumulative_due(curve: Curve, j: int) -> tuple[int, int]:
    """Cumulative (principal, interest) scheduled through installment ``j`` of a segment,
    remembered on the curve (one curve object serves every state with that segment:
    :meth:`LoanState.curve`)."""
    memo = curve.cumulative_memo
    found = memo.get(j)
    if found is None:
        found = memo[j] = curve.cumulative(j)
    return found


def _sub(a: int, b: int) -> int:
    return a - b if a > b else 0


def bucket_of(days: int) -> int:
    """Delinquency bucket of a days-past-due figure (``bucketOf``): 0 current, 1: 1-30,
    2: 31-60, 3: 61-90, 4: over 90."""
    if days == 0:
        return 0
    if days <= 30:
        return 1
    if days <= 60:
        return 2
    if days <= 90:
        return 3
    return 4


# ----------------------------------------------------------- accrual and amounts owed


def accrue(w: LoanState, c: Curve, t: int) -> Accrual:
    """Bring ``w`` current at ``t`` (``accrue``): a prepaid segment whose first period has
    begun loses its advance; installments with nothing due are settled when they fall due;
    on an active loan, late fees and penalty interest are charged. Updates ``w``."""
    a = Accrual()
    if w.advance_pending and t > w.segment_start:
        # The prepaid segment's first period has begun: what was paid ahead is earned.
        w.advance_pending = False
        w.holiday_periods = 0
        w.advance = 0
    if w.status is not LoanStatus.ACTIVE:
        return a
    # Installments with nothing due are settled when they fall due: never a miss, never paid
    # late. Afterwards paid_count is exact for every installment due. (After default the
    # count stays as it was at default.)
    d = _due_count(w, t, 0)
    if d > w.paid_count:
        w.paid_count = _paid_through(w, c, d)
    k0 = w.late_count
    k1 = _past_grace_count(w, t)
    late_unpaid = k0 > w.paid_count
    if not late_unpaid and k1 <= w.paid_count:
        return a
    u0 = _unpaid_through(w, c, k0) if late_unpaid else 0
    if u0 != 0 and t > w.last_accrual:
        # Paused time (forbearance) accrues nothing.
        elapsed = t - w.last_accrual - paused(w, w.last_accrual, t)
        a.penalty = u0 * w.penalty_apr_bps * elapsed // RATE_DEN
    if k1 > k0:
        newly_late = _unpaid_through(w, c, k1) - u0
        a.late_fee = newly_late * w.late_fee_bps // BPS
        # Penalty from the end of its grace period, in unpaused time.
        due = w.due_date(k1)
        late = t - due - paused(w, due, t)
        if late > w.grace:
            a.penalty += newly_late * w.penalty_apr_bps * (late - w.grace) // RATE_DEN
        start = k0 if k0 > w.paid_count else w.paid_count
        a.missed = with_amount_due(w, c, start, k1) if k1 > start else 0
        w.late_count = k1
    w.fees += a.late_fee
    w.penalty += a.penalty
    w.last_accrual = t
    return a


def owed(w: LoanState, c: Curve, t: int) -> AmountDue:
    """What ``w`` owes at ``t`` once :func:`accrue` brought it current (``owed``)."""
    return _owed(w, c, t)[0]


def owed_and_running(w: LoanState, c: Curve, t: int) -> tuple[AmountDue, int]:
    """:func:`owed` and the running period's scheduled interest (``w.runningInterest``)."""
    return _owed(w, c, t)


def _owed(w: LoanState, c: Curve, t: int) -> tuple[AmountDue, int]:
    """:func:`owed` and the running period's scheduled interest (``w.runningInterest``)."""
    if w.status is LoanStatus.CLOSED:
        return AmountDue(), 0
    outstanding = w.base_principal - w.paid_principal
    current_interest = current_principal = next_installment = next_due = remaining = 0
    accrued = rebate = running = 0
    if w.status is LoanStatus.DEFAULTED:
        # Accelerated at default: interest due through the default date, all principal.
        dd = _due_count(w, w.last_accrual, 0)
        _, cid_default = cumulative_due(c, dd - w.base_index)
        interest = w.carried + _sub(cid_default, w.paid_interest)
        principal = outstanding
    else:
        d = _due_count(w, t, 0)
        jd = d - w.base_index
        interest, principal, unpaid_interest, unpaid_principal, scheduled = _installment_parts(
            w, c, jd
        )
        paid_ahead = 0  # paid towards the running period's interest
        period_start = 0
        if jd < c.count:
            next_installment = d + 1
            next_due = w.due_date(d + 1)
        if w.advance_pending:
            # A prepaid segment that has not begun: the running period is the one before it
            # (a payment holiday: its periods), its interest paid in full (a holiday:
            # capitalised); no installment of the segment is running yet.
            running = w.advance
            paid_ahead = w.advance
            period_start = w.due_date_at(-_ahead_periods(w))
        elif jd < c.count:
            current_interest, current_principal = unpaid_interest, unpaid_principal
            running = scheduled
            paid_ahead = running - current_interest
            period_start = w.due_date(d)
        remaining = outstanding - principal - current_principal
        # The loan's first period runs from origination (odd_days: nearer or farther than a
        # period away), the stored last_accrual until the first checkpoint that charges.
        length = w.period_days
        if w.advance_pending:
            length *= _ahead_periods(w)
        if (w.base_index == _ahead_periods(w)) if w.advance_pending else d == 0:
            if w.odd_days > 0 or w.last_accrual > period_start:
                period_start = w.last_accrual
            length += w.odd_days
        # Interest to the day: the running period's interest times the day-count days from
        # its start date to t's date, over its days, rounded down.
        # (No period running: nothing to earn, period_start and running are 0.)
        elapsed = 0 if period_start == 0 else w.days_between(period_start, t)
        earned = running if elapsed >= length else running * elapsed // length
        if earned > paid_ahead:
            accrued = earned - paid_ahead
        else:
            # Credited back at payoff; never more than leaves one unit of principal to pay.
            rebate = min(paid_ahead - earned, outstanding - 1)
    past_due = w.fees + w.penalty + interest + principal
    q = AmountDue(
        fees=w.fees,
        penalty=w.penalty,
        interest=interest,
        principal=principal,
        current_interest=current_interest,
        current_principal=current_principal,
        remaining_principal=remaining,
        past_due=past_due,
        payoff=past_due + accrued + current_principal + remaining - rebate,
        days_past_due=accrued_days_past_due(w, t),
        next_due_date=next_due,
        next_installment=next_installment,
        accrued_interest=accrued,
        interest_rebate=rebate,
    )
    return q, running


def _installment_parts(w: LoanState, c: Curve, jd: int) -> tuple[int, int, int, int, int]:
    """Interest (with what was carried) and principal scheduled through the segment's
    installment ``jd`` and unpaid; then, of the running installment ``jd + 1`` (zeros when
    ``jd`` is the segment's last), its unpaid interest and principal and its scheduled
    interest."""
    cpd, cid = cumulative_due(c, jd)
    interest = w.carried + _sub(cid, w.paid_interest)
    principal = _sub(cpd, w.paid_principal)
    if jd >= c.count:
        return interest, principal, 0, 0, 0
    cp1, ci1 = cumulative_due(c, jd + 1)
    return (
        interest,
        principal,
        _sub(ci1, max(w.paid_interest, cid)),
        _sub(cp1, max(w.paid_principal, cpd)),
        ci1 - cid,
    )


def running_installment_due(state: LoanState, t: int) -> tuple[int, int, int] | None:
    """``(past_due, current_interest, current_principal)`` of ``amount_due(state, t)``
    without accruing or copying the state, for a loan whose accrual at ``t`` would change
    nothing and that owes nothing past due at ``t``: active, every installment due at ``t``
    paid, no late installment unpaid, no prepaid segment waiting, an installment running.
    None otherwise (ask :func:`amount_due`)."""
    w = state
    if w.status is not LoanStatus.ACTIVE or w.advance_pending or w.late_count > w.paid_count:
        return None
    d = _due_count(w, t, 0)
    if w.paid_count < d:
        return None
    c = w.curve()
    jd = d - w.base_index
    if jd >= c.count:
        return None
    interest, principal, current_interest, current_principal, _ = _installment_parts(w, c, jd)
    return w.fees + w.penalty + interest + principal, current_interest, current_principal


# ---------------------------------------------------------------------------- repayment


def allocate(w: LoanState, q: AmountDue, amount: int) -> Allocation:
    """Split ``amount`` (``allocate``): from the payoff up, the payoff itself; below it, the
    waterfall of fees, penalty, interest and principal past due, then the running
    installment, then prepaid principal. Updates ``w``."""
    if amount == 0 or q.payoff == 0:
        raise LedgerCallReverted("ZeroAmount", f"a repayment of {amount} towards {q.payoff}")
    if amount >= q.payoff:
        return _allocate_payoff(w, q)
    rest = amount
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


def _allocate_payoff(w: LoanState, q: AmountDue) -> Allocation:
    """A repayment of the payoff: every charge, past-due amount and the running period's
    interest to the day, then all principal, less the interest paid ahead (the rebate)."""
    al = Allocation(
        fees=q.fees,
        penalty=q.penalty,
        interest=q.interest + q.accrued_interest,
        total=q.payoff,
        rebate=q.interest_rebate,
    )
    al.principal = w.base_principal - w.paid_principal - al.rebate
    w.fees = 0
    w.penalty = 0
    w.paid_interest += al.interest - w.carried
    w.carried = 0
    w.paid_principal = w.base_principal
    return al


def apply_repayment(w: LoanState, amount: int, t: int) -> tuple[Allocation, Accrual, Outcome]:
    """The whole effect of a repayment of up to ``amount`` at ``t`` (``applyRepayment``):
    accrual, allocation, installments settled (on time or late), closing (to an empty
    segment after the installments settled), bucket. Updates
    ``w``; ``Outcome.schedule_reset`` tells where the ledger emits ScheduleReset."""
    c = w.curve()
    a = accrue(w, c, t)
    old_paid_count = w.paid_count
    q, running = _owed(w, c, t)
    al = allocate(w, q, amount)
    o = Outcome(
        days_past_due_before=q.days_past_due,
        old_bucket=w.bucket,
        after_default=w.status is LoanStatus.DEFAULTED,
    )
    if w.status is LoanStatus.ACTIVE:
        assessed_late = w.late_count
        o.schedule_reset = advance(w, c, q, al, running)
        late_end = assessed_late if assessed_late < w.paid_count else w.paid_count
        o.late = late_end - old_paid_count if late_end > old_paid_count else 0
        o.on_time = w.paid_count - old_paid_count - o.late
    if w.base_principal == w.paid_principal:
        # Closed, in one canonical form whatever the path (one payoff, or prepayments and then
        # a payoff): an empty segment after the installments settled.
        reset_segment(w, w.paid_count, w.installments, 0, w.due_date(w.paid_count))
        w.advance_pending = False
        w.holiday_periods = 0
        w.advance = 0
        w.status = LoanStatus.CLOSED
        w.bucket = 0
    else:
        o.days_past_due = accrued_days_past_due(w, t)
        if w.status is LoanStatus.ACTIVE:
            w.bucket = bucket_of(o.days_past_due)
    return al, a, o


def advance(w: LoanState, c: Curve, q: AmountDue, al: Allocation, running: int) -> bool:
    """After a repayment split ``al`` of quote ``q`` on an active loan (``advance``): settle
    the installments now paid; a payoff settles the running one too; a prepayment starts a new
    segment of the rest from the running installment's due date, keeping that period's
    interest (``running``) as the advance. True when it started a segment (ScheduleReset)."""
    d = w.installments if q.next_installment == 0 else q.next_installment - 1
    is_running = not w.advance_pending and q.next_installment != 0
    if w.paid_principal == w.base_principal:
        # Paid off: everything due and the running installment are settled.
        settled = d + 1 if is_running else d
        if settled > w.paid_count:
            w.paid_count = settled
        return False
    if al.prepaid != 0:
        # Re-amortise what is left over the remaining installments from the running
        # installment's due date; before that date further payments change only principal.
        outstanding = w.base_principal - w.paid_principal
        base = d
        if is_running:
            base = d + 1
            w.advance = running
            w.holiday_periods = 0
            w.advance_pending = True
        reset_segment(w, base, w.installments, outstanding, w.due_date(base))
        return True
    # The waterfall pays past-due interest and principal before the current installment,
    # so the quote and the split tell which installments are now settled.
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


# ------------------------------------------------------ schedule positions and delinquency


def _unpaid_through(w: LoanState, c: Curve, k: int) -> int:
    cp, ci = cumulative_due(c, k - w.base_index)
    return _sub(cp, w.paid_principal) + _sub(ci, w.paid_interest)


def _due_count(w: LoanState, t: int, offset: int) -> int:
    return w.due_count(t, offset)


def _ahead_periods(w: LoanState) -> int:
    """While the advance is pending: the periods it covers (``_aheadPeriods``)."""
    return w.holiday_periods or 1


def paused(w: LoanState, a: int, b: int) -> int:
    """Seconds of ``(a, b]`` inside the forbearance window (``paused``; 0 without one)."""
    if w.pause_to == 0:
        return 0
    lo = max(a, cal.day_end(w.pause_from - 1, w.offset_seconds))
    hi = min(b, pause_end(w))
    return hi - lo if hi > lo else 0


def pause_end(w: LoanState) -> int:
    """The last second of the forbearance window's last date (``pauseEnd``)."""
    return cal.day_end(w.pause_to, w.offset_seconds)


def grace_end(w: LoanState, number: int) -> int:
    """The last second of installment ``number``'s (absolute) grace period, as
    :func:`_past_grace_count` reads it (``graceEnd``): the grace after its due date, later by
    the paused time when the forbearance starts before then, and at the latest the grace
    after the forbearance's end."""
    e = w.due_date(number) + w.grace
    if w.pause_to == 0:
        return e
    lo = cal.day_end(w.pause_from - 1, w.offset_seconds)
    if e < lo:
        return e  # late before the window's first second
    hi = pause_end(w) + w.grace
    shifted = e + (hi - w.grace - lo)
    return shifted if shifted < hi else max(e, hi)


def _past_grace_count(w: LoanState, t: int) -> int:
    """Installments past their grace period at ``t`` in unpaused time (``pastGraceCount``):
    as without a forbearance before it and once its end is more than the grace behind; while
    it runs, as at its start; in between, as ``t`` less the paused time."""
    if w.pause_to == 0 or t > pause_end(w) + w.grace:
        return _due_count(w, t, w.grace)
    return _due_count(w, t - paused(w, 0, t), w.grace)


def accrued_days_past_due(w: LoanState, t: int) -> int:
    """Days past due at ``t`` of ``w`` accrued at ``t`` (``daysPastDue``): whole days, rounded
    up, since the due date of the oldest installment due before ``t`` not fully paid, paused
    time (forbearance) not counted."""
    d = _due_count(w, t, 0)
    if w.paid_count >= d:
        return 0
    due = w.due_date(w.paid_count + 1)
    return (t - due - paused(w, due, t) + DAY - 1) // DAY


def reported_days_past_due(w: LoanState, t: int) -> int:
    """Days past due as the credit registry is told (``reportedDaysPastDue``): 0 while the
    oldest unpaid installment is inside its grace period. ``w`` accrued at ``t``."""
    if _past_grace_count(w, t) <= w.paid_count:
        return 0
    return accrued_days_past_due(w, t)


def default_due(w: LoanState, t: int) -> bool:
    """Whether ``w`` (accrued at ``t``) may be declared in default at ``t``
    (``defaultDue``): days past due at the threshold and the oldest unpaid installment past
    its grace period."""
    return accrued_days_past_due(w, t) >= w.default_after_days and (
        reported_days_past_due(w, t) != 0
    )


def with_amount_due(w: LoanState, c: Curve, start: int, end: int) -> int:
    """Installments in ``(start, end]`` (absolute numbers) with an amount scheduled
    (``withAmountDue``): all of an interest-bearing schedule; of an interest-free one, those
    with a principal part."""
    if c.rate_num != 0:
        return end - start
    a = start - w.base_index
    b = end - w.base_index
    m = c.count
    if c.kind is ScheduleKind.BULLET:
        return 1 if b >= m and a < m else 0
    if c.principal >= m:
        return b - a
    return c.principal * b // m - c.principal * a // m


def saturate_charges(w: LoanState) -> None:
    """What ``store`` does beyond copying: charges saturate at uint96."""
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
    """What the ledger's ``daysPastDue`` view returns at chain time ``timestamp`` (it
    accrues first, so installments with nothing due count as paid)."""
    if state.status is LoanStatus.CLOSED or state.paid_count >= _due_count(state, timestamp, 0):
        return 0  # nothing past due (accruing only settles more)
    w = copy.copy(state)
    accrue(w, w.curve(), timestamp)
    return accrued_days_past_due(w, timestamp)


def installments_due(state: LoanState, timestamp: int) -> int:
    """The number of the last installment whose due date is before ``timestamp``."""
    return _due_count(state, timestamp, 0)


def installments_past_grace(state: LoanState, timestamp: int) -> int:
    """The number of the last installment whose grace period ended before ``timestamp`` (in
    unpaused time: see ``pastGraceCount``)."""
    return _past_grace_count(state, timestamp)


def installments_settled(state: LoanState, through: int) -> int:
    """The number of the last installment, up to ``through``, paid in full (installments of
    the segment in force, counted from the loan's first)."""
    return _paid_through(state, state.curve(), through)


def unpaid_amount(state: LoanState, through: int) -> int:
    """Unpaid scheduled principal and interest of installments 1..``through``."""
    return _unpaid_through(state, state.curve(), through)
