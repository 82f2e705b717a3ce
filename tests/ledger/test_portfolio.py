"""Snapshots and the portfolio figures over them: aging, PAR30/PAR90, the summary."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.portfolio import (
    AGING_LABELS,
    aging,
    at_risk_share_bps,
    snapshot,
    snapshot_at,
    summarize,
)
from loanservicing.ledger.repayments import repay
from loanservicing.ledger.replay import apply_ledger_events
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanState, LoanStatus
from tests.ledger.sample import TERMS, originated


def _loan(loan_id: int, **changes: object) -> LoanState:
    state = apply_ledger_events(None, [originated()])
    return dataclasses.replace(state, loan_id=loan_id, **changes)  # type: ignore[arg-type]


def test_a_snapshot_is_the_state_and_its_amount_due() -> None:
    state = _loan(1)
    t = TERMS["firstDueDate"] + 40 * DAY
    s = snapshot_at(state, t, 6)
    due = amount_due(state, t)
    assert s == snapshot(state, due, 6, t)
    assert (s.status, s.decimals, s.as_of_timestamp) == ("active", 6, t)
    assert s.days_past_due == due.days_past_due == 40
    assert s.delinquency_bucket == 2 and s.recorded_bucket == 0
    assert s.next_due_amount == due.past_due + due.current_interest + due.current_principal
    assert s.next_installment == due.next_installment
    assert s.payoff == due.payoff and s.fees_owed == due.fees > 0


def test_after_a_prepayment_the_next_due_amount_is_the_new_segments_first_installment() -> None:
    state = _loan(1)
    t = TERMS["firstDueDate"] - 10 * DAY
    q = amount_due(state, t)
    repay(state, q.current_interest + q.current_principal + 100 * 10**6, t)  # 100 ahead
    assert state.advance_pending and state.base_index == 1
    s = snapshot_at(state, t + DAY, 6)
    first = state.curve().part(1)
    assert (s.next_installment, s.next_due_timestamp) == (2, state.due_date(2))
    assert s.next_due_amount == sum(first) and s.past_due == 0
    # Paying it by then is on time and settles it.
    effects = repay(state, s.next_due_amount, state.due_date(2))
    assert effects.reports[-1][1]["paidOnTime"] == 1 and state.paid_count == 2


def test_aging_and_summary_count_the_same_loans() -> None:
    due = TERMS["firstDueDate"]
    principal = TERMS["principal"]
    now = due + 45 * DAY
    loans = [
        _loan(1),  # 45 days past due: 31-60, at risk
        _loan(2, status=LoanStatus.DEFAULTED, last_accrual=now),  # at risk (30 and 90)
        _loan(3, status=LoanStatus.CLOSED, paid_principal=principal),  # left out
        _loan(4, segment_start=now),  # current
    ]
    snapshots = [snapshot_at(s, now, 6) for s in loans]
    table = aging(snapshots)
    assert list(table.loans) == list(AGING_LABELS)
    assert table.loans == {"current": 1, "1-30": 0, "31-60": 1, "61-90": 0, "90+": 0,
                           "defaulted": 1}  # fmt: skip
    assert table.principal_outstanding == 3 * principal
    assert table.at_risk_30 == 2 * principal and table.at_risk_90 == principal
    assert table.par30 == Decimal(2) / Decimal(3)
    summary = summarize(snapshots, [{"fees": 1, "penalty": 2, "interest": 3, "principal": 4}], 6)
    assert summary.by_status == {"active": 2, "defaulted": 1, "closed": 1}
    assert summary.by_bucket == {k: table.loans[k] for k in AGING_LABELS[:-1]}
    assert summary.at_risk_30 == table.at_risk_30
    assert summary.principal_outstanding == table.principal_outstanding
    assert summary.principal_defaulted == principal
    assert (summary.collected, summary.collected_interest, summary.collected_fees) == (10, 3, 3)
    assert summary.to_json()["par30_bps"] == at_risk_share_bps(2, 3) == 6_666
