"""Loan state maths that need no chain: buckets, originations, credit-record folding.

(The replay against the real ledger is tested in test_indexer*.py, property test included.)
"""

from __future__ import annotations

import pytest

from loanservicing.ledger.errors import ReplayMismatch
from loanservicing.ledger.loan_state import (
    DAY,
    CreditRecord,
    LedgerEvent,
    LoanStatus,
    amount_due,
    apply_ledger_events,
    apply_registry_event,
    bucket_of,
    days_past_due,
)
from loanservicing.ledger.schedule import Curve, ScheduleKind

TERMS = {
    "borrower": "0xB",
    "token": "0xT",
    "principal": 1_200 * 10**6,
    "aprBps": 1200,
    "installments": 12,
    "periodSeconds": 30 * DAY,
    "firstDueDate": 1_000 * DAY,
    "kind": 0,
    "gracePeriodSeconds": 5 * DAY,
    "lateFeeBps": 500,
    "penaltyAprBps": 600,
    "defaultAfterDays": 90,
}


def _originated() -> LedgerEvent:
    args = {"loanId": 1, "borrower": "0xB", "lender": "0xL", "terms": TERMS}
    return LedgerEvent("LoanOriginated", args, 970 * DAY)


@pytest.mark.parametrize(
    ("days", "bucket"), [(0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4)]
)
def test_buckets(days: int, bucket: int) -> None:
    assert bucket_of(days) == bucket


def test_origination_sets_the_first_segment() -> None:
    state = apply_ledger_events(None, [_originated()])
    assert state.segment_start == 970 * DAY
    assert state.status is LoanStatus.ACTIVE
    assert state.curve() == Curve(ScheduleKind.ANNUITY, 1_200 * 10**6, 12, 1200, 30 * DAY)


def test_days_past_due_round_up_from_the_oldest_unpaid_due_date() -> None:
    state = apply_ledger_events(None, [_originated()])
    due = TERMS["firstDueDate"]
    assert days_past_due(state, due) == 0
    assert days_past_due(state, due + 1) == 1
    assert days_past_due(state, due + DAY) == 1
    assert days_past_due(state, due + DAY + 1) == 2
    late = amount_due(state, due + 40 * DAY)
    assert late.days_past_due == 40
    assert late.fees > 0  # a late fee once the grace period is over
    assert late.payoff == late.past_due + late.current_interest + late.current_principal + (
        late.remaining_principal
    )


def test_an_event_before_the_origination_is_refused() -> None:
    event = LedgerEvent("ChargesAccrued", {"loanId": 1}, 0)
    with pytest.raises(ReplayMismatch):
        apply_ledger_events(None, [event])


def test_credit_record_folding_saturates_like_the_registry() -> None:
    record = CreditRecord("0xB")
    apply_registry_event(record, "LoanOpenedReported", {})
    apply_registry_event(
        record,
        "RepaymentReported",
        {"paidOnTime": 2**24, "paidLate": 1, "daysPastDue": 70_000, "amount": 2**97},
    )
    apply_registry_event(record, "DelinquencyReported", {"missed": 2, "daysPastDue": 3})
    apply_registry_event(record, "DefaultReported", {"daysPastDue": 95})
    apply_registry_event(record, "LoanClosedReported", {})
    assert record.as_view() == {
        "paidOnTime": 2**24 - 1,
        "paidLate": 1,
        "missed": 2,
        "currentDaysPastDue": 95,
        "maxDaysPastDue": 2**16 - 1,
        "defaults": 1,
        "loansOpened": 1,
        "loansClosed": 1,
        "totalRepaid": 2**96 - 1,
    }
