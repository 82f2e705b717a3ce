"""Property tests of the servicing state machine on a real Anvil: random repayment histories
(partial, exact, late, over-payments, keeper assessments, defaults) against the ledger's own
quotes and the money actually moved."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanservicing.chain.node import revert, snapshot
from loanservicing.ledger.schedule import ScheduleKind
from tests.support.ledger_driver import DAY, LedgerDriver

ACTIONS = st.lists(
    st.tuples(
        st.integers(0, 45 * DAY),  # time to wait before acting
        st.sampled_from(["due", "partial", "double", "payoff", "assess", "default"]),
        st.integers(1, 999),  # per-mille of the quoted amount, for partial payments
    ),
    min_size=1,
    max_size=10,
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
)


def expected_allocation(quote: dict[str, int], amount: int) -> dict[str, int]:
    """The documented waterfall applied to a quote."""
    rest = min(amount, quote["payoff"])
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


def _run_history(
    system: LedgerDriver, terms: tuple[Any, ...], actions: list[tuple[int, str, int]]
) -> None:
    kind, principal, count, apr, period, grace, fee_bps, penalty_bps = terms
    borrower, lender, keeper = system.accounts[1], system.admin, system.accounts[5]
    start = system.now() + 10
    loan_id = system.originate(
        borrower,
        principal=principal,
        installments=count,
        apr_bps=apr,
        period=period,
        kind=kind,
        grace=grace,
        late_fee_bps=fee_bps,
        penalty_apr_bps=penalty_bps,
        default_after_days=15,
        at=start,
    )
    t = start
    outstanding = principal
    repaid = 0
    paid_count = 0
    for wait, action, per_mille in actions:
        t += wait + 1
        status = system.loan(loan_id)["status"]
        if status == 2:
            system.reverts(
                "LoanNotActive", system.ledger.functions.repay(loan_id, 1), borrower, at=t
            )
            break
        quote = system.due(loan_id, t)
        if action == "assess":
            if status != 0:
                system.reverts(
                    "LoanNotActive", system.ledger.functions.assess(loan_id), keeper, at=t
                )
                continue
            system.send(system.ledger.functions.assess(loan_id), keeper, at=t)
            # Idempotent: bringing the state current again at the same time changes nothing.
            assert system.due(loan_id, t) == quote
            continue
        if action == "default":
            if status == 0 and quote["daysPastDue"] >= 15:
                receipt = system.send(system.ledger.functions.declareDefault(loan_id), at=t)
                (event,) = system.events(receipt, "LoanDefaulted")
                assert event["principalOutstanding"] == outstanding
                assert (
                    system.due(loan_id, t)["payoff"]
                    == quote["pastDue"] + outstanding - quote["principal"]
                )
            continue
        amount = {
            "due": quote["pastDue"] + quote["currentInterest"] + quote["currentPrincipal"],
            "partial": max(1, quote["pastDue"] * per_mille // 1000),
            "double": 2 * quote["payoff"],
            "payoff": quote["payoff"],
        }[action]
        if amount == 0:
            continue
        system.fund(borrower, amount)
        payer_before, lender_before = system.balance(borrower), system.balance(lender)
        event = system.repay(loan_id, amount, borrower, at=t, fund=False)
        pulled = min(amount, quote["payoff"])
        split = expected_allocation(quote, amount)
        assert {k: event[k] for k in split} == split
        assert payer_before - system.balance(borrower) == pulled
        assert system.balance(lender) - lender_before == pulled
        outstanding -= split["principal"]
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
    assert record["totalRepaid"] == repaid * 10**12
    assert record["paidOnTime"] + record["paidLate"] <= count
    assert system.loan(loan_id)["principalOutstanding"] == outstanding
