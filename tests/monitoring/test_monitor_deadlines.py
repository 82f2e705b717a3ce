"""A loan's next deadline never comes late: from any evaluation until just before it, the
loan's time-driven notices are among those at the evaluation and its bucket is the same."""

from __future__ import annotations

import copy
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from loanservicing.ledger.accounting import (
    amount_due,
    installments_due,
    paused,
    running_installment_due,
)
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.relief import forbear
from loanservicing.ledger.repayments import repay
from loanservicing.ledger.replay import originate
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus
from loanservicing.monitoring.deadlines import days_past_due_from, loan_deadline
from loanservicing.monitoring.notices import Notice
from loanservicing.monitoring.time_notices import evaluate_loan
from tests.support.monitoring import START, random_terms


def _ids(s: LoanState, t: int, window: int, before: int) -> tuple[set[str], int]:
    out: list[Notice] = []
    bucket, _ = evaluate_loan(s, t, 1, 6, window, before, out)
    return {n.id for n in out}, bucket


def _loan(rng: random.Random) -> LoanState:
    args = {"loanId": 1, "borrower": "0xB", "lender": "0xL", "terms": random_terms(rng, START)}
    s = originate(LedgerEvent("LoanOriginated", args, START))
    t = START
    for _ in range(rng.randrange(6)):
        t += rng.randrange(DAY, 20 * DAY)
        w = copy.copy(s)
        try:
            q = amount_due(w, t)
            on_time = q.past_due + q.current_interest + q.current_principal
            if rng.random() < 0.5 and on_time > 0:
                repay(w, on_time, t)  # keeps the loan current
            elif rng.random() < 0.7:
                repay(w, max(1, q.payoff * rng.randrange(1, 80) // 100), t)
            else:
                day = (t + w.offset_seconds) // DAY
                start = day + rng.randrange(10)
                forbear(w, t, start, start + rng.randrange(40))
        except LedgerCallReverted:
            continue
        s = w
    s.last_accrual = max(s.last_accrual, t)
    return s


@settings(max_examples=500, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), reminder=st.sampled_from([1, 3, 10]))
def test_nothing_new_before_the_next_deadline(seed: int, reminder: int) -> None:
    rng = random.Random(seed)
    s = _loan(rng)
    window = reminder * DAY
    now = s.last_accrual + rng.choice((0, rng.randrange(0, 10 * DAY), rng.randrange(0, 120 * DAY)))
    for _ in range(6):
        if s.status is not LoanStatus.ACTIVE:
            return
        ids, bucket = _ids(s, now, window, 0)
        ids, bucket = _ids(s, now, window, bucket)  # as stored after the evaluation
        deadline = loan_deadline(s, now, window)
        if deadline is None:
            probes = [now + 400 * DAY]
        else:
            assert deadline > now
            span = deadline - now
            probes = [now + 1, deadline - 1, *(now + rng.randrange(1, span + 1) for _ in range(4))]
        for t in probes:
            if t < deadline if deadline is not None else True:
                later, later_bucket = _ids(s, t, window, bucket)
                assert later <= ids, (t - now, later - ids)
                assert later_bucket == bucket
        if deadline is None:
            return
        now = deadline


def test_days_past_due_from_skips_the_paused_days() -> None:
    rng = random.Random(3)
    for _ in range(200):
        s = _loan(rng)
        if s.status is not LoanStatus.ACTIVE or s.pause_to == 0:
            continue
        due = s.due_date(s.paid_count + 1)
        for days in (1, 31, 91):
            t = days_past_due_from(s, due, days)
            assert t - due - paused(s, due, t) > (days - 1) * DAY
            assert t - 1 - due - paused(s, due, t - 1) <= (days - 1) * DAY


def test_forbearance_moves_the_next_bucket_boundary_by_the_paused_days() -> None:
    terms = random_terms(random.Random(1), START)
    # Long periods, no grace: after the overdue notice the next event is the 31-day boundary.
    terms.update(periodSeconds=120 * DAY, periodMonths=0, gracePeriodSeconds=0)
    terms.update(defaultAfterDays=120, utcOffsetMinutes=0)
    args = {"loanId": 1, "borrower": "0xB", "lender": "0xL", "terms": terms}
    s = originate(LedgerEvent("LoanOriginated", args, START))
    due = s.due_date(1)
    now = due + DAY + 1  # 2 days past due (rounded up): bucket 1-30, next boundary 31 days
    assert amount_due(s, now).days_past_due == 2
    window = 3 * DAY
    before = loan_deadline(s, now, window)
    w = copy.copy(s)
    today = (now + w.offset_seconds) // DAY
    forbear(w, now, today, today + 9)  # ten dates paused
    after = loan_deadline(w, now, window)
    assert before is not None and after is not None
    assert before == days_past_due_from(s, due, 31)
    assert after == days_past_due_from(w, due, 31) > before
    assert after - before == paused(w, due, after)
    assert amount_due(w, after - 1).days_past_due == 30 and amount_due(w, after).days_past_due == 31


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_running_installments_amounts_without_amount_due_are_amount_dues(seed: int) -> None:
    """The monitor's cheap path for a reminder (``running_installment_due``) gives what
    ``amount_due`` gives, whenever it answers, at any time after the state was written."""
    rng = random.Random(seed)
    s = _loan(rng)
    answered = 0
    for _ in range(12):
        t = s.last_accrual + rng.choice((0, rng.randrange(DAY), rng.randrange(200 * DAY)))
        running = running_installment_due(s, t)
        if running is None:
            continue
        answered += 1
        q = amount_due(s, t)
        assert running == (q.past_due, q.current_interest, q.current_principal)
        assert q.days_past_due == 0
        d = installments_due(s, t)
        assert (q.next_installment, q.next_due_date) == (d + 1, s.due_date(d + 1))
    if s.status is LoanStatus.ACTIVE and not s.advance_pending:
        # The state's own time: every installment due then is paid, or it answers None.
        assert running_installment_due(s, s.last_accrual) is not None or (
            s.paid_count < installments_due(s, s.last_accrual)
            or s.late_count > s.paid_count
            or installments_due(s, s.last_accrual) >= s.installments
        )


def test_a_reminder_from_the_cheap_path_equals_the_one_from_amount_due() -> None:
    """A current loan's reminder: the same notice as the evaluation through ``amount_due``
    (the loan's stored bucket is 0, so the evaluation takes the cheap path)."""
    rng = random.Random(11)
    seen = 0
    for _ in range(300):
        s = _loan(rng)
        if s.status is not LoanStatus.ACTIVE:
            continue
        for k in range(s.paid_count + 1, s.installments + 1):
            t = s.due_date(k) - DAY
            if t < s.last_accrual or running_installment_due(s, t) is None:
                continue
            out: list[Notice] = []
            evaluate_loan(s, t, 7, 6, 3 * DAY, 0, out)
            q = amount_due(s, t)
            current = q.current_interest + q.current_principal
            expected = [
                Notice(
                    f"reminder:{s.loan_id}:{q.next_installment}:{q.next_due_date}",
                    "reminder",
                    s.loan_id,
                    s.borrower,
                    0,
                    q.past_due + current,
                    6,
                    q.next_due_date,
                    t,
                    7,
                    {
                        "installment": q.next_installment,
                        "current_interest": q.current_interest,
                        "current_principal": q.current_principal,
                        "past_due": q.past_due,
                    },
                )
            ]
            assert out == (expected if current > 0 else [])
            seen += 1
            break
    assert seen > 50
