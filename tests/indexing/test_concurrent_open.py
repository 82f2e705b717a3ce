"""Several processes opening one new PostgreSQL index at once all migrate it once (CI saw the
second process run the first migration again: its catalog cache still said "no version
table" after the first had made it)."""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Iterator

import pytest

from loanservicing.indexing.database import SCHEMA_VERSION, IndexDB
from loanservicing.monitoring.notices import NoticeStore

SERVER = os.environ.get("LOANSERVICING_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not SERVER, reason="needs PostgreSQL: set LOANSERVICING_TEST_DATABASE_URL (make test does)"
)


def _open(url: str) -> str:
    try:
        with IndexDB(url) as db:
            NoticeStore(db)
            return f"version {db.schema_version}"
    except Exception as exc:  # reported to the test, which fails on it
        return repr(exc)


@pytest.fixture
def fresh_schema() -> Iterator[str]:
    import psycopg

    schema = f"t_open_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_processes_opening_a_new_index_at_once_migrate_it_once(fresh_schema: str) -> None:
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.map(_open, [fresh_schema] * 3)
    assert results == [f"version {SCHEMA_VERSION}"] * 3
