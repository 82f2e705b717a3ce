"""Buckets, labels, installment statuses and which loans the ledger has not yet assessed."""

from __future__ import annotations

import pytest

from loanservicing.ledger.delinquency import (
    BUCKET_LABELS,
    CLOSED,
    DUE,
    IN_GRACE,
    OVERDUE,
    PAID,
    PARTIAL,
    STATUS_LABELS,
    UPCOMING,
    behind_loans,
    bucket_of,
    installment_status,
    is_behind,
)
from loanservicing.ledger.replay import apply_ledger_events
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LedgerEvent, LoanStatus
from tests.ledger.sample import TERMS, originated


@pytest.mark.parametrize(
    ("days", "bucket"), [(0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4)]
)
def test_buckets(days: int, bucket: int) -> None:
    assert bucket_of(days) == bucket


def test_labels_follow_the_ledgers_enums() -> None:
    assert BUCKET_LABELS == ("current", "1-30", "31-60", "61-90", "90+")
    assert STATUS_LABELS == ("active", "defaulted", "closed")
    assert [STATUS_LABELS[s] for s in LoanStatus] == [s.label for s in LoanStatus]


def test_overdue_means_unpaid_after_the_grace_period() -> None:
    due, grace = 1_000 * DAY, 5 * DAY

    def status(paid: int, now: int, closed: bool = False, taken: bool = False) -> str:
        return installment_status(100, paid, due, due + grace, now, closed, taken)

    assert status(100, due + 99 * DAY) == PAID
    assert status(0, due + grace + 1) == OVERDUE
    assert status(40, due + grace + 1) == OVERDUE
    assert status(0, due + grace) == IN_GRACE
    assert status(0, due + 1) == IN_GRACE
    assert status(40, due) == PARTIAL
    assert status(0, due) == DUE
    assert status(0, due, taken=True) == UPCOMING
    assert status(0, due + grace + 1, closed=True) == CLOSED


def test_a_loan_is_behind_when_assess_would_record_a_miss_or_a_bucket() -> None:
    state = apply_ledger_events(None, [originated()])
    due, grace = TERMS["firstDueDate"], TERMS["gracePeriodSeconds"]
    assert not is_behind(state, due)
    assert is_behind(state, due + 1)  # 1 day past due: bucket 1, the ledger stores 0
    args = {"loanId": 1, "fromBucket": 0, "toBucket": 1, "daysPastDue": 1}
    assessed = apply_ledger_events(state, [LedgerEvent("DelinquencyBucketChanged", args, due + 1)])
    assert assessed.bucket == 1
    assert not is_behind(assessed, due + 2)
    assert is_behind(assessed, due + grace + 1)  # now a miss the ledger has not counted
    assert behind_loans({1: assessed}, due + 2) == []
    assert behind_loans({1: assessed, 2: state}, due + grace + 1) == [1, 2]
