"""A reorg rolled back while another connection reads the index in a loop: the reader sees
the index before the rollback or after it, never half of it (both stores)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from loanservicing.deployment.compile import ContractArtifact
from loanservicing.indexing.verify import verify_index
from tests.support.indexing import index_consistency, make_indexer, open_index
from tests.support.ledger_driver import UNIT, LedgerDriver, private_deployment

READS_DURING_ROLLBACK = 20
PAUSE_LIMIT_S = 60.0  # a guard against a reader that cannot read at all, not a timing


@pytest.fixture
def system(artifacts: dict[str, ContractArtifact]) -> Iterator[LedgerDriver]:
    """A private Anvil: evm_revert rewrites history."""
    with private_deployment(artifacts) as system:
        yield system


def test_a_reader_never_sees_half_a_rollback(
    system: LedgerDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = system
    borrowers = s.accounts[5:8]
    loans = []
    for borrower in borrowers:
        loans.append(s.originate(borrower))
        s.fund(borrower, 10_000 * UNIT)
    indexer = make_indexer(s, tmp_path / "index.db", reorg_window=64)
    indexer.sync()
    snapshot = s.rpc("evm_snapshot", [])
    for i in range(3):
        for loan_id, borrower in zip(loans, borrowers, strict=True):
            s.send(s.ledger.functions.repay(loan_id, (i + 1) * UNIT), borrower)
    s.originate(s.accounts[8])  # a loan the reorg takes away
    indexer.sync()
    assert len(indexer.db.loans()) == 4
    # Another history, longer: one repayment of 700 tokens, then empty blocks.
    s.rpc("evm_revert", [snapshot])
    s.send(s.ledger.functions.repay(loans[0], 700 * UNIT), borrowers[0])
    for _ in range(30):
        s.rpc("evm_mine", [])

    # The rollback pauses after deleting the reorged blocks' rows and before rebuilding
    # the loans they touched (inside its one transaction) until the reader has read
    # READS_DURING_ROLLBACK times.
    in_rollback = threading.Event()
    resume = threading.Event()
    rebuild = indexer.projections.rebuild

    def paused_rebuild(loan_ids: set[int], borrowers: set[str]) -> None:
        in_rollback.set()
        resume.wait(PAUSE_LIMIT_S)
        rebuild(loan_ids, borrowers)

    monkeypatch.setattr(indexer.projections, "rebuild", paused_rebuild)
    reader_db = open_index(tmp_path / "index.db")
    stop = threading.Event()
    seen: list[tuple[int, list[str]]] = []
    during: list[int] = []
    failure: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                was_paused = in_rollback.is_set() and not resume.is_set()
                seen.append(index_consistency(reader_db))
                if was_paused:
                    during.append(seen[-1][0])
                    if len(during) >= READS_DURING_ROLLBACK:
                        resume.set()
        except BaseException as exc:  # reported by the test's thread
            failure.append(exc)
            resume.set()

    reader = threading.Thread(target=read, name="index-reader")
    reader.start()
    try:
        report = indexer.sync()
    finally:
        stop.set()
        resume.set()
        reader.join()
    assert failure == []
    assert report.reorgs == 1
    assert len(during) >= READS_DURING_ROLLBACK  # the reader read while the rollback was open
    problems = [p for _, found in seen for p in found]
    assert problems == []
    # During the rollback it saw the index as the last range left it; at the end, the new one.
    before = during[0]
    assert set(during) == {before}
    checkpoint, found = index_consistency(reader_db)
    assert found == []
    assert before < checkpoint == s.w3.eth.block_number
    assert len(reader_db.loans()) == 3
    amounts = [int(r[0]) for r in reader_db.conn.execute("SELECT amount FROM payments")]
    assert amounts == [700 * UNIT]
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []
