"""Property tests of the servicing state machine on a real Anvil: random histories (partial,
exact, late, prepayments, over-payments, keeper assessments, defaults, restructurings) against
the ledger's own quotes and the money actually moved, with the Python twin of the ledger
(loanservicing.ledger.replay) driven call for call beside it: after every call its state
equals the ``loan()`` view, its amounts due equal ``amountDue``, its events and credit reports
are the chain's, and it refuses what the ledger refuses."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.types import TxReceipt

from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import revert, snapshot
from loanservicing.ledger import calendar as cal
from loanservicing.ledger import defaults, relief, repayments, restructuring
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.call_effects import CallEffects
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import AmountDue, LoanState
from tests.support.ledger_driver import DAY, LedgerDriver

SCALE = 10**12  # the 6-decimal token's amounts in the registry's 18-decimal units

ACTIONS = st.lists(
    st.tuples(
        st.integers(0, 45 * DAY),  # time to wait before acting
        st.sampled_from(
            [
                "due",
                "partial",
                "prepay",
                "double",
                "payoff",
                "assess",
                "default",
                "restructure",
                "holiday",
                "forbear",
            ]
        ),
        st.integers(1, 999),  # per-mille of the quoted amount, for partial payments
    ),
    min_size=1,
    max_size=10,
)
CALENDAR = st.one_of(
    # (months, day count, UTC offset in minutes, rounding exponent, first due date in days from
    # today; 0: one period ahead): periods of days, or calendar months under 30/360.
    st.tuples(
        st.just(0),
        st.sampled_from([0, 1]),
        st.sampled_from([0, -300, 480]),
        st.sampled_from([0, 4]),
        st.sampled_from([0, 3, 17, 40]),
    ),
    st.tuples(
        st.sampled_from([1, 3]),
        st.just(2),
        st.sampled_from([0, 60, -600]),
        st.sampled_from([0, 2, 4]),
        st.sampled_from([1, 12, 29, 45]),
    ),
)
TERMS = st.tuples(
    st.sampled_from(list(ScheduleKind)),
    st.integers(10**6, 10**12),
    st.integers(1, 24),
    st.integers(0, 3_000),
    st.sampled_from([7 * DAY, 30 * DAY]),
    st.integers(0, 10 * DAY),
    st.integers(0, 1_000),
    st.integers(0, 2_000),
    CALENDAR,
    st.integers(0, 23),  # interest-only installments (fewer than the installments)
)
_LEDGER_EVENTS = (
    "ScheduleReset",
    "ChargesAccrued",
    "RepaymentApplied",
    "DelinquencyBucketChanged",
    "InterestRebated",
    "LoanClosed",
    "LoanDefaulted",
    "RestructureProposed",
    "LoanRestructured",
    "HolidayProposed",
    "HolidayGranted",
    "ForbearanceGranted",
    "ForbearanceEnded",
)
_REPORTS = {
    "reportRepayment": "RepaymentReported",
    "reportDelinquency": "DelinquencyReported",
    "reportDefault": "DefaultReported",
    "reportForbearance": "ForbearanceReported",
}


def expected_allocation(quote: dict[str, int], amount: int) -> dict[str, int]:
    """The documented split: the payoff itself from the payoff up (charges, interest due and
    to the day, all principal less the interest paid ahead), else the waterfall."""
    if amount >= quote["payoff"]:
        principal = quote["principal"] + quote["currentPrincipal"] + quote["remainingPrincipal"]
        return {
            "fees": quote["fees"],
            "penalty": quote["penalty"],
            "interest": quote["interest"] + quote["accruedInterest"],
            "principal": principal - quote["interestRebate"],
        }
    rest = amount
    split = {}
    for field in (
        "fees",
        "penalty",
        "interest",
        "principal",
        "currentInterest",
        "currentPrincipal",
    ):
        split[field] = min(rest, quote[field])
        rest -= split[field]
    return {
        "fees": split["fees"],
        "penalty": split["penalty"],
        "interest": split["interest"] + split["currentInterest"],
        "principal": split["principal"] + split["currentPrincipal"] + rest,
    }


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(terms=TERMS, actions=ACTIONS)
def test_random_histories_follow_the_quotes(
    system: LedgerDriver, terms: tuple[Any, ...], actions: list[tuple[int, str, int]]
) -> None:
    # Hypothesis runs every example inside one test call: isolate each on the chain.
    snapshot_id = snapshot(system.w3)
    try:
        _run_history(system, terms, actions)
    finally:
        revert(system.w3, snapshot_id)


class _Twin:
    """The Python twin of one loan, checked against the chain after every call."""

    def __init__(self, system: LedgerDriver, loan_id: int, originated: int) -> None:
        self.system, self.loan_id = system, loan_id
        self.state = LoanState.from_view(loan_id, system.loan(loan_id))
        self.state.originated_timestamp = originated

    def call(self, fn: Any, sender: str, at: int, twin: Any) -> TxReceipt | None:
        """Send ``fn`` at ``at`` and run ``twin`` (the same call on the twin's state): both
        succeed with the same events and reports, or both refuse with the same error."""
        s = self.system
        try:
            receipt = s.send(fn, sender, at=at)
        except TransactionReverted as exc:
            before = LoanState(**self.state.to_dict())
            try:
                twin(self.state)
            except LedgerCallReverted as refused:
                assert refused.error_name == exc.error_name
            else:
                raise AssertionError(f"the twin accepts what the ledger refuses: {exc}") from exc
            self.state = before
            return None
        effects: CallEffects = twin(self.state)
        self.check_effects(receipt, effects)
        self.check_state(at)
        return receipt

    def check_effects(self, receipt: TxReceipt, effects: CallEffects) -> None:
        s = self.system
        for name in _LEDGER_EVENTS:
            chain = s.events(receipt, name)
            mine = [args for event, args in effects.events if event == name]
            assert [{k: e[k] for k in m} for e, m in zip(chain, mine, strict=False)] == mine
            assert len(chain) == len(mine), name
        for function, event in _REPORTS.items():
            chain = s.events(receipt, event, s.registry)
            mine = [args for report, args in effects.reports if report == function]
            assert len(chain) == len(mine), event
            for e, m in zip(chain, mine, strict=True):
                for key, value in m.items():
                    if key == "amount":
                        assert e[key] == value * SCALE
                    elif key != "closed":
                        assert e[key] == value, (event, key)

    def check_state(self, t: int) -> None:
        view = self.system.loan(self.loan_id)
        assert self.state.as_view() == {k: view[k] for k in self.state.as_view()}
        for later in (t, t + 1, t + 3 * DAY + 5, t + 40 * DAY):
            due = AmountDue.from_view(self.system.due(self.loan_id, later))
            assert amount_due(self.state, later) == due, later


def _run_history(
    system: LedgerDriver, terms: tuple[Any, ...], actions: list[tuple[int, str, int]]
) -> None:
    kind, principal, count, apr, period, grace, fee_bps, penalty_bps, calendar, io = terms
    months, day_count, utc_offset, rounding_exp, first_due_days = calendar
    interest_only = 0 if kind is ScheduleKind.BULLET else io % count
    borrower, lender, keeper = system.accounts[1], system.admin, system.accounts[5]
    start = system.now() + 10
    offset = utc_offset * 60
    today = cal.local_day(start, offset)
    if months:
        period = 0
    # The first due date: up to two periods from today (two calendar months are 56 days or
    # more).
    lead = min(first_due_days, 2 * period // DAY) if period else first_due_days
    lead = lead or period // DAY
    first_due = cal.day_end(today + lead, offset)  # the end of that date in the offset
    loan_id = system.originate(
        borrower,
        principal=principal,
        installments=count,
        apr_bps=apr,
        period=period,
        first_due=first_due,
        kind=kind,
        grace=grace,
        late_fee_bps=fee_bps,
        penalty_apr_bps=penalty_bps,
        default_after_days=15,
        at=start,
        months=months,
        day_count=day_count,
        utc_offset=utc_offset,
        interest_only=interest_only,
        rounding_exp=rounding_exp,
    )
    twin = _Twin(system, loan_id, start)
    twin.check_state(start)
    ledger = system.ledger.functions
    t = start
    outstanding = principal
    repaid = 0
    paid_count = 0
    scheduled = count  # installments ever scheduled (a restructuring schedules new ones)
    for wait, action, per_mille in actions:
        t += wait + 1
        status = system.loan(loan_id)["status"]
        if status == 2:
            twin.call(
                ledger.repay(loan_id, 1), borrower, t, lambda w, t=t: repayments.repay(w, 1, t)
            )
            break
        quote = system.due(loan_id, t)
        if action == "assess":
            twin.call(ledger.assess(loan_id), keeper, t, lambda w, t=t: repayments.assess(w, t))
            if status == 0:
                # Idempotent: bringing the state current again at the same time changes nothing.
                assert system.due(loan_id, t) == quote
            continue
        if action == "default":
            if status == 0 and quote["daysPastDue"] >= 15:
                receipt = twin.call(
                    ledger.declareDefault(loan_id),
                    system.admin,
                    t,
                    lambda w, t=t: defaults.declare_default(w, t),
                )
                assert receipt is not None  # past its grace period: 15 days > 10 days
                (event,) = system.events(receipt, "LoanDefaulted")
                assert event["principalOutstanding"] == outstanding
                assert (
                    system.due(loan_id, t)["payoff"]
                    == quote["pastDue"] + outstanding - quote["principal"]
                )
            continue
        if action == "restructure":
            if status == 0:
                # A loan due in calendar months keeps its months (period 0).
                new_period = 0 if months else (1 + per_mille % 40) * DAY
                terms_ = (per_mille, 1 + per_mille % 12, new_period, t + 9 * DAY)
                twin.call(
                    ledger.proposeRestructure(loan_id, *terms_),
                    system.admin,
                    t,
                    lambda w, terms_=terms_: restructuring.propose_restructure(w, *terms_),
                )
                t += 1
                accepted = twin.call(
                    ledger.acceptRestructure(loan_id, *terms_),
                    borrower,
                    t,
                    lambda w, t=t, terms_=terms_: restructuring.accept_restructure(w, t, *terms_),
                )
                if accepted is not None:
                    scheduled += terms_[1]
                    # The new schedule starts after the installments due, and installments paid
                    # ahead of their due date are not counted any more (their money is).
                    paid_count = system.loan(loan_id)["installmentsPaid"]
                # Interest paid ahead is credited against principal.
                outstanding = system.loan(loan_id)["principalOutstanding"]
            continue
        if action == "holiday":
            if status == 0 and quote["nextInstallment"] != 0:
                # From the next installment (one time in four another: refused), 1-3 long.
                first = quote["nextInstallment"] + (1 if per_mille % 4 == 0 else 0)
                holiday = (first, 1 + per_mille % 3, t + 5 * DAY)
                twin.call(
                    ledger.proposeHoliday(loan_id, *holiday),
                    system.admin,
                    t,
                    lambda w, t=t, h=holiday: relief.propose_holiday(w, t, *h),
                )
                t += 1
                accepted = twin.call(
                    ledger.acceptHoliday(loan_id, *holiday),
                    borrower,
                    t,
                    lambda w, t=t, h=holiday: relief.accept_holiday(w, t, *h),
                )
                if accepted is not None:
                    scheduled += holiday[1]
                outstanding = system.loan(loan_id)["principalOutstanding"]
            continue
        if action == "forbear":
            if status == 0:
                # A window of up to 60 days from today or later; a running one is extended
                # or, one time in three, ended early.
                view = system.loan(loan_id)
                day = cal.local_day(t, offset)
                running = view["forbearanceFrom"] <= day <= view["forbearanceTo"] != 0
                if running:
                    last = day - 1 if per_mille % 3 == 0 else day + per_mille % 60
                    window = (view["forbearanceFrom"], last)
                else:
                    window = (day + per_mille % 5, day + per_mille % 5 + per_mille % 60)
                twin.call(
                    ledger.forbear(loan_id, *window),
                    system.admin,
                    t,
                    lambda w, t=t, window=window: relief.forbear(w, t, *window),
                )
            continue
        installment = quote["pastDue"] + quote["currentInterest"] + quote["currentPrincipal"]
        amount = {
            "due": installment,
            "partial": max(1, quote["pastDue"] * per_mille // 1000),
            "prepay": installment + quote["remainingPrincipal"] * per_mille // 1000,
            "double": 2 * quote["payoff"],
            "payoff": quote["payoff"],
        }[action]
        if amount == 0:
            continue
        system.fund(borrower, amount)
        payer_before, lender_before = system.balance(borrower), system.balance(lender)
        receipt = twin.call(
            ledger.repay(loan_id, amount),
            borrower,
            t,
            lambda w, t=t, amount=amount: repayments.repay(w, amount, t),
        )
        assert receipt is not None
        (event,) = system.events(receipt, "RepaymentApplied")
        pulled = min(amount, quote["payoff"])
        split = expected_allocation(quote, amount)
        assert {k: event[k] for k in split} == split
        assert payer_before - system.balance(borrower) == pulled
        assert system.balance(lender) - lender_before == pulled
        rebate = quote["interestRebate"] if amount >= quote["payoff"] else 0
        outstanding -= split["principal"] + rebate
        repaid += pulled
        assert event["principalOutstanding"] == outstanding
        assert event["installmentsPaid"] >= paid_count
        paid_count = event["installmentsPaid"]
        assert (event["status"] == 2) == (pulled == quote["payoff"])
        assert (
            system.ledger.functions.daysPastDue(loan_id).call()
            == system.due(loan_id, t)["daysPastDue"]
        )
    record = system.record(borrower)
    assert record["totalRepaid"] == repaid * SCALE
    assert record["paidOnTime"] + record["paidLate"] <= scheduled
    assert system.loan(loan_id)["principalOutstanding"] == outstanding
