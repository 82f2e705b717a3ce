"""A PostgreSQL schema of its own for one benchmark run, dropped afterwards (shared by the
benchmarks that write an index into PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg


@contextmanager
def scratch_schema(server: str) -> Iterator[str]:
    """The URL of ``server`` with ``search_path`` set to a new, empty schema, which is
    dropped (with everything in it) when the block ends."""
    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
