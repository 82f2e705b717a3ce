"""Only an installment with an amount due, unpaid after its grace period, is a miss; lateness
inside the grace period is not reported as delinquency; default waits for the grace period.

The review found that a borrower who paid an interest-free bullet loan on time ended with
missed = 11 and paid late = 11, and that a keeper's `assess` one second after a due date left
a permanent maximum of 1 day past due for a borrower who then paid inside grace."""

from __future__ import annotations

from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PRINCIPAL = 12_000 * UNIT
PERIOD = 30 * DAY


def _credit(system: LedgerDriver, borrower: str) -> tuple[int, int, int, int]:
    r = system.record(borrower)  # type: ignore[arg-type]
    return r["paidOnTime"], r["paidLate"], r["missed"], r["maxDaysPastDue"]


def test_an_interest_free_bullet_paid_on_time_has_no_misses(system: LedgerDriver) -> None:
    borrower = system.accounts[2]
    start = system.day_end()
    loan_id = system.originate(
        borrower, kind=ScheduleKind.BULLET, apr_bps=0, installments=12, at=start
    )
    # A keeper assesses after every due date; nothing is due until the last installment.
    for k in range(1, 12):
        system.send(
            system.ledger.functions.assess(loan_id),
            system.accounts[5],
            at=start + k * PERIOD + 6 * DAY,
        )
    assert system.ledger.functions.daysPastDue(loan_id).call() == 0
    event = system.repay(loan_id, PRINCIPAL, borrower, at=start + 12 * PERIOD)
    assert event["status"] == 2 and event["installmentsPaid"] == 12
    assert _credit(system, borrower) == (1, 0, 0, 0)


def test_an_interest_free_annuity_with_dust_principal_counts_only_installments_due(
    system: LedgerDriver,
) -> None:
    # Five units over twelve installments: seven installments have nothing due.
    borrower = system.accounts[2]
    start = system.day_end()
    loan_id = system.originate(borrower, principal=5, apr_bps=0, installments=12, at=start)
    curve = Curve.of_period(ScheduleKind.ANNUITY, 5, 12, 0, PERIOD)
    with_amount = [k for k in range(1, 13) if sum(curve.part(k)) > 0]
    assert len(with_amount) == 5
    # Never paid: at the end every installment is past grace; only those with an amount due
    # are misses.
    system.send(
        system.ledger.functions.assess(loan_id),
        system.accounts[5],
        at=start + 12 * PERIOD + 6 * DAY,
    )
    assert system.record(borrower)["missed"] == 5


def test_an_assessment_inside_grace_reports_no_delinquency(system: LedgerDriver) -> None:
    borrower = system.accounts[2]
    start = system.day_end()
    loan_id = system.originate(borrower, at=start)  # five days' grace
    due = start + PERIOD
    receipt = system.send(system.ledger.functions.assess(loan_id), system.accounts[5], at=due + 1)
    # The ledger's own view: one day past due, bucket 1; the registry hears nothing of it.
    assert system.loan(loan_id)["bucket"] == 1
    assert system.events(receipt, "DelinquencyReported", system.registry) == []
    curve = Curve.of_period(ScheduleKind.ANNUITY, PRINCIPAL, 12, 1200, PERIOD)
    system.repay(loan_id, sum(curve.part(1)), borrower, at=due + 3 * DAY)
    assert _credit(system, borrower) == (1, 0, 0, 0)
    assert system.record(borrower)["currentDaysPastDue"] == 0
    # Past grace it is reported: installment 2 assessed six days late.
    system.send(
        system.ledger.functions.assess(loan_id), system.accounts[5], at=due + PERIOD + 6 * DAY
    )
    assert _credit(system, borrower) == (1, 0, 1, 6)


def test_default_waits_for_the_grace_period(system: LedgerDriver) -> None:
    borrower = system.accounts[2]
    start = system.day_end()
    loan_id = system.originate(borrower, default_after_days=1, grace=5 * DAY, at=start)
    due = start + PERIOD
    failure = system.reverts(
        "DefaultInsideGrace", system.ledger.functions.declareDefault(loan_id), at=due + 2 * DAY
    )
    assert failure.revert is not None and failure.revert.args["graceEnds"] == due + 5 * DAY
    assert system.loan(loan_id)["status"] == 0
    system.send(system.ledger.functions.declareDefault(loan_id), at=due + 5 * DAY + 1)
    assert system.loan(loan_id)["status"] == 1
