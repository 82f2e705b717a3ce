"""``follow``: a node stopped and brought back with the same chain, and the latency from a
repayment's block to the index with 1-second blocks."""

from __future__ import annotations

import gzip
import logging
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from loanservicing.chain.node import AnvilNode, find_anvil
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.indexing.sync import Indexer
from loanservicing.indexing.verify import verify_index
from tests.support.indexing import make_indexer, open_index
from tests.support.ledger_driver import UNIT, LedgerDriver


def _wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _payments(db_path: Path) -> int:
    with open_index(db_path) as db:
        return int(db.conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0])


@pytest.fixture
def following() -> Iterator[Callable[[Indexer], None]]:
    """Run ``indexer.follow`` in a thread, stopped and joined at the end of the test."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(indexer: Indexer) -> None:
        thread = threading.Thread(target=indexer.follow, args=(stop,), daemon=True)
        thread.start()
        threads.append(thread)

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


def test_follow_waits_for_a_stopped_node_and_catches_up(
    artifacts: dict[str, ContractArtifact],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    following: Callable[[Indexer], None],
) -> None:
    caplog.set_level(logging.WARNING, logger="loanservicing.indexing.sync")
    node = AnvilNode().start()
    restarted: subprocess.Popen[bytes] | None = None
    try:
        w3 = Web3(HTTPProvider(node.rpc_url))
        s = LedgerDriver.deploy(w3, artifacts, node.rpc_url)
        borrower = s.accounts[1]
        loan_id = s.originate(borrower)
        s.repay(loan_id, 100 * UNIT, borrower)
        db_path = tmp_path / "index.db"
        indexer = make_indexer(
            s, db_path, poll_interval=0.05, backoff_initial=0.05, backoff_max=0.2
        )
        following(indexer)
        _wait_until(lambda: _payments(db_path) == 1)

        state = gzip.decompress(bytes.fromhex(s.rpc("anvil_dumpState", [])[2:]))
        (tmp_path / "state.json").write_bytes(state)
        port = node.port
        node.stop()
        _wait_until(lambda: caplog.text.count("is unreachable") >= 3)
        assert _payments(db_path) == 1

        restarted = subprocess.Popen(
            [
                str(find_anvil()),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--silent",
                "--load-state",
                str(tmp_path / "state.json"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_until(lambda: "answers again" in caplog.text)
        # A timestamp after the reloaded chain's head: the restarted node's own clock may be
        # behind the blocks it reloaded.
        s.repay(loan_id, 200 * UNIT, borrower, at=s.now() + 1)
        _wait_until(lambda: _payments(db_path) == 2)
        with open_index(db_path) as db:
            assert verify_index(db, s.rpc_url, s.abis()).differences == []
            assert db.conn.execute("SELECT COUNT(*) FROM logs").fetchone()[0] == len(
                {(r[0], r[1]) for r in db.conn.execute("SELECT tx_hash, log_index FROM logs")}
            )
        assert "Chain reorganisation" not in caplog.text  # same chain came back
    finally:
        node.stop()
        if restarted is not None:
            restarted.terminate()
            restarted.wait(timeout=10)


def test_repayment_is_indexed_within_one_second_of_its_block(
    artifacts: dict[str, ContractArtifact],
    tmp_path: Path,
    following: Callable[[Indexer], None],
) -> None:
    with AnvilNode() as node:
        w3 = Web3(HTTPProvider(node.rpc_url))
        s: LedgerDriver = LedgerDriver.deploy(w3, artifacts, node.rpc_url)
        borrower = s.accounts[1]
        loan_id = s.originate(borrower)
        s.fund(borrower, 10_000 * UNIT)
        # From now on, one block a second, as on a real chain.
        s.rpc("evm_setAutomine", [False])
        s.rpc("evm_setIntervalMining", [1])
        commits: list[tuple[int, float]] = []
        indexer = make_indexer(s, tmp_path / "index.db", poll_interval=0.1)
        indexer.on_commit.append(lambda first, last: commits.append((last, time.monotonic())))
        following(indexer)
        latencies = []
        for n in range(4):
            tx = w3.eth.send_transaction(
                {
                    "from": borrower,
                    "to": s.ledger.address,
                    "data": s.ledger.functions.repay(
                        loan_id, (n + 1) * UNIT
                    )._encode_transaction_data(),
                    "gas": 600_000,
                }
            )
            # Observe the block's arrival as closely as a client can: poll every 5 ms.
            while True:
                receipt = w3.eth.get_transaction_receipt(tx) if _mined(w3, tx) else None
                if receipt is not None:
                    mined_at = time.monotonic()
                    break
                time.sleep(0.005)
            block = receipt["blockNumber"]
            _wait_until(lambda b=block: any(last >= b for last, _ in commits), timeout=5)
            indexed_at = next(t for last, t in commits if last >= block)
            latencies.append(max(0.0, indexed_at - mined_at))
        assert max(latencies) < 1.0, latencies
        logging.getLogger(__name__).warning(
            "index latency with 1 s blocks: median %.3f s, max %.3f s",
            statistics.median(latencies),
            max(latencies),
        )


def _mined(w3: Web3, tx: bytes) -> bool:
    try:
        w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
    except Exception:
        return False
    return True
