"""Several processes on one PostgreSQL index: two ``monitor run`` and one ``index sync
--follow``, one monitor killed with SIGKILL mid-run and replaced, deliver every notice to a
JSON-lines file exactly once (the outbox rows are claimed with ``FOR UPDATE SKIP LOCKED``), and
the index they all synced still agrees with the chain."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from loanservicing.chain.accounts import dev_signer
from loanservicing.indexing.verify import verify_index
from loanservicing.monitoring.notices import NoticeStore
from tests.cli.driver import Cli
from tests.support.indexing import IndexStore, open_index

LENDER = dev_signer(0).address
BORROWERS = [dev_signer(i).address for i in (1, 2, 3)]
REPAYMENTS = 24


def _written_ids(path: Path) -> list[str]:
    """The ids of the whole JSON lines in the file (a line torn by a kill is not one)."""
    ids: list[str] = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                ids.append(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return ids


def _logs(folder: Path) -> str:
    return "\n".join(f"{p.name}: {p.read_text()[-2000:]}" for p in sorted(folder.iterdir()))


def test_two_monitors_and_a_follower_deliver_each_notice_once_despite_a_kill_9(
    run: Cli, index_store: IndexStore, tmp_path: Path
) -> None:
    if index_store.kind != "postgresql":
        pytest.skip("SQLite has one writer; several processes on one index need PostgreSQL.")
    jsonl = tmp_path / "notices.jsonl"
    base = [sys.executable, "-m", "loanservicing.cli", *run.base]
    monitor = [*base, "monitor", "run", "--db", str(run.db), "--interval", "1s", "--quiet",
               "--jsonl", str(jsonl)]  # fmt: skip
    follower = [*base, "index", "sync", "--follow", "--db", str(run.db), "--json"]
    loans = [run.create(b, "5000") for b in BORROWERS]
    for borrower in BORROWERS:
        run.json("faucet", borrower, "1000")

    logs = tmp_path / "logs"
    logs.mkdir()

    def start(command: list[str]) -> subprocess.Popen[bytes]:
        with (logs / f"{len(list(logs.iterdir()))}.log").open("wb") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    processes = [start(follower), start(monitor), start(monitor)]
    rng = random.Random(20261202)
    try:
        for n in range(REPAYMENTS):
            i = n % len(loans)
            run.json("repay", str(loans[i]), "10", "--account", str(i + 1))
            if n == REPAYMENTS // 2:
                # Kill one monitor at a random moment of its run, and start another.
                victim = processes[1]
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                processes[1] = start(monitor)
            time.sleep(rng.uniform(0.0, 0.3))
        deadline = time.monotonic() + 60
        while True:
            with open_index(run.db) as db:
                store = NoticeStore(db)
                raised = [n.id for n in store.notices()]
                payments = len(store.notices(kind="payment_received"))
                pending = store.pending_count()
            if payments == REPAYMENTS and pending == 0:
                break
            assert all(p.poll() is None for p in processes), _logs(logs)  # none died
            assert time.monotonic() < deadline, (payments, pending, _logs(logs))
            time.sleep(0.2)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    written = Counter(_written_ids(jsonl))
    assert set(written) == set(raised)
    assert [i for i, count in written.items() if count > 1] == []
    with open_index(run.db) as db:  # three processes synced it: still the chain's view
        assert verify_index(db, run.url).differences == []
