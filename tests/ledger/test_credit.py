"""Credit histories: each reporter's figures apart, their saturating sums, each loan's standing
and the worst open loan's days past due, as CreditRegistry.sol keeps them."""

from __future__ import annotations

from typing import Any

from loanservicing.ledger.credit import CreditHistory, CreditRecord, apply_registry_event

LEDGER, OTHER, STRANGER = "0xL1", "0xL2", "0xL3"


def _report(history: CreditHistory, name: str, reporter: str, loan_id: int, **args: Any) -> None:
    apply_registry_event(history, name, {"reporter": reporter, "loanId": loan_id, **args})


def test_each_reporters_figures_are_kept_apart_and_summed_saturating() -> None:
    history = CreditHistory("0xB")
    _report(history, "LoanOpenedReported", LEDGER, 1)
    _report(history, "LoanOpenedReported", OTHER, 1)
    _report(history, "LoanOpenedReported", LEDGER, 2)
    _report(history, "RepaymentReported", LEDGER, 1, paidOnTime=2**24 - 2, paidLate=1, amount=5)
    _report(history, "RepaymentReported", OTHER, 1, paidOnTime=7, paidLate=0, amount=2**96)
    _report(history, "DelinquencyReported", OTHER, 1, missed=2, daysPastDue=70_000)
    _report(history, "DefaultReported", OTHER, 1, daysPastDue=95)
    assert history.reporters == [LEDGER, OTHER]
    assert history.reporter_record(LEDGER).as_view() == {
        "paidOnTime": 2**24 - 2, "paidLate": 1, "missed": 0, "currentDaysPastDue": 0,
        "maxDaysPastDue": 0, "defaults": 0, "loansOpened": 2, "loansClosed": 0, "totalRepaid": 5,
        "forbearances": 0,
    }  # fmt: skip
    assert history.reporter_record(OTHER).as_view() == {
        "paidOnTime": 7, "paidLate": 0, "missed": 2, "currentDaysPastDue": 95,
        "maxDaysPastDue": 2**16 - 1, "defaults": 1, "loansOpened": 1, "loansClosed": 0,
        "totalRepaid": 2**96 - 1, "forbearances": 0,
    }  # fmt: skip
    assert history.record().as_view() == {
        "paidOnTime": 2**24 - 1,  # the sum saturates as each reporter's counters do
        "paidLate": 1,
        "missed": 2,
        "currentDaysPastDue": 95,
        "maxDaysPastDue": 2**16 - 1,
        "defaults": 1,
        "loansOpened": 3,
        "loansClosed": 0,
        "totalRepaid": 2**96 - 1,
        "forbearances": 0,
    }
    assert CreditRecord.from_view("0xB", history.record().as_view()) == history.record()


def test_current_days_past_due_is_the_worst_open_loans() -> None:
    history = CreditHistory("0xB")
    _report(history, "LoanOpenedReported", LEDGER, 1)
    _report(history, "LoanOpenedReported", LEDGER, 2)
    _report(history, "DelinquencyReported", LEDGER, 1, missed=1, daysPastDue=40)
    _report(history, "DelinquencyReported", LEDGER, 2, missed=1, daysPastDue=12)
    assert history.record().current_days_past_due == 40
    assert history.loan_days_past_due(LEDGER, 2) == 12
    # Loan 1 brought current: loan 2 is now the worst; its worst ever stays.
    _report(history, "DelinquencyReported", LEDGER, 1, missed=0, daysPastDue=0)
    assert history.record().current_days_past_due == 12
    assert history.record().max_days_past_due == 40
    assert history.loan_days_past_due(LEDGER, 1) == 0
    # A closing repayment clears loan 2's standing: the borrower is current.
    _report(history, "RepaymentReported", LEDGER, 2, paidOnTime=0, paidLate=1, amount=9)
    _report(history, "LoanClosedReported", LEDGER, 2)
    assert history.standing == {}
    assert history.record().current_days_past_due == 0
    assert history.record().loans_closed == 1


def test_a_reporter_is_listed_at_its_first_report_whatever_it_is() -> None:
    """As the registry: a reporter whose loan opening was never reported (its role was
    revoked then) is still summed into ``creditRecord`` from its first report on."""
    history = CreditHistory("0xB")
    _report(history, "LoanOpenedReported", LEDGER, 1)
    _report(history, "RepaymentReported", STRANGER, 4, paidOnTime=3, paidLate=0, amount=7)
    _report(history, "DelinquencyReported", STRANGER, 4, missed=1, daysPastDue=33)
    assert history.reporters == [LEDGER, STRANGER]
    assert history.reporter_record(STRANGER).paid_on_time == 3
    record = history.record()
    assert (record.paid_on_time, record.missed, record.max_days_past_due) == (3, 1, 33)
    assert record.current_days_past_due == 33


def test_other_events_change_nothing() -> None:
    history = CreditHistory("0xB")
    apply_registry_event(history, "RoleGranted", {"role": "0x00", "account": "0xA"})
    assert history == CreditHistory("0xB")


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
        "forbearances": 0,
        "decimals": 18,
    }
