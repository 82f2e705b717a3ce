"""Reorgs seen by the indexer: Anvil's ``anvil_reorg`` at depths 1 to 10, and deeper than the
window of recent block hashes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loanservicing.deployment.compile import ContractArtifact
from loanservicing.indexing.verify import verify_index
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import UNIT, LedgerDriver, private_deployment


@pytest.fixture
def system(artifacts: dict[str, ContractArtifact]) -> Iterator[LedgerDriver]:
    """A private Anvil for every test: anvil_reorg rewrites history."""
    with private_deployment(artifacts) as system:
        yield system


def _payments(indexer_db: object) -> list[tuple[str, int]]:
    conn = indexer_db.conn  # type: ignore[attr-defined]
    return [
        (str(r[0]), int(r[1]))
        for r in conn.execute("SELECT tx_hash, amount FROM payments ORDER BY block_number")
    ]


def _repay_tx(
    s: LedgerDriver, loan_id: int, amount: int, payer: str, nonce: int
) -> dict[str, object]:
    data = s.ledger.functions.repay(loan_id, amount)._encode_transaction_data()
    return {
        "from": payer,
        "to": s.ledger.address,
        "data": data,
        "gas": 600_000,
        "nonce": nonce,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 1,
        "chainId": s.w3.eth.chain_id,
    }


@pytest.mark.parametrize("depth", range(1, 11))
def test_reorg_drops_and_replaces_repayments(
    system: LedgerDriver, tmp_path: Path, depth: int
) -> None:
    s = system
    borrower = s.accounts[5]
    loan_id = s.originate(borrower)
    s.fund(borrower, 10_000 * UNIT)
    indexer = make_indexer(s, tmp_path / "index.db", reorg_window=64)
    indexer.sync()
    nonce = s.w3.eth.get_transaction_count(borrower)
    # `depth` blocks, each with one repayment of 1..depth tokens.
    for i in range(depth):
        s.send(s.ledger.functions.repay(loan_id, (i + 1) * UNIT), borrower)
    indexer.sync()
    dropped = _payments(indexer.db)
    assert len(dropped) == depth
    # Replace them: the reorged chain has repayments of 50 + i tokens in every other block.
    replacements = [
        [_repay_tx(s, loan_id, (50 + i) * UNIT, borrower, nonce + n), i]
        for n, i in enumerate(range(0, depth, 2))
    ]
    s.rpc("anvil_reorg", [depth, replacements])
    report = indexer.sync()
    assert report.reorgs == 1
    assert report.rolled_back_blocks == depth
    now = _payments(indexer.db)
    assert [amount for _, amount in now] == [(50 + i) * UNIT for i in range(0, depth, 2)]
    assert not {tx for tx, _ in dropped} & {tx for tx, _ in now}
    logs = indexer.db.conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT tx_hash || ':' || event || ':' || log_index) FROM logs"
    ).fetchone()
    assert logs[0] == logs[1]  # no event stored twice
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []


def test_reorg_deeper_than_the_hash_window(system: LedgerDriver, tmp_path: Path) -> None:
    s = system
    borrower = s.accounts[6]
    loan_id = s.originate(borrower)
    s.fund(borrower, 10_000 * UNIT)
    indexer = make_indexer(s, tmp_path / "index.db", reorg_window=2)
    indexer.sync()
    snapshot = s.rpc("evm_snapshot", [])
    for i in range(8):
        s.send(s.ledger.functions.repay(loan_id, (i + 1) * UNIT), borrower)
    indexer.sync()
    assert len(_payments(indexer.db)) == 8
    # A different history of the same and greater height: one big repayment, then 9 blocks.
    s.rpc("evm_revert", [snapshot])
    s.send(s.ledger.functions.repay(loan_id, 700 * UNIT), borrower)
    for _ in range(9):
        s.rpc("evm_mine", [])
    report = indexer.sync()
    assert report.reorgs == 1
    assert [amount for _, amount in _payments(indexer.db)] == [700 * UNIT]
    assert verify_index(indexer.db, s.rpc_url, s.abis()).differences == []
