"""Helpers for the indexer and monitor tests: an indexer over the deployed system, and the
store each test's index lives in.

The indexer, monitor and index-CLI suites run on both stores: SQLite always, PostgreSQL when
``LOANSERVICING_TEST_DATABASE_URL`` names a server (``make test`` sets it). The autouse
``index_store`` fixture is parametrised for those suites (``tests/conftest.py``); a test names
its databases as SQLite files in ``tmp_path``, and :func:`index_location` turns each name into
the store's location: the path itself, or the server's URL with a fresh schema for that name
(``CREATE SCHEMA t_<random>``, chosen through libpq's ``search_path`` option and dropped after
the test), so tests in parallel workers never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from loanservicing.indexing.connection import parse_location
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer, IndexerConfig
from loanservicing.ledger.replay import apply_ledger_events
from loanservicing.ledger.state import LedgerEvent, LoanState
from tests.support.ledger_driver import LedgerDriver

__all__ = [
    "STORES",
    "IndexStore",
    "index_consistency",
    "index_exists",
    "index_location",
    "index_store",
    "make_indexer",
    "open_index",
    "postgres_url",
]

TEST_DATABASE_ENV = "LOANSERVICING_TEST_DATABASE_URL"
STORES = ("sqlite", "postgresql")
# Test modules whose every test runs once per store (beside tests/indexing, tests/monitoring).
STORE_SUITES = ("tests/indexing/", "tests/monitoring/", "tests/cli/test_index.py",
                "tests/cli/test_monitor.py", "tests/cli/test_monitor_processes.py",
                "tests/cli/test_database_option.py",
                "tests/cli/test_global_options.py")  # fmt: skip


def postgres_url() -> str | None:
    """The test server's URL, or None when PostgreSQL is not to be tested."""
    return os.environ.get(TEST_DATABASE_ENV) or None


def with_schema(url: str, schema: str) -> str:
    """``url`` with libpq's ``options`` choosing ``schema`` as the search path."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


class IndexStore:
    """The store of one test: its kind, and the schema behind each database name."""

    def __init__(self, kind: str, server: str | None = None) -> None:
        self.kind = kind
        self.server = server
        self._prefix = f"t_{secrets.token_hex(4)}"
        self.schemas: dict[str, str] = {}
        self.opened: list[IndexDB] = []
        """The indexes the test opened: closed after it (a test may leave one open)."""

    def location(self, path: Path | str) -> str:
        key = str(path)
        if self.kind == "sqlite" or self.server is None or key.startswith(self.server):
            return key  # a file, or already a location on the server
        if key not in self.schemas:
            schema = f"{self._prefix}_{len(self.schemas)}"
            with psycopg.connect(self.server, autocommit=True) as admin:
                admin.execute(f"CREATE SCHEMA {schema}")
            self.schemas[key] = schema
        return with_schema(self.server, self.schemas[key])

    def open(self, path: Path | str) -> IndexDB:
        db = IndexDB(self.location(path))
        self.opened.append(db)
        return db

    def drop(self) -> None:
        for db in self.opened:
            db.close()
        self.opened.clear()
        if not self.schemas or self.server is None:
            return
        with psycopg.connect(self.server, autocommit=True) as admin:
            for schema in self.schemas.values():
                admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.schemas.clear()


_current = IndexStore("sqlite")


def index_location(path: Path | str) -> str:
    """Where the database this test calls ``path`` lives on the test's store."""
    return _current.location(path)


def open_index(path: Path | str) -> IndexDB:
    """The index database this test calls ``path``, on the test's store (closed after the
    test if the test leaves it open)."""
    return _current.open(path)


def index_exists(path: Path | str) -> bool:
    """Whether the database exists yet (a PostgreSQL schema always does)."""
    location = parse_location(index_location(path))
    return location.kind != "sqlite" or Path(location.target).exists()


@pytest.fixture(autouse=True)
def index_store(request: pytest.FixtureRequest) -> Iterator[IndexStore]:
    """The store this test's indexes live in: ``sqlite`` unless parametrised."""
    global _current
    kind = getattr(request, "param", "sqlite")
    server = postgres_url()
    if kind == "postgresql" and server is None:
        pytest.skip(
            f"PostgreSQL store not tested: set {TEST_DATABASE_ENV}="
            "postgresql://127.0.0.1:5432/test (make test does) to run it."
        )
    store = IndexStore(kind, server)
    _current = store
    try:
        yield store
    finally:
        _current = IndexStore("sqlite")
        store.drop()


def make_indexer(system: LedgerDriver, db_path: Path | str, **options: Any) -> Indexer:
    """An indexer of ``system``'s ledger and registry from its deployment block, over the
    index this test calls ``db_path`` (on the test's store)."""
    options.setdefault("from_block", system.block)
    config = IndexerConfig(
        rpc_url=system.rpc_url,
        ledger=system.ledger.address,
        registry=system.registry.address,
        **options,
    )
    return Indexer(config, open_index(db_path), abis=system.abis())


def index_consistency(db: IndexDB) -> tuple[int, list[str]]:
    """What a reader of ``db`` sees, checked for agreement: (the checkpoint, the problems).

    In one snapshot (:meth:`IndexDB.snapshot`): every loan row equals the replay of that
    loan's stored logs and was last changed in its newest log's block, every loan with logs
    has a row, one payment row per ``RepaymentApplied`` log, no log above the checkpoint.
    Then, outside it, the same agreement of loans and logs asked in single statements (a
    reader in autocommit sees each statement on one commit)."""
    problems: list[str] = []
    with db.snapshot() as conn:
        checkpoint = min(c.block_number for c in db.checkpoints())
        stored = db.loans()
        updated = {
            int(r[0]): int(r[1]) for r in conn.execute("SELECT loan_id, updated_block FROM loans")
        }
        logs = db.logs()
        payments = int(conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0])
    by_loan: dict[int, dict[str, list[LedgerEvent]]] = {}
    newest: dict[int, int] = {}
    for row in logs:
        if row.loan_id is None:
            continue
        event = LedgerEvent(
            row.event, row.args, row.timestamp, row.block_number, row.log_index, row.tx_hash
        )
        by_loan.setdefault(row.loan_id, {}).setdefault(row.tx_hash, []).append(event)
        newest[row.loan_id] = row.block_number
    if set(by_loan) != set(stored):
        problems.append(f"loans with logs {sorted(by_loan)} but loan rows {sorted(stored)}")
    for loan_id, by_tx in by_loan.items():
        state: LoanState | None = None
        for events in by_tx.values():
            state = apply_ledger_events(state, events)
        if loan_id in stored and stored[loan_id] != state:
            problems.append(f"loan {loan_id}'s row differs from the replay of its logs")
        if updated.get(loan_id, newest[loan_id]) != newest[loan_id]:
            problems.append(f"loan {loan_id} updated in block {updated[loan_id]}, its newest "
                            f"log is in block {newest[loan_id]}")  # fmt: skip
    repayments = sum(1 for row in logs if row.event == "RepaymentApplied")
    if payments != repayments:
        problems.append(f"{payments} payment rows for {repayments} RepaymentApplied logs")
    if logs and max(row.block_number for row in logs) > checkpoint:
        problems.append(f"logs above the checkpoint {checkpoint}")
    (disagreeing,) = db.conn.execute(
        "SELECT COUNT(*) FROM loans WHERE updated_block <> COALESCE((SELECT MAX(block_number) "
        "FROM logs WHERE logs.loan_id = loans.loan_id), -1)"
    ).fetchone()
    (orphans,) = db.conn.execute(
        "SELECT COUNT(DISTINCT loan_id) FROM logs WHERE loan_id IS NOT NULL AND loan_id NOT IN "
        "(SELECT loan_id FROM loans)"
    ).fetchone()
    if disagreeing or orphans:
        problems.append(f"one statement saw {disagreeing} loans disagreeing with their logs "
                        f"and {orphans} loans with logs but no row")  # fmt: skip
    return checkpoint, problems
