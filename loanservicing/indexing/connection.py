"""One connection to the store an index lives in: SQLite (a file, the embedded default) or
PostgreSQL (a server), chosen by its location.

A location is a file path, ``sqlite:///path`` (``sqlite://`` alone: in memory), or a
``postgresql://`` (``postgres://``) URL in libpq's form; a schema other than ``public`` is
chosen with libpq's ``options``, e.g. ``postgresql://host/db?options=-csearch_path%3Dindex_a``.

Both connections take the SQL the index and the monitor write, with ``?`` placeholders, and
the schema's DDL in SQLite's words; for PostgreSQL the connection translates the few
differences: placeholders (``?`` becomes ``%s``), ``INTEGER`` (64-bit: ``BIGINT``), ``REAL``
(``DOUBLE PRECISION``), ``INTEGER PRIMARY KEY`` (a rowid that numbers itself: an identity
column), ``WITHOUT ROWID`` (dropped), and Python booleans (stored as 0 and 1, as SQLite does).
Everything else is written once in SQL both understand (``ON CONFLICT``, ``RETURNING``).

Transactions: :meth:`StoreConnection.transaction` is the one write transaction. Writers of
one index take turns on both stores: SQLite's ``BEGIN IMMEDIATE`` takes the file's write
lock, and on PostgreSQL the transaction first takes an advisory lock named for the database
and schema, so an indexer and monitors in several processes never interleave. Outside a
transaction each statement commits on its own. PostgreSQL also has
:meth:`StoreConnection.row_lock_transaction`, which takes no writer lock: a transaction for
claiming rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` (the monitor's outbox).

Rows are indexed by position and by column name (``row[0]``, ``row["loan_id"]``, ``keys()``)
on both stores.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg.conninfo

from loanservicing.indexing.errors import DatabaseConnectionLost, IndexDatabaseError

__all__ = [
    "STORE_ERRORS",
    "Cursor",
    "DatabaseConnectionLost",
    "PostgresConnection",
    "Row",
    "SqliteConnection",
    "StoreConnection",
    "StoreLocation",
    "apply_migrations",
    "connect",
    "parse_location",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, psycopg.Error)
"""What either store raises for a database it cannot use."""
_COPY_THRESHOLD = 64
"""From this many rows on, PostgreSQL's insert_many goes through COPY."""
_VERSION_TABLE = "index_schema_version"
"""PostgreSQL's stand-in for SQLite's ``PRAGMA user_version``: the index's schema version."""


class Row(Protocol):
    """A fetched row: by position, by column name, and ``keys()``."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Cursor(Protocol):
    """What ``execute`` returns: fetch its rows (each a :class:`Row`)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


@dataclass(frozen=True)
class StoreLocation:
    """Where an index lives: a SQLite file (``target`` its path) or a PostgreSQL database
    (``target`` the libpq URL)."""

    kind: Literal["sqlite", "postgresql"]
    target: str

    def __str__(self) -> str:
        """For messages: the path, or the URL with any password hidden."""
        if self.kind == "sqlite":
            return self.target
        parts = urlsplit(self.target)
        if parts.password is None:
            return self.target
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))


def parse_location(location: str | Path) -> StoreLocation:
    """A path or ``sqlite:///path`` is SQLite; ``postgresql://`` or ``postgres://`` is
    PostgreSQL; any other URL is refused."""
    text = str(location)
    if text.startswith(_POSTGRES_SCHEMES):
        return StoreLocation("postgresql", text)
    if text.startswith("sqlite://"):
        path = text.removeprefix("sqlite://")
        # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy writes them.
        return StoreLocation("sqlite", path.removeprefix("/") or ":memory:")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise IndexDatabaseError(
            f"{text} is not a database this program can use; name a file, sqlite:///path "
            "or postgresql://host/database."
        )
    return StoreLocation("sqlite", text)


def connect(location: str | Path | StoreLocation) -> StoreConnection:
    """Open the store at ``location`` (see :func:`parse_location`)."""
    where = location if isinstance(location, StoreLocation) else parse_location(location)
    if where.kind == "postgresql":
        return PostgresConnection(where)
    return SqliteConnection(where)


class StoreConnection(ABC):
    """One connection to SQLite or PostgreSQL, taking SQLite's SQL with ``?`` placeholders."""

    location: StoreLocation
    row_locks: bool = False
    """True when :meth:`row_lock_transaction` can claim rows (PostgreSQL)."""

    @property
    def kind(self) -> str:
        return self.location.kind

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], conflict: str
    ) -> None:
        """``INSERT INTO table (columns) ... conflict`` for every row (``conflict`` is the
        statement's ``ON CONFLICT ...`` tail). PostgreSQL stages many rows with COPY."""
        if not rows:
            return
        marks = ", ".join("?" for _ in columns)
        self.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) {conflict}", rows
        )

    @abstractmethod
    def transaction(self) -> Any:
        """A context manager: the write transaction (one writer at a time), committed at the
        end, rolled back on any exception."""

    def row_lock_transaction(self) -> Any:
        """A context manager: a transaction that takes row locks only (PostgreSQL)."""
        raise NotImplementedError(f"{self.kind} has no row locks; use transaction()")

    @abstractmethod
    def read_transaction(self) -> Any:
        """A context manager: a read-only transaction whose statements all see one snapshot
        (the state of one commit), taking no writer lock."""

    @abstractmethod
    def table_names(self) -> list[str]:
        """The tables of the store (its schema, on PostgreSQL), sorted."""

    @abstractmethod
    def user_version(self) -> int:
        """The index's schema version (0: none yet)."""

    @abstractmethod
    def set_user_version(self, version: int) -> None:
        """Record the index's schema version (inside the migration's transaction)."""

    @abstractmethod
    def script(self, ddl: str) -> None:
        """Run a migration: statements in SQLite's DDL, separated by ``;``."""

    @abstractmethod
    def close(self) -> None: ...

    def has_table(self, name: str) -> bool:
        return name in self.table_names()


def apply_migrations(
    conn: StoreConnection,
    migrations: Sequence[str],
    version: Callable[[], int],
    set_version: Callable[[int], None],
) -> None:
    """Apply each migration past ``version()`` in its own write transaction, recording the
    new version with ``set_version`` in the same transaction. The version is read again
    under the writer lock: another process may have migrated meanwhile."""
    current = version()
    while current < len(migrations):
        with conn.transaction():
            current = version()
            if current >= len(migrations):
                break
            conn.script(migrations[current])
            current += 1
            set_version(current)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


# --------------------------------------------------------------------------- SQLite


class SqliteConnection(StoreConnection):
    """A SQLite file in WAL mode, each statement its own transaction outside ``transaction()``."""

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        path = location.target
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.raw.row_factory = sqlite3.Row
        self.raw.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a killed process (not a power cut) with every
        # committed transaction intact.
        self.raw.execute("PRAGMA synchronous=NORMAL")
        # A page cache of 64 MiB (the default is 2 MiB): a large range's logs and their
        # indexes stay in memory until the commit instead of spilling to the WAL twice.
        self.raw.execute("PRAGMA cache_size=-65536")
        self.raw.execute("PRAGMA foreign_keys=ON")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[SqliteConnection]:
        """BEGIN IMMEDIATE (the file's write lock) ... COMMIT, or ROLLBACK on any exception."""
        self.raw.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    @contextmanager
    def read_transaction(self) -> Iterator[SqliteConnection]:
        """BEGIN (deferred: the first read takes the WAL snapshot) ... COMMIT; writers go on
        meanwhile and the reads see none of their changes."""
        self.raw.execute("BEGIN")
        try:
            yield self
        finally:
            self.raw.execute("COMMIT")

    def table_names(self) -> list[str]:
        rows = self.raw.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [str(r[0]) for r in rows]

    def user_version(self) -> int:
        return int(self.raw.execute("PRAGMA user_version").fetchone()[0])

    def set_user_version(self, version: int) -> None:
        self.raw.execute(f"PRAGMA user_version = {int(version)}")

    def script(self, ddl: str) -> None:
        for statement in _statements(ddl):
            self.raw.execute(statement)

    def close(self) -> None:
        self.raw.close()


# --------------------------------------------------------------------------- PostgreSQL


class _PgRow(tuple[Any, ...]):
    """A PostgreSQL row that reads like ``sqlite3.Row``: by position or by column name."""

    _names: list[str]
    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: list[str], index: dict[str, int]) -> _PgRow:
        row = super().__new__(cls, values)
        row._names, row._index = names, index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_rows(cursor: Any) -> Callable[[Sequence[Any]], _PgRow]:
    names = [column.name for column in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}

    def make(values: Sequence[Any]) -> _PgRow:
        return _PgRow(values, names, index)

    return make


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """``?`` placeholders as ``%s`` and a literal ``%`` as ``%%``, outside quoted text."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


_DDL = (
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\)\s*WITHOUT ROWID\s*$"), ")"),
)


def _pg_ddl(statement: str) -> str:
    for pattern, replacement in _DDL:
        statement = pattern.sub(replacement, statement)
    return statement


def _pg_params(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(int(p) if isinstance(p, bool) else p for p in params)


_LOST_STATES = frozenset(("57P01", "57P02", "57P03"))
"""SQLSTATEs of a server that ended the session: terminated by an administrator
(``pg_terminate_backend``), a crash of another backend, shutting down or not yet started."""


def _lost(raw: psycopg.Connection[Any], exc: psycopg.OperationalError) -> bool:
    """Whether ``exc`` means the connection is gone, not a statement that failed on it."""
    state = exc.sqlstate
    return bool(
        raw.broken
        or raw.closed
        or state is None
        or state.startswith("08")  # connection exception
        or state in _LOST_STATES
    )


def _reason(exc: psycopg.Error) -> str:
    """The server's or libpq's words, on one line, without a trailing period."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[0].removeprefix("FATAL:").removeprefix("ERROR:").strip().rstrip(".")


def _unreachable(location: StoreLocation, exc: psycopg.Error) -> IndexDatabaseError:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[0].rsplit(": ", 1)[-1].rstrip(".") if lines else type(exc).__name__
    return IndexDatabaseError(
        f"The PostgreSQL database {location} cannot be used ({reason}); check that its server "
        "runs and that the URL names it."
    )


class PostgresConnection(StoreConnection):
    """A PostgreSQL database through psycopg 3, in autocommit outside ``transaction()``.

    An ``OperationalError`` that means the connection is gone (the server stopped or
    restarted, the session was terminated, the network failed) is raised as
    :class:`DatabaseConnectionLost`, one sentence naming the server (never the password).
    """

    row_locks = True

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        options: dict[str, Any] = {"application_name": "loanservicing"}
        try:
            given = psycopg.conninfo.conninfo_to_dict(location.target)
        except psycopg.Error as exc:
            raise _unreachable(location, exc) from None
        if "connect_timeout" not in given:
            options["connect_timeout"] = 10
        try:
            self.raw: psycopg.Connection[_PgRow] = psycopg.connect(
                location.target, autocommit=True, row_factory=_pg_rows, **options
            )
        except psycopg.Error as exc:
            raise _unreachable(location, exc) from None
        schema, database = self.raw.execute(
            "SELECT current_schema(), current_database()"
        ).fetchone() or (None, None)
        if schema is None:
            self.raw.close()
            raise IndexDatabaseError(
                f"The PostgreSQL database {location} has no schema to hold the index (the "
                "search_path names none that exists); create it or name another."
            )
        self.schema = str(schema)
        self.server = self._server(given)
        digest = hashlib.blake2b(f"loanservicing:{database}:{schema}".encode(), digest_size=8)
        self._writer_lock = int.from_bytes(digest.digest(), "big", signed=True)

    def _server(self, given: dict[str, Any]) -> str:
        """HOST:PORT of the server, for messages (a socket directory stands for the host)."""
        info = self.raw.info
        host = str(given.get("host") or info.host or "localhost").split(",")[0]
        port = str(given.get("port") or info.port or 5432).split(",")[0]
        return f"{host}:{port}"

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Raise a lost connection as DatabaseConnectionLost; other errors as they are."""
        try:
            yield
        except psycopg.OperationalError as exc:
            if not _lost(self.raw, exc):
                raise
            raise DatabaseConnectionLost(
                f"Lost the connection to the database at {self.server}: {_reason(exc)}."
            ) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        with self._guard():
            return self.raw.execute(_pg_sql(sql), _pg_params(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._guard(), self.raw.cursor() as cursor:
            cursor.executemany(_pg_sql(sql), [_pg_params(r) for r in rows])

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], conflict: str
    ) -> None:
        """Many rows: COPY into a session-local staging table shaped like ``table``, then one
        ``INSERT ... SELECT ... conflict`` (the same outcome as one INSERT per row, at a
        fraction of the round trips). A few rows: ``executemany``."""
        if len(rows) < _COPY_THRESHOLD:
            super().insert_many(table, columns, rows, conflict)
            return
        names = ", ".join(columns)
        stage = f"stage_{table}"
        with self._guard(), self.raw.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS)"
            )
            with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_pg_params(row))
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} {conflict}")
            cursor.execute(f"TRUNCATE {stage}")

    @contextmanager
    def transaction(self) -> Iterator[PostgresConnection]:
        """BEGIN, the writer lock of this database and schema, ... COMMIT (ROLLBACK on any
        exception; the lock goes with the transaction)."""
        with self._guard(), self.raw.transaction():
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (self._writer_lock,))
            yield self

    @contextmanager
    def row_lock_transaction(self) -> Iterator[PostgresConnection]:
        with self._guard(), self.raw.transaction():
            yield self

    @contextmanager
    def read_transaction(self) -> Iterator[PostgresConnection]:
        """A REPEATABLE READ, READ ONLY transaction: every statement sees one snapshot."""
        with self._guard(), self.raw.transaction():
            self.raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield self

    def table_names(self) -> list[str]:
        with self._guard():
            return self._table_names()

    def _table_names(self) -> list[str]:
        rows = self.raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name <> %s ORDER BY table_name",
            (_VERSION_TABLE,),
        )
        return [str(r[0]) for r in rows]

    def user_version(self) -> int:
        with self._guard():
            return self._user_version()

    def _user_version(self) -> int:
        # pg_tables through a snapshot, not to_regclass: a backend's catalog cache can keep
        # "no such table" after another process created it (seen as two first migrations).
        found = self.raw.execute(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
            "AND tablename = %s",
            (_VERSION_TABLE,),
        ).fetchone()
        if found is None:
            return 0
        row = self.raw.execute(f"SELECT MAX(version) FROM {_VERSION_TABLE}").fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def set_user_version(self, version: int) -> None:
        with self._guard():
            self.raw.execute(
                f"CREATE TABLE IF NOT EXISTS {_VERSION_TABLE} (version BIGINT NOT NULL)"
            )
            self.raw.execute(f"DELETE FROM {_VERSION_TABLE}")
            self.raw.execute(f"INSERT INTO {_VERSION_TABLE} (version) VALUES (%s)", (int(version),))

    def script(self, ddl: str) -> None:
        with self._guard():
            for statement in _statements(ddl):
                self.raw.execute(_pg_ddl(statement))

    def close(self) -> None:
        self.raw.close()
