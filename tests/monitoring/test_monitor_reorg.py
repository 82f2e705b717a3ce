"""Notices across reorgs (Anvil's ``anvil_reorg``): no payment notice is lost or raised twice,
including a repayment transaction that the new chain includes again in another block."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loanservicing.deployment.compile import ContractArtifact
from loanservicing.monitoring.channels import Dispatcher, JsonLinesChannel
from tests.support.ledger_driver import UNIT, LedgerDriver, private_deployment
from tests.support.monitoring import Watch


@pytest.fixture
def system(artifacts: dict[str, ContractArtifact]) -> Iterator[LedgerDriver]:
    """A private Anvil for every test: anvil_reorg rewrites history."""
    with private_deployment(artifacts) as system:
        yield system


def _repay_tx(s: LedgerDriver, loan_id: int, amount: int, payer: str, nonce: int) -> dict[str, Any]:
    return {
        "from": payer,
        "to": s.ledger.address,
        "data": s.ledger.functions.repay(loan_id, amount)._encode_transaction_data(),
        "gas": hex(600_000),
        "nonce": hex(nonce),
        "maxFeePerGas": hex(10**11),
        "maxPriorityFeePerGas": hex(1),
        "chainId": hex(s.w3.eth.chain_id),
        "type": "0x2",
    }


@pytest.mark.parametrize("depth", [1, 2, 5, 10])
def test_reorg_keeps_one_notice_per_payment(
    system: LedgerDriver, tmp_path: Path, depth: int
) -> None:
    s = system
    borrower = s.accounts[7]
    loan_id = s.originate(borrower)
    s.fund(borrower, 10_000 * UNIT)
    watch = Watch(s, tmp_path / "index.db")
    jsonl = JsonLinesChannel(tmp_path / "notices.jsonl")
    dispatcher = Dispatcher(watch.monitor.store, [jsonl])
    watch.tick(channels=(jsonl.name,))
    nonce = s.w3.eth.get_transaction_count(borrower)
    originals = [_repay_tx(s, loan_id, (i + 1) * UNIT, borrower, nonce + i) for i in range(depth)]
    dropped = [s.rpc("eth_sendTransaction", [tx]) for tx in originals]  # one block each
    for tx_hash in dropped:  # Anvil may answer before it has mined the block
        s.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    before = watch.tick(channels=(jsonl.name,)).raised
    dispatcher.deliver()
    assert [n.kind for n in before] == ["payment_received"] * depth
    assert [n.details["tx_hash"] for n in before] == dropped
    # The new chain: the first repayment again, identical, one block later (another block
    # hash and log position), then replacements of 50 + i tokens in every other block.
    replacements: list[list[Any]] = [[originals[0], min(1, depth - 1)]]
    replacements += [
        [_repay_tx(s, loan_id, (50 + i) * UNIT, borrower, nonce + 1 + n), i]
        for n, i in enumerate(range(2, depth, 2))
    ]
    s.rpc("anvil_reorg", [depth, replacements])
    report = watch.tick(channels=(jsonl.name,))
    assert report.rescanned  # the monitor's last event block is gone from the index
    after = report.raised
    dispatcher.deliver()
    assert watch.indexer.db.conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0] == len(
        replacements
    )
    payments = [
        str(r[0])
        for r in watch.indexer.db.conn.execute(
            "SELECT tx_hash FROM payments ORDER BY block_number, log_index"
        )
    ]
    assert payments[0] == dropped[0]  # the same transaction, mined again
    # Exactly one notice per payment now in the index; the re-mined one was not raised again.
    store = watch.monitor.store
    stored = store.notices(kind="payment_received")
    by_tx = {n.details["tx_hash"]: n for n in stored}
    assert len(by_tx) == len(stored)
    assert set(payments) <= set(by_tx)
    assert [n.details["tx_hash"] for n in after if n.kind == "payment_received"] == payments[1:]
    # Notices of payments the reorg removed stay recorded (they were sent).
    assert set(dropped) <= set(by_tx)
    assert len(stored) == depth + len(payments) - 1
    # The file got every notice exactly once.
    lines = [json.loads(line)["id"] for line in jsonl.path.read_text().splitlines()]
    assert sorted(lines) == sorted(n.id for n in store.notices()) and len(lines) == len(set(lines))
    assert watch.tick().raised == []
