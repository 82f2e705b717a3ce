"""The credit score recomputed from the event index equals the registry's own view, after a
history with on-time and late payments, a miss, a default and a closed loan."""

from __future__ import annotations

from pathlib import Path

from loanservicing.ledger.credit_score import FACTORS, credit_score
from tests.indexing.test_indexer import _history
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import LedgerDriver


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
