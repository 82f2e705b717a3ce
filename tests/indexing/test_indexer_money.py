"""The index of the ledger's money and reporting events against a real Anvil: repayments held
for a blocklisted lender and claimed, interest rebated at payoff, credit reports the registry
refused, the token allowlist, and a second reporter's records beside the ledger's."""

from __future__ import annotations

from pathlib import Path

from loanservicing.chain.abi import role
from loanservicing.indexing.verify import verify_index
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.schedule import Curve, ScheduleKind
from loanservicing.ledger.state import LoanStatus
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PERIOD = 30 * DAY
INSTALLMENT = sum(Curve.of_period(ScheduleKind.ANNUITY, 12_000 * UNIT, 12, 1200, PERIOD).part(1))


def test_held_repayments_claims_and_the_allowlist(system: LedgerDriver, tmp_path: Path) -> None:
    s = system
    borrower, lender, rescue = s.accounts[1], s.admin, s.accounts[8]
    token = s.deploy_contract("BlocklistStablecoin", "Blocked USD", "bUSD", 6, s.admin)
    s.send(s.ledger.functions.setTokenAllowed(token.address, True))
    start = s.now() + 10
    loan_id = s.originate(borrower, token=token, at=start)
    s.send(token.functions.setBlocked(lender, True))
    s.repay(loan_id, INSTALLMENT, borrower, at=start + PERIOD, token=token)  # on-time path
    late = start + 2 * PERIOD + 10 * DAY
    owed = s.due(loan_id, late)["pastDue"]
    s.repay(loan_id, owed, borrower, at=late, token=token)  # general path
    indexer = make_indexer(s, tmp_path / "index.db")
    indexer.sync()
    db = indexer.db
    assert db.claimable_balances() == {(lender, token.address): INSTALLMENT + owed}
    holds = db.conn.execute("SELECT amount, claimable FROM holds ORDER BY block_number")
    assert [(int(a), int(c)) for a, c in holds] == [
        (INSTALLMENT, INSTALLMENT),
        (owed, INSTALLMENT + owed),
    ]
    assert verify_index(db, s.rpc_url, s.abis()).differences == []

    s.send(s.ledger.functions.claim(token.address, rescue))
    s.send(s.ledger.functions.setTokenAllowed(token.address, False))
    indexer.sync()
    assert db.claimable_balances() == {(lender, token.address): 0}
    (claim,) = db.conn.execute("SELECT lender, token, recipient, amount FROM claims")
    assert tuple(claim) == (lender, token.address, rescue, str(INSTALLMENT + owed))
    allowance = db.token_allowances()[token.address]
    assert (allowance.allowed, allowance.decimals) == (False, 6)
    assert db.token_allowances()[s.token18.address].allowed
    report = verify_index(db, s.rpc_url, s.abis())
    assert report.differences == []
    assert (report.balances, report.tokens) == (1, len(db.token_allowances()))
    assert db.loans()[loan_id].paid_count == 2


def test_a_payoff_after_a_prepayment_rebates_interest_paid_ahead(
    system: LedgerDriver, tmp_path: Path
) -> None:
    """A prepayment pays the running installment's interest in full; a payoff ten days into
    that period credits back what was not earned (InterestRebated)."""
    s = system
    borrower = s.accounts[2]
    start = s.now() + 10
    loan_id = s.originate(borrower, at=start)
    s.repay(loan_id, 3 * INSTALLMENT, borrower, at=start + 10 * DAY)  # a prepayment
    indexer = make_indexer(s, tmp_path / "index.db")
    indexer.sync()
    state = indexer.db.loans()[loan_id]
    assert state.advance_pending and state.advance > 0
    t = start + 20 * DAY
    quote = s.due(loan_id, t)
    assert amount_due(state, t).as_tuple() == tuple(quote.values())
    assert quote["interestRebate"] > 0
    event = s.repay(loan_id, quote["payoff"], borrower, at=t)
    (rebated,) = s.events(event["receipt"], "InterestRebated")
    indexer.sync()
    assert rebated["amount"] == quote["interestRebate"]
    (row,) = indexer.db.conn.execute("SELECT loan_id, amount FROM rebates")
    assert (row[0], int(row[1])) == (loan_id, rebated["amount"])
    closed = indexer.db.loans()[loan_id]
    assert closed.status is LoanStatus.CLOSED and not closed.advance_pending
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []


def test_failed_reports_and_another_reporters_records(system: LedgerDriver, tmp_path: Path) -> None:
    s = system
    borrower, other_ledger = s.accounts[3], s.accounts[9]
    start = s.now() + 10
    loan_id = s.originate(borrower, at=start)
    reporter = role("REPORTER_ROLE")
    # A second reporter (an account holding the role) reports a loan of its own, past due.
    s.send(s.registry.functions.grantRole(reporter, other_ledger))
    s.send(s.registry.functions.reportLoanOpened(borrower, 41), other_ledger)
    s.send(s.registry.functions.reportDelinquency(borrower, 41, 2, 45), other_ledger)
    # The ledger's role revoked: its reports fail and are recorded; servicing goes on.
    s.send(s.registry.functions.revokeRole(reporter, s.ledger.address))
    late = start + PERIOD + 20 * DAY
    s.repay(loan_id, s.due(loan_id, late)["pastDue"], borrower, at=late)
    s.send(s.registry.functions.grantRole(reporter, s.ledger.address))
    s.send(s.ledger.functions.assess(loan_id), at=start + 3 * PERIOD)
    indexer = make_indexer(s, tmp_path / "index.db")
    indexer.sync()
    db = indexer.db
    failures = db.conn.execute("SELECT loan_id, selector FROM credit_report_failures")
    delinquency = s.registry.functions.reportDelinquency(borrower, 0, 0, 0)
    repayment = s.registry.functions.reportRepayment(borrower, 0, 0, 0, 0, False)
    assert [tuple(r) for r in failures] == [
        (loan_id, delinquency._encode_transaction_data()[:10]),
        (loan_id, repayment._encode_transaction_data()[:10]),
    ]
    history = db.credit_histories()[borrower]
    assert history.reporters == [s.ledger.address, other_ledger]
    assert history.loan_days_past_due(other_ledger, 41) == 45
    assert history.loan_days_past_due(s.ledger.address, loan_id) > 0  # the assess reported
    assert history.reporter_record(other_ledger).missed == 2
    report = verify_index(db, s.rpc_url, s.abis())
    assert [d.sentence() for d in report.differences] == []
    assert report.borrowers == 1
    # The other reporter's loan is brought current: the worst open loan is the ledger's.
    s.send(s.registry.functions.reportDelinquency(borrower, 41, 0, 0), other_ledger)
    indexer.sync()
    history = db.credit_histories()[borrower]
    assert history.loan_days_past_due(other_ledger, 41) == 0
    record = db.credit_records()[borrower]
    assert record.current_days_past_due == history.loan_days_past_due(s.ledger.address, loan_id)
    assert record.max_days_past_due >= 45
    assert verify_index(db, s.rpc_url, s.abis()).differences == []
