"""The credit registry: counts after a mixed history, several ledgers reporting into one
registry, and reads open to anyone."""

from __future__ import annotations

from loanservicing.chain.abi import role
from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PERIOD = 30 * DAY


def test_mixed_history_counts(system: LedgerDriver) -> None:
    borrower = system.accounts[3]
    start = system.now() + 10
    curve = Curve.of_period(ScheduleKind.EQUAL_PRINCIPAL, 6_000 * UNIT, 6, 1200, PERIOD)
    good = system.originate(
        borrower,
        principal=6_000 * UNIT,
        installments=6,
        kind=ScheduleKind.EQUAL_PRINCIPAL,
        at=start,
    )
    bad = system.originate(borrower, default_after_days=60, at=start + 1)
    # Loan "good": 1 and 2 on time, 3 paid 10 days after its grace period (late, missed),
    # then paid off. Loan "bad": never paid; a keeper assesses it, the servicer declares
    # default at 60 days past due.
    keeper = system.accounts[5]
    system.repay(good, sum(curve.part(1)), borrower, at=start + PERIOD)
    system.send(system.ledger.functions.assess(bad), keeper, at=start + 1 + PERIOD + 6 * DAY)
    system.repay(good, sum(curve.part(2)), borrower, at=start + 2 * PERIOD - DAY)
    system.send(system.ledger.functions.declareDefault(bad), at=start + 1 + PERIOD + 60 * DAY)
    late_at = start + 3 * PERIOD + 15 * DAY
    system.repay(good, system.due(good, late_at)["pastDue"], borrower, at=late_at)
    payoff_at = late_at + DAY
    system.repay(good, system.due(good, payoff_at)["payoff"], borrower, at=payoff_at)
    record = system.record(borrower)
    assert record["loansOpened"] == 2 and record["loansClosed"] == 1
    # Installment 4 (current at the payoff) is settled on time; 5 and 6 were never due: the
    # payoff prepaid their principal and closed the loan, which counts as a closure.
    assert record["paidOnTime"] == 2 + 1
    assert record["paidLate"] == 1
    # Missed: installment 3 of "good"; of "bad", installment 1 at the assessment and
    # installment 2 at the default (installment 3 was still within its grace period).
    assert record["missed"] == 1 + 1 + 1
    assert record["defaults"] == 1
    # Current days past due are the worst open loan's ("bad", in default at 60 days), not the
    # latest report's (the payoff of "good"); the worst ever was 60 days.
    assert record["currentDaysPastDue"] == 60 and record["maxDaysPastDue"] == 60


def test_several_ledgers_report_into_one_registry(system: LedgerDriver) -> None:
    admin, borrower = system.admin, system.accounts[4]
    other = system.deploy_contract("LoanLedger", admin, system.registry.address)
    system.send(system.registry.functions.grantRole(role("REPORTER_ROLE"), other.address))
    second_lender = system.accounts[6]
    system.send(other.functions.grantRole(role("ORIGINATOR_ROLE"), second_lender))
    system.send(system.token.functions.mint(second_lender, 10**12))
    system.send(system.token.functions.approve(other.address, 2**255), second_lender)
    system.originate(borrower)
    now = system.now()
    terms = system.terms(
        borrower, 100 * UNIT, 0, 1, PERIOD, now + PERIOD, ScheduleKind.BULLET, DAY, 0, 0, 30
    )
    system.send(other.functions.setTokenAllowed(system.token.address, True))
    receipt = system.send(system.originate_call(terms, second_lender, ledger=other), second_lender)
    reports = system.events(receipt, "LoanOpenedReported", system.registry)
    assert reports == [{"borrower": borrower, "reporter": other.address, "loanId": 1}]
    assert system.record(borrower)["loansOpened"] == 2
    # Each reporter's figures are kept beside the total, so readers can weigh them by source.
    registry = system.registry.functions
    assert registry.reportersOf(borrower).call() == [system.ledger.address, other.address]
    for ledger in (system.ledger.address, other.address):
        assert registry.reporterRecord(borrower, ledger).call()[6] == 1
    # Anyone can read.
    assert (
        system.registry.functions.creditRecord(borrower).call({"from": system.accounts[9]})[6] == 2
    )


def test_current_days_past_due_are_the_worst_open_loans(system: LedgerDriver) -> None:
    # The review found that a one-unit payment on any current loan reset a borrower's current
    # days past due from 61 to 0.
    borrower = system.accounts[3]
    start = system.now() + 10
    behind = system.originate(borrower, at=start)
    current = system.originate(borrower, at=start + 1)
    keeper = system.accounts[5]
    curve = Curve.of_period(ScheduleKind.ANNUITY, 12_000 * UNIT, 12, 1200, PERIOD)
    for k in (1, 2, 3):
        system.repay(current, sum(curve.part(k)), borrower, at=start + 1 + k * PERIOD - DAY)
    at = start + PERIOD + 61 * DAY
    system.send(system.ledger.functions.assess(behind), keeper, at=at)
    assert system.record(borrower)["currentDaysPastDue"] == 61
    system.repay(current, 1, borrower, at=at + 1)
    record = system.record(borrower)
    assert record["currentDaysPastDue"] == 61 and record["maxDaysPastDue"] == 61
    loan_dpd = system.registry.functions.loanDaysPastDue(system.ledger.address, behind).call()
    assert loan_dpd == 61
    # Once the late loan is brought current, the borrower is current.
    payoff_at = at + 2
    system.repay(behind, system.due(behind, payoff_at)["payoff"], borrower, at=payoff_at)
    assert system.record(borrower)["currentDaysPastDue"] == 0
    assert system.record(borrower)["maxDaysPastDue"] == 61


def test_a_loan_id_belongs_to_one_borrower(system: LedgerDriver) -> None:
    reporter, first, second = system.accounts[8], system.accounts[3], system.accounts[4]
    system.send(system.registry.functions.grantRole(role("REPORTER_ROLE"), reporter))
    system.send(system.registry.functions.reportDelinquency(first, 7, 1, 12), reporter)
    failure = system.reverts(
        "LoanOfAnotherBorrower",
        system.registry.functions.reportDelinquency(second, 7, 1, 40),
        reporter,
    )
    assert failure.revert is not None and failure.revert.args["borrower"].lower() == first.lower()
    assert system.registry.functions.creditRecord(second).call()[3] == 0
    assert system.record(first)["currentDaysPastDue"] == 12
