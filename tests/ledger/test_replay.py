"""The replay and the accounting without a chain: originations, days past due, amounts due.

(The replay against the real ledger is tested in tests/indexing, property test included.)
"""

from __future__ import annotations

import pytest

from loanservicing.ledger.accounting import (
    amount_due,
    days_past_due,
    installments_due,
    installments_past_grace,
    installments_settled,
    unpaid_amount,
)
from loanservicing.ledger.errors import ReplayMismatch
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.repayments import repay
from loanservicing.ledger.replay import apply_ledger_events
from loanservicing.ledger.schedule import DAY, Curve, ScheduleKind
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus
from tests.ledger.sample import TERMS, originated


def test_origination_sets_the_first_segment() -> None:
    state = apply_ledger_events(None, [originated()])
    assert state.segment_start == 971 * DAY - 1  # the end of the origination date
    assert state.status is LoanStatus.ACTIVE
    assert state.curve() == Curve.of_period(ScheduleKind.ANNUITY, 1_200 * 10**6, 12, 1200, 30 * DAY)


def test_days_past_due_round_up_from_the_oldest_unpaid_due_date() -> None:
    state = apply_ledger_events(None, [originated()])
    due = TERMS["firstDueDate"]
    assert days_past_due(state, due) == 0
    assert days_past_due(state, due + 1) == 1
    assert days_past_due(state, due + DAY) == 1
    assert days_past_due(state, due + DAY + 1) == 2
    late = amount_due(state, due + 40 * DAY)
    assert late.days_past_due == 40
    assert late.fees > 0  # a late fee once the grace period is over
    # Payoff to the day: the running period's interest for the whole days elapsed in it.
    assert late.accrued_interest == late.current_interest * (10 * DAY) // (30 * DAY)
    assert late.payoff == late.past_due + late.accrued_interest + late.current_principal + (
        late.remaining_principal
    )


def test_an_event_before_the_origination_is_refused() -> None:
    event = LedgerEvent("ChargesAccrued", {"loanId": 1}, 0)
    with pytest.raises(ReplayMismatch):
        apply_ledger_events(None, [event])


def _repaid(state: LoanState, amount: int, timestamp: int, paid_count: int) -> LedgerEvent:
    """The RepaymentApplied of an on-time (fast path) repayment of ``amount``."""
    interest_due = amount_due(state, timestamp).current_interest
    args = {
        "loanId": 1,
        "fees": 0,
        "penalty": 0,
        "interest": min(amount, interest_due),
        "principal": amount - min(amount, interest_due),
        "principalOutstanding": state.principal_outstanding - (amount - min(amount, interest_due)),
        "installmentsPaid": paid_count,
        "status": 0,
    }
    return LedgerEvent("RepaymentApplied", args, timestamp)


def test_the_lenders_counts_of_installments() -> None:
    state = apply_ledger_events(None, [originated()])
    due1 = TERMS["firstDueDate"]
    period, grace = TERMS["periodSeconds"], TERMS["gracePeriodSeconds"]
    assert installments_due(state, due1) == 0
    assert installments_due(state, due1 + 1) == 1
    assert installments_past_grace(state, due1 + grace) == 0
    assert installments_past_grace(state, due1 + grace + 1) == 1
    assert installments_due(state, due1 + 100 * period) == 12  # never past the last
    first = state.curve().part(1)
    assert unpaid_amount(state, 1) == sum(first)
    assert unpaid_amount(state, 2) == sum(first) + sum(state.curve().part(2))
    assert installments_settled(state, 2) == 0
    # Installment 1 paid in full, on time: settled; installment 2 still open.
    paid = apply_ledger_events(state, [_repaid(state, sum(first), due1 - DAY, 1)])
    assert installments_settled(paid, 2) == 1
    assert unpaid_amount(paid, 1) == 0
    assert unpaid_amount(paid, 2) == sum(paid.curve().part(2))


def test_a_loan_view_gives_back_the_replayed_state() -> None:
    state = apply_ledger_events(None, [originated()])
    view = {**state.as_view(), "decimals": 6}
    again = LoanState.from_view(1, view)
    assert again.as_view() == state.as_view()
    assert amount_due(again, 1_010 * DAY) == amount_due(state, 1_010 * DAY)


def test_the_next_payment_after_an_installment_paid_early_is_the_next_one() -> None:
    """The bug `loan show` had: after installment 1 was paid early it reported 0 due on
    installment 1's date; the next payment is installment 2, with its date and amount."""
    state = apply_ledger_events(None, [originated()])
    t = 985 * DAY
    repay(state, sum(state.curve().part(1)), t)
    shown = snapshot_at(state, t + 1, 6)
    assert (shown.next_installment, shown.installments_paid) == (2, 1)
    assert shown.next_due_timestamp == state.due_date(2)
    assert shown.next_due_amount == sum(state.curve().part(2))
