"""Property: for random repayment histories on a real Anvil, the state the indexer rebuilds from
events equals the ledger's views, and the Python amount due equals ``amountDue`` exactly."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import revert, snapshot
from loanservicing.indexing.verify import verify_index
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.schedule import ScheduleKind
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

loan_terms = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(list(ScheduleKind)),
        "principal": st.integers(1, 50_000).map(lambda n: n * UNIT + 7),
        "apr_bps": st.sampled_from([0, 1, 500, 1200, 3600, 10_000]),
        "installments": st.integers(1, 14),
        "period": st.sampled_from([DAY, 7 * DAY, 30 * DAY, 91 * DAY]),
        "grace": st.sampled_from([0, 1, 3 * DAY, 10 * DAY]),
        "late_fee_bps": st.sampled_from([0, 250, 2_500]),
        "penalty_apr_bps": st.sampled_from([0, 600, 10_000]),
        "default_after_days": st.sampled_from([1, 30, 90]),
    }
)

action = st.tuples(
    st.sampled_from(
        ["repay", "repay", "installment", "installment", "assess", "default", "restructure", "wait"]
    ),
    st.integers(0, 2),  # which loan
    st.integers(1, 70 * DAY),  # seconds since the previous action
    st.integers(1, 12_000),  # repay: amount as basis points of the payoff at that time
)


def _run(s: LedgerDriver, borrower: str, loans: list[int], actions: list[Any]) -> None:
    t = s.now() + 10
    for kind, which, wait, bps in actions:
        loan_id = loans[which % len(loans)]
        t += wait
        status = s.loan(loan_id)["status"]
        if kind == "wait" or status == 2:
            continue
        try:
            if kind == "repay":
                payoff = s.due(loan_id, t)["payoff"]
                amount = max(1, payoff * bps // 10_000)
                s.send(s.ledger.functions.repay(loan_id, amount), borrower, at=t)
            elif kind == "installment":  # what is due now, exactly (the ledger's fast path)
                due = s.due(loan_id, t)
                amount = due["pastDue"] + due["currentInterest"] + due["currentPrincipal"]
                if amount == 0:
                    continue
                s.send(s.ledger.functions.repay(loan_id, amount), borrower, at=t)
            elif status != 0:
                continue
            elif kind == "assess":
                s.send(s.ledger.functions.assess(loan_id), at=t)
            elif kind == "default":
                due = s.due(loan_id, t)
                if due["daysPastDue"] < s.loan(loan_id)["defaultAfterDays"]:
                    continue
                s.send(s.ledger.functions.declareDefault(loan_id), at=t)
            else:
                terms = (bps % 3000, 1 + bps % 12, (1 + bps % 40) * DAY, t + 10 * DAY)
                s.send(s.ledger.functions.proposeRestructure(loan_id, *terms), at=t)
                t += 1 + wait % (5 * DAY)
                s.send(s.ledger.functions.acceptRestructure(loan_id, *terms), borrower, at=t)
        except TransactionReverted as exc:  # e.g. NothingToRestructure: nothing was emitted
            expected = {"NothingToRestructure", "ZeroAmount", "DefaultDue", "DefaultInsideGrace"}
            assert exc.error_name in expected, str(exc)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    terms=st.lists(loan_terms, min_size=1, max_size=3),
    actions=st.lists(action, min_size=1, max_size=12),
)
def test_rebuilt_state_equals_the_ledger(
    system: LedgerDriver,
    caplog: pytest.LogCaptureFixture,
    terms: list[dict[str, Any]],
    actions: list[Any],
) -> None:
    s = system
    snapshot_id = snapshot(s.w3)
    try:
        borrower = s.accounts[7]
        s.fund(borrower, 10**9 * UNIT)
        loans = [s.originate(borrower, **t) for t in terms]
        _run(s, borrower, loans, actions)
        with tempfile.TemporaryDirectory() as tmp:
            indexer = make_indexer(s, Path(tmp) / "index.db")
            indexer.sync()
            replay_errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
            assert replay_errors == []  # every ledger call replayed to the very same events
            report = verify_index(indexer.db, s.rpc_url, s.abis())
            assert [d.sentence() for d in report.differences] == []
            assert report.loans == len(loans)
            states = indexer.db.loans()
            now = s.now()
            for loan_id in loans:
                for t in (now, now + 1, now + 5 * DAY + 3, now + 61 * DAY, now + 3 * 365 * DAY):
                    chain = tuple(s.ledger.functions.amountDue(loan_id, t).call())
                    assert amount_due(states[loan_id], t).as_tuple() == chain, (loan_id, t)
            indexer.db.close()
    finally:
        revert(s.w3, snapshot_id)
