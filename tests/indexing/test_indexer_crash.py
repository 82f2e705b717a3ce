"""Crash safety: a ``sync`` killed with SIGKILL at random points, then restarted, leaves the
same database as an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from loanservicing.chain.node import AnvilNode
from loanservicing.deployment.compile import ContractArtifact
from tests.support.indexing import index_exists, index_location, make_indexer, open_index
from tests.support.ledger_driver import UNIT, LedgerDriver

LOANS = 12
REPAYMENTS = 240


@pytest.fixture(scope="module")
def busy_chain(artifacts: dict[str, ContractArtifact]) -> Iterator[LedgerDriver]:
    """Its own Anvil with a few hundred blocks of loans and repayments."""
    with AnvilNode() as node:
        w3 = Web3(HTTPProvider(node.rpc_url))
        s = LedgerDriver.deploy(w3, artifacts, node.rpc_url)
        borrowers = s.accounts[1:5]
        loans = [s.originate(borrowers[i % len(borrowers)]) for i in range(LOANS)]
        for borrower in borrowers:
            s.fund(borrower, 1_000_000 * UNIT)
        for n in range(REPAYMENTS):
            loan_id = loans[n % LOANS]
            payer = borrowers[(loan_id - 1) % len(borrowers)]
            w3.eth.send_transaction(
                {
                    "from": payer,
                    "to": s.ledger.address,
                    "data": s.ledger.functions.repay(
                        loan_id, (n % 7 + 1) * 10 * UNIT
                    )._encode_transaction_data(),
                    "gas": 600_000,
                }
            )
        yield s


def _sync_command(s: LedgerDriver, db: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "loanservicing.cli",
        "index",
        "sync",
        "--db",
        index_location(db),
        "--rpc-url",
        s.rpc_url,
        "--ledger",
        s.ledger.address,
        "--registry",
        s.registry.address,
        "--from-block",
        str(s.block),
        "--range",
        "1",
        "--max-range",
        "1",
        "--json",
    ]


def _checkpoint(db: Path) -> int:
    if not index_exists(db):
        return -1
    with open_index(db) as index:
        points = index.checkpoints()
        return min((p.block_number for p in points), default=-1)


def test_kill_9_then_restart_equals_an_uninterrupted_run(
    busy_chain: LedgerDriver, tmp_path: Path
) -> None:
    s = busy_chain
    head = s.w3.eth.block_number
    baseline = make_indexer(s, tmp_path / "baseline.db")
    baseline.sync()
    expected = baseline.db.dump()

    db = tmp_path / "killed.db"
    rng = random.Random(20261128)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    interrupted_at: list[int] = []
    for _ in range(8):
        process = subprocess.Popen(
            _sync_command(s, db), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            # Wait until this run has committed something new, then kill it a moment later.
            before = _checkpoint(db)
            deadline = time.monotonic() + 30
            while _checkpoint(db) <= before and process.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        interrupted_at.append(_checkpoint(db))
        if interrupted_at[-1] >= head:
            break
    assert any(s.block < point < head for point in interrupted_at), interrupted_at

    finished = subprocess.run(_sync_command(s, db), env=env, capture_output=True, timeout=120)
    assert finished.returncode == 0, finished.stderr.decode()
    with open_index(db) as index:
        assert index.dump() == expected
