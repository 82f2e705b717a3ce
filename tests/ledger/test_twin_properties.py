"""Properties of the ledger twin over random loans and histories, without a chain.

(a) A repayment's outcome does not depend on how it is split: paying ``a + b`` at once and ``a``
then ``b`` in the same second leave the same state and the same amounts due, whatever ``a``
and ``b`` (one unit, an installment, the exact payoff, more).
(b) On its origination second a loan owes its principal and no interest.
(c) An interest-free or a bullet loan paid on time records no miss and no late payment, even
for its installments with nothing due.
(d) A repayment tells the days past due it was paid at: what the ledger's ``daysPastDue``
returned just before it (the index stores it with the payment).

(The twin against the real ledger is tested in tests/indexing and tests/contracts.)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import amount_due, days_past_due
from loanservicing.ledger.call_effects import CallEffects
from loanservicing.ledger.defaults import declare_default
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.repayments import assess, repay
from loanservicing.ledger.replay import originate
from loanservicing.ledger.restructuring import accept_restructure, propose_restructure
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus

T0 = 1_800_000_000


@dataclass(frozen=True)
class Terms:
    kind: ScheduleKind
    principal: int
    installments: int
    apr_bps: int
    period: int
    grace: int
    late_fee_bps: int
    penalty_apr_bps: int
    default_after_days: int
    first_due_days: int
    """Days from the origination date to the first due date (1 to two periods)."""
    months: int = 0
    day_count: int = 0
    utc_offset: int = 0
    interest_only: int = 0
    rounding_exp: int = 0

    @property
    def regular_days(self) -> int:
        return 30 * self.months if self.months else self.period // DAY


@st.composite
def _calendar_terms(
    draw: st.DrawFn, kinds: list[ScheduleKind], aprs: st.SearchStrategy[int]
) -> Terms:
    """Terms over every frequency and convention: periods of days under actual/365 or
    actual/360, calendar months under 30/360, any UTC offset, interest-only installments,
    rounding, and a first due date from one day to two periods away."""
    kind = draw(st.sampled_from(kinds))
    months = draw(st.sampled_from([0, 0, 1, 3, 12]))
    period = 0 if months else draw(st.sampled_from([DAY, 7 * DAY, 30 * DAY, 91 * DAY]))
    day_count = 2 if months else draw(st.sampled_from([0, 1]))
    installments = draw(st.integers(1, 24))
    regular = 30 * months if months else period // DAY
    # A calendar month is 28 to 31 days: two of them are at least 56 days away.
    latest = 56 * months if months else 2 * regular
    return Terms(
        kind=kind,
        principal=draw(st.one_of(st.integers(1, 1_000), st.integers(10**6, 10**15))),
        installments=installments,
        apr_bps=draw(aprs),
        period=period,
        grace=draw(st.sampled_from([0, 1, 3 * DAY, 10 * DAY])),
        late_fee_bps=draw(st.sampled_from([0, 250, 2_500])),
        penalty_apr_bps=draw(st.sampled_from([0, 600, 10_000])),
        default_after_days=draw(st.sampled_from([1, 30, 90])),
        first_due_days=draw(st.one_of(st.just(regular), st.integers(1, latest))),
        months=months,
        day_count=day_count,
        utc_offset=draw(st.sampled_from([0, 0, -300, 480, 840, -720])),
        interest_only=(
            0 if kind is ScheduleKind.BULLET else draw(st.integers(0, installments - 1))
        ),
        rounding_exp=draw(st.sampled_from([0, 0, 2, 4])),
    )


def _terms(kinds: list[ScheduleKind], aprs: st.SearchStrategy[int]) -> st.SearchStrategy[Terms]:
    return _calendar_terms(kinds, aprs)


ANY_TERMS = _terms(list(ScheduleKind), st.sampled_from([0, 1, 500, 1200, 3600, 10_000]))


def _originate(terms: Terms, at: int = T0) -> LoanState:
    offset = terms.utc_offset * 60
    first_due = cal.day_end(cal.local_day(at, offset) + terms.first_due_days, offset)
    args = {
        "borrower": "0xB",
        "token": "0xT",
        "principal": terms.principal,
        "aprBps": terms.apr_bps,
        "installments": terms.installments,
        "periodSeconds": terms.period,
        "firstDueDate": first_due,
        "kind": int(terms.kind),
        "gracePeriodSeconds": terms.grace,
        "lateFeeBps": terms.late_fee_bps,
        "penaltyAprBps": terms.penalty_apr_bps,
        "defaultAfterDays": terms.default_after_days,
        "periodMonths": terms.months,
        "dayCount": terms.day_count,
        "utcOffsetMinutes": terms.utc_offset,
        "interestOnly": terms.interest_only,
        "roundingExp": terms.rounding_exp,
    }
    event = {"loanId": 1, "borrower": "0xB", "lender": "0xL", "terms": args}
    return originate(LedgerEvent("LoanOriginated", event, at))


ACTION = st.tuples(
    st.integers(0, 60 * DAY),  # wait before acting
    st.sampled_from(["repay", "installment", "assess", "default", "restructure"]),
    st.integers(1, 12_000),  # repay: basis points of the payoff; restructure: the terms
)


def _history(state: LoanState, actions: list[tuple[int, str, int]]) -> int:
    """Run ``actions`` on ``state`` through the twin's calls; the time of the last."""
    t = T0
    for wait, action, bps in actions:
        t += wait
        if state.status is LoanStatus.CLOSED:
            break
        q = amount_due(state, t)
        try:
            if action == "repay":
                repay(state, max(1, q.payoff * bps // 10_000), t)
            elif action == "installment":
                due = q.past_due + q.current_interest + q.current_principal
                if due:
                    repay(state, due, t)
            elif action == "assess":
                assess(state, t)
            elif action == "default":
                declare_default(state, t)
            else:
                terms = (bps % 3_000, 1 + bps % 12, (1 + bps % 40) * DAY, t + 10 * DAY)
                propose_restructure(state, *terms)
                accept_restructure(state, t, *terms)
        except LedgerCallReverted:
            pass  # the ledger refuses this one (not active, not due, nothing to restructure)
    return t


def _amount(spec: str, bps: int, state: LoanState, t: int) -> int:
    q = amount_due(state, t)
    installment = q.past_due + q.current_interest + q.current_principal
    return max(
        1,
        {
            "one": 1,
            "payoff": q.payoff,
            "payoff-1": q.payoff - 1,
            "payoff+1": q.payoff + 1,
            "installment": installment,
            "installment+1": installment + 1,
            "share": q.payoff * bps // 10_000,
        }[spec],
    )


SPLIT = st.tuples(
    st.sampled_from(
        ["one", "payoff", "payoff-1", "payoff+1", "installment", "installment+1", "share"]
    ),
    st.integers(1, 20_000),
)


def _paid(state: LoanState, amount: int, t: int) -> CallEffects | None:
    """``repay`` of ``amount`` at ``t``; None when the ledger refuses it (a closed loan)."""
    try:
        return repay(state, amount, t)
    except LedgerCallReverted as exc:
        assert exc.error_name == "LoanNotActive" and state.status is LoanStatus.CLOSED
        return None


@settings(max_examples=400, deadline=None)
@given(
    terms=ANY_TERMS,
    actions=st.lists(ACTION, max_size=6),
    wait=st.integers(0, 40 * DAY),
    first=SPLIT,
    second=SPLIT,
)
def test_paying_a_plus_b_equals_paying_a_then_b(
    terms: Terms,
    actions: list[tuple[int, str, int]],
    wait: int,
    first: tuple[str, int],
    second: tuple[str, int],
) -> None:
    state = _originate(terms)
    t = _history(state, actions) + wait
    if state.status is LoanStatus.CLOSED:
        return
    recovery = state.status is LoanStatus.DEFAULTED
    a, b = _amount(*first, state, t), _amount(*second, state, t)
    at_once, in_two = copy.deepcopy(state), copy.deepcopy(state)
    before = days_past_due(state, t)
    paid = _paid(at_once, a + b, t)
    assert paid is not None and paid.days_past_due == before  # (d)
    assert _paid(in_two, a, t) is not None
    _paid(in_two, b, t)  # refused when ``a`` closed the loan: it pulled the whole payoff
    for later in (t, t + 1, t + DAY, t + terms.period + 1, t + 400 * DAY):
        assert amount_due(in_two, later) == amount_due(at_once, later)
    if not recovery:
        assert in_two == at_once
        return
    # A recovery after default settles no installment when it is paid (the ledger's advance
    # runs for active loans only): the next call's accrual does. So the split shows in the
    # installments counted paid (for a closed loan, in its canonical empty segment too), and
    # nowhere else: the ledger leaves the same difference.
    settlement = {"paid_count", "late_count", "base_index", "segment_start"}
    mine, theirs = in_two.to_dict(), at_once.to_dict()
    assert {k for k in mine if mine[k] != theirs[k]} <= settlement
    assert in_two.paid_count >= at_once.paid_count


@settings(max_examples=300, deadline=None)
@given(terms=ANY_TERMS, later=st.integers(0, DAY - 1))
def test_the_payoff_on_the_origination_date_has_no_interest(terms: Terms, later: int) -> None:
    """Whatever the terms and the first due date, a payoff on the origination date pays no
    interest: interest to the day counts the days from the origination date."""
    state = _originate(terms)
    offset = terms.utc_offset * 60
    t = min(T0 + later, cal.day_end(cal.local_day(T0, offset), offset))
    q = amount_due(state, t)
    assert q.payoff == terms.principal
    assert (q.accrued_interest, q.interest_rebate, q.interest, q.past_due) == (0, 0, 0, 0)
    assert repay(copy.deepcopy(state), q.payoff, t).events[0][1]["interest"] == 0


FREE_OR_BULLET = st.one_of(
    _terms(list(ScheduleKind), st.just(0)),
    _terms([ScheduleKind.BULLET], st.sampled_from([1, 500, 1200, 3600, 10_000])),
)


@settings(max_examples=300, deadline=None)
@given(
    terms=FREE_OR_BULLET,
    early=st.lists(st.integers(0, 10**6), min_size=24, max_size=24),
    keeper=st.lists(st.integers(0, 10**6), min_size=24, max_size=24),
)
def test_interest_free_and_bullet_loans_paid_on_time_record_no_miss_and_no_lateness(
    terms: Terms, early: list[int], keeper: list[int]
) -> None:
    """Each installment that schedules anything paid in its own period (at a random time up to
    its due date), a keeper assessing at random times before the next one falls due (past the
    grace periods of those with nothing due too)."""
    state = _originate(terms)
    effects: list[CallEffects] = []
    now = T0
    for n in range(1, terms.installments + 1):
        due_date = state.due_date(n)  # paying what is due never starts a new segment
        opens = max(now, state.due_date(n - 1) + 1 if n > 1 else now)
        t = due_date - early[n - 1] * (due_date - opens) // 10**6
        q = amount_due(state, t)
        assert q.past_due == 0  # nothing was ever late
        amount = q.current_interest + q.current_principal
        if amount:
            effects.append(repay(state, amount, t))
        if state.status is LoanStatus.CLOSED:
            break
        nxt = state.due_date(n + 1) if n < terms.installments else due_date + 31 * DAY
        now = t + keeper[n - 1] * (nxt - t) // 10**6
        effects.append(assess(state, now))
    reports = [args for e in effects for _, args in e.reports]
    events = [name for e in effects for name, _ in e.events]
    assert "ChargesAccrued" not in events and "DelinquencyBucketChanged" not in events
    assert all(r.get("missed", 0) == 0 and r.get("paidLate", 0) == 0 for r in reports)
    assert all(r.get("daysPastDue", 0) == 0 for r in reports)
    # Closed by its last installment, or earlier when an installment reached the payoff (the
    # interest to the day of a running period can be less than the installment's).
    assert state.status is LoanStatus.CLOSED
    assert state.total_paid <= sum(_scheduled(terms))


def _scheduled(terms: Terms) -> list[int]:
    """Every installment's principal and interest as scheduled at origination."""
    curve = _originate(terms).curve()
    return [sum(curve.part(j)) for j in range(1, terms.installments + 1)]


def test_an_early_installment_of_a_bullet_is_not_a_prepayment() -> None:
    """A unit example of (c): a 0% bullet's first installments schedule nothing; when they
    fall due the ledger settles them (no miss) and the last is paid on time."""
    terms = Terms(ScheduleKind.BULLET, 900, 3, 0, 30 * DAY, 0, 500, 600, 30, 30)
    state = _originate(terms)
    # Settling them alone is not stored (the ledger changes no loan without an event).
    assert assess(state, T0 + 61 * DAY).events == []
    assert state.paid_count == 0 and state.late_count == 0
    q = amount_due(state, T0 + 90 * DAY)
    assert (q.current_principal, q.payoff) == (900, 900)
    effects = repay(state, 900, T0 + 90 * DAY)
    assert effects.reports == [
        (
            "reportRepayment",
            {"loanId": 1, "paidOnTime": 1, "paidLate": 0, "amount": 900, "closed": 1},
        )
    ]
    assert state.status is LoanStatus.CLOSED and state.paid_count == 3
