"""The credit score recomputed from the event index equals the registry's own view, after a
history with on-time payments, a payoff, a miss and a default."""

from __future__ import annotations

from pathlib import Path

from loanservicing.ledger.credit_score import FACTORS, credit_score
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import DAY, LedgerDriver


def _history(s: LedgerDriver) -> None:
    """One borrower pays two installments on time and pays one off; the other misses, is
    assessed and declared in default."""
    good, bad = s.accounts[1], s.accounts[2]
    t0 = s.now() + 10
    paid = s.originate(good, at=t0)
    closed = s.originate(good, installments=2, at=t0 + 1)
    doomed = s.originate(bad, default_after_days=60, at=t0 + 2)
    s.repay(closed, s.due(closed, t0 + 20 * DAY)["payoff"], good, at=t0 + 20 * DAY)
    s.repay(paid, s.installment_total(paid, 1), good, at=s.due_date(paid, 1))
    s.send(s.ledger.functions.assess(doomed), s.accounts[5], at=s.due_date(doomed, 1) + 6 * DAY)
    s.repay(paid, s.installment_total(paid, 2), good, at=s.due_date(paid, 2))
    s.send(s.ledger.functions.declareDefault(doomed), at=s.due_date(doomed, 1) + 61 * DAY)


def test_the_index_recomputes_the_registrys_score(system: LedgerDriver, tmp_path: Path) -> None:
    _history(system)
    indexer = make_indexer(system, tmp_path / "index.db")
    indexer.sync()
    records = indexer.db.credit_records()
    assert len(records) == 2
    for borrower, record in records.items():
        score, parts = system.registry.functions.creditScore(borrower).call()
        recomputed = credit_score(record)
        assert recomputed.score == score and score >= 300, borrower
        assert [recomputed.factors[f.name] for f in FACTORS] == list(parts)
    scores = {credit_score(r).score for r in records.values()}
    assert len(scores) == 2  # the two borrowers' histories differ, and so do their scores
