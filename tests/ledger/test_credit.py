"""Credit records: the registry's saturating counters, and one record from view or events."""

from __future__ import annotations

from loanservicing.ledger.credit import CreditRecord, apply_registry_event


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
    assert CreditRecord.from_view("0xB", record.as_view()) == record


def test_the_json_of_a_record_is_the_clis() -> None:
    record = CreditRecord("0xB", paid_on_time=3, current_days_past_due=4, total_repaid=5)
    assert record.to_json() == {
        "borrower": "0xB",
        "paid_on_time": 3,
        "paid_late": 0,
        "missed": 0,
        "days_past_due": 4,
        "max_days_past_due": 0,
        "defaults": 0,
        "loans_opened": 0,
        "loans_closed": 0,
        "total_repaid": 5,
        "decimals": 18,
    }
