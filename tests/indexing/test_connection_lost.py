"""The PostgreSQL server going away mid-use (the session terminated by the server): one
sentence naming the server, never a bare OperationalError and never the password."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.errors import DatabaseConnectionLost
from tests.support.indexing import IndexStore, index_location, make_indexer
from tests.support.ledger_driver import LedgerDriver

LOST = re.compile(
    r"^Lost the connection to the database at [^ :]+:\d+: terminating connection due to "
    r"administrator command\.$"
)


def _terminate(db: IndexDB, server: str) -> None:
    """End ``db``'s session from another connection, as an administrator (or a restart) would."""
    (pid,) = db.conn.execute("SELECT pg_backend_pid()").fetchone()
    with psycopg.connect(server, autocommit=True) as admin:
        (done,) = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
    assert done is True


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.fixture
def server(index_store: IndexStore) -> str:
    if index_store.kind != "postgresql" or index_store.server is None:
        pytest.skip("a lost connection is a PostgreSQL server's")
    return index_store.server


def test_a_terminated_session_is_one_sentence(server: str, tmp_path: Path) -> None:
    location = _with_password(index_location(tmp_path / "index.db"), "s3cret-pw")
    db = IndexDB(location)
    try:
        assert db.loan_count() == 0
        _terminate(db, server)
        with pytest.raises(DatabaseConnectionLost) as lost:
            db.loan_count()
        message = str(lost.value)
        assert LOST.match(message), message
        assert "s3cret-pw" not in message
        assert f"at {urlsplit(server).hostname}:{urlsplit(server).port or 5432}:" in message
        # Once lost, every later use says the same kind of sentence.
        later = pytest.raises(DatabaseConnectionLost, match=r"^Lost the connection to the database")
        with later, db.transaction():
            db.set_meta("k", "v")
    finally:
        db.close()


def test_sync_reports_a_lost_database_in_one_sentence(
    server: str, system: LedgerDriver, tmp_path: Path
) -> None:
    indexer = make_indexer(system, tmp_path / "index.db")
    indexer.sync()
    _terminate(indexer.db, server)
    with pytest.raises(DatabaseConnectionLost) as lost:
        indexer.sync()
    assert LOST.match(str(lost.value)), str(lost.value)
