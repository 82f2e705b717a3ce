"""The keeper assesses exactly the loans whose on-chain delinquency is behind, in one bulk
batch, and a second round assesses none."""

from __future__ import annotations

from pathlib import Path

from loanservicing.chain.accounts import dev_signer
from loanservicing.chain.node import mine
from loanservicing.ledger.delinquency import behind_loans, bucket_of
from loanservicing.monitoring.keeper import Keeper, local_account
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver
from tests.support.monitoring import Watch


def test_keeper_assesses_exactly_the_loans_that_are_behind(
    system: LedgerDriver, tmp_path: Path
) -> None:
    s = system
    b = s.accounts[1]
    watch = Watch(s, tmp_path / "index.db")
    current = s.originate(b)
    missed = s.originate(b)
    assessed = s.originate(b)
    partial = s.originate(b)
    mine(s.w3, s.now() + 4 * DAY)
    in_grace = s.originate(b)
    s.repay(current, s.installment_total(current, 1), b)
    s.repay(partial, 100 * UNIT, b)
    mine(s.w3, s.due_date(assessed, 1) + 5 * DAY + 1)
    s.send(s.ledger.functions.assess(assessed))  # someone already did this one
    now = s.due_date(partial, 1) + 6 * DAY
    watch.tick(now)
    assert s.now() - s.due_date(in_grace, 1) < 5 * DAY  # late, within its grace period
    assert behind_loans(watch.indexer.db.loans(), now) == [missed, partial, in_grace]
    keeper = Keeper(s.w3, s.ledger.address, s.ledger.abi, local_account(dev_signer(8)), s.decoder)
    report = keeper.assess(behind_loans(watch.indexer.db.loans(), now))
    assert report.assessed == [missed, partial, in_grace] and report.failed == {}
    assert len(report.tx_hashes) == 3 and report.gas_used > 0
    for loan_id in (current, missed, assessed, partial, in_grace):
        view = s.view("loan", loan_id)
        names = [
            c["name"]
            for c in next(i for i in s.ledger.abi if i.get("name") == "loan")["outputs"][0][
                "components"
            ]
        ]
        fields = dict(zip(names, view, strict=True))
        assert fields["bucket"] == bucket_of(s.view("daysPastDue", loan_id)), loan_id
        assert fields["installmentsAssessedLate"] == (0 if loan_id in (current, in_grace) else 1)
    record = s.registry.functions.creditRecord(b).call()
    assert record[2] == 3  # missed: `assessed`, `missed`, `partial`
    # The index catches up; nothing is behind any more, so a second round sends nothing.
    watch.tick()
    assert behind_loans(watch.indexer.db.loans(), s.now()) == []
    assert keeper.assess(behind_loans(watch.indexer.db.loans(), s.now())).tx_hashes == []


def test_keeper_reports_a_loan_that_cannot_be_assessed(
    system: LedgerDriver, tmp_path: Path
) -> None:
    s = system
    loan_id = s.originate(s.accounts[2], default_after_days=10)
    mine(s.w3, s.due_date(loan_id, 1) + 11 * DAY)
    s.send(s.ledger.functions.declareDefault(loan_id))
    keeper = Keeper(s.w3, s.ledger.address, s.ledger.abi, local_account(dev_signer(8)), s.decoder)
    report = keeper.assess([loan_id])
    assert report.assessed == [] and "LoanNotActive" in report.failed[loan_id]
