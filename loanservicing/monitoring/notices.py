"""Monitor notices: persisted, deduplicated, with a delivery outbox per channel.

The notices live in the index's database (SQLite or PostgreSQL), in tables of their own
(``monitor_*``, versioned in ``monitor_meta``; the index's own schema version is the indexer's
and is never touched here). Besides the notices, their outbox and the logs they came from:
each loan's bucket at the last evaluation (``monitor_loans``), the incremental tick's index
of upcoming deadlines (``monitor_deadlines``, see :mod:`loanservicing.monitoring.monitor`) and
the loans the keeper should assess (``monitor_behind``).

Exactly once:

* every notice has a deterministic id built from what it is about (kind, loan, and the
  installment, delinquency episode or transaction), and is inserted only when no notice has
  that id (under the writer lock, ``ON CONFLICT DO NOTHING`` besides): evaluating the same
  situation twice, or after a restart, or in two monitor processes, raises nothing new;
* the notice and its outbox rows (one per channel configured when it was raised) are written
  in ONE transaction, and a row is marked delivered right after its channel accepted it; a
  crash between the two re-sends at most that one notice, and receivers can dedupe by ``id``;
* delivering claims one outbox row at a time (:meth:`NoticeStore.claim`): on PostgreSQL with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` in a transaction that lasts until the row is marked,
  so monitors in several processes never send one notice at once, and a process killed
  mid-send releases its row to the others; SQLite has one writer, and reads the next row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loanservicing.amounts import iso_date
from loanservicing.indexing.connection import Row, apply_migrations
from loanservicing.indexing.database import IndexDB
from loanservicing.monitoring.errors import NoticeStoreError

__all__ = [
    "NOTICES_SCHEMA_VERSION",
    "NOTICE_KINDS",
    "NOTICE_ROW_COLUMNS",
    "Notice",
    "NoticeStore",
    "NoticeStoreError",
    "OutboxClaim",
    "PendingDelivery",
    "notice_row",
]

_T = TypeVar("_T")

NOTICE_KINDS = (
    "reminder",
    "payment_received",
    "overdue",
    "bucket_changed",
    "default_eligible",
    "defaulted",
    "restructured",
    "holiday_granted",
    "forbearance_granted",
    "forbearance_ended",
    "closed",
    "repayment_held",
    "credit_report_failed",
)


# In SQLite's words; the PostgreSQL connection translates the types (INTEGER PRIMARY KEY: an
# identity column).
_SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS monitor_notices (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    loan_id INTEGER NOT NULL,
    borrower TEXT NOT NULL,
    days_past_due INTEGER NOT NULL,
    amount TEXT NOT NULL,
    decimals INTEGER NOT NULL,
    due_timestamp INTEGER,
    chain_timestamp INTEGER NOT NULL,
    block INTEGER NOT NULL,
    details TEXT NOT NULL,
    raised_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS monitor_notices_by_time ON monitor_notices (chain_timestamp);
CREATE INDEX IF NOT EXISTS monitor_notices_by_kind ON monitor_notices (kind, chain_timestamp);
CREATE INDEX IF NOT EXISTS monitor_notices_by_loan ON monitor_notices (loan_id);
CREATE TABLE IF NOT EXISTS monitor_outbox (
    notice_seq INTEGER NOT NULL REFERENCES monitor_notices (seq),
    channel TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at REAL,
    failed INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (notice_seq, channel)
);
CREATE INDEX IF NOT EXISTS monitor_outbox_pending ON monitor_outbox (channel, notice_seq)
    WHERE delivered_at IS NULL AND failed = 0;
CREATE TABLE IF NOT EXISTS monitor_sources (
    block_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    notice_id TEXT NOT NULL,
    PRIMARY KEY (block_hash, log_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS monitor_loans (
    loan_id INTEGER PRIMARY KEY,
    bucket INTEGER NOT NULL
)
"""

# The incremental tick's index of upcoming deadlines (loanservicing.monitoring.deadlines): one
# row per active loan evaluated, read by time; rebuilt whole by a full evaluation.
_SCHEMA_2 = """
CREATE TABLE IF NOT EXISTS monitor_deadlines (
    loan_id INTEGER PRIMARY KEY,
    next_deadline INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS monitor_deadlines_by_time ON monitor_deadlines (next_deadline, loan_id)
"""

# The loans whose on-chain delinquency was behind at their last evaluation (the keeper's;
# kept by a monitor that tracks them, see Monitor.behind_loans).
_SCHEMA_3 = """
CREATE TABLE IF NOT EXISTS monitor_behind (
    loan_id INTEGER PRIMARY KEY
)
"""

_MIGRATIONS: tuple[str, ...] = (_SCHEMA_1, _SCHEMA_2, _SCHEMA_3)
NOTICES_SCHEMA_VERSION = len(_MIGRATIONS)
NOTICE_ROW_COLUMNS = (
    "id, kind, loan_id, borrower, days_past_due, amount, decimals, due_timestamp, "
    "chain_timestamp, block, details, raised_at"
)
"""The columns of a notice row as it is inserted (:func:`notice_row`)."""
_COLUMNS = (
    "seq, id, kind, loan_id, borrower, days_past_due, amount, decimals, due_timestamp, "
    "chain_timestamp, block, details"
)


@dataclass(frozen=True)
class Notice:
    """Something about a loan that needs attention; amounts in the token's smallest units."""

    id: str
    kind: str
    loan_id: int
    borrower: str
    days_past_due: int
    amount: int
    decimals: int
    due_timestamp: int | None
    chain_timestamp: int
    block: int
    details: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    """Order in which the store raised it (None before it is stored)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "loan_id": self.loan_id,
            "borrower": self.borrower,
            "days_past_due": self.days_past_due,
            "amount": self.amount,
            "decimals": self.decimals,
            "due_timestamp": self.due_timestamp,
            "due_date": iso_date(self.due_timestamp) if self.due_timestamp else None,
            "chain_timestamp": self.chain_timestamp,
            "chain_date": iso_date(self.chain_timestamp),
            "block": self.block,
            "seq": self.seq,
            "details": self.details,
        }


@dataclass(frozen=True)
class PendingDelivery:
    notice: Notice
    channel: str
    attempts: int


class NoticeStore:
    """The notice and outbox tables of one index database."""

    def __init__(self, db: IndexDB) -> None:
        self.db = db
        self.conn = db.conn
        self._arrays = db.conn.kind == "postgresql"
        """Many rows a statement as one array a column (PostgreSQL's ``unnest``)."""
        self.migrate()

    # ------------------------------------------------------------------ schema
    def _version(self) -> int:
        if not self.conn.has_table("monitor_meta"):
            return 0
        row = self.conn.execute(
            "SELECT value FROM monitor_meta WHERE key = 'schema_version'"
        ).fetchone()
        return 0 if row is None else int(row[0])

    def _set_version(self, version: int) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS monitor_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self.set_meta("schema_version", str(version))

    def migrate(self) -> None:
        version = self._version()
        if version > NOTICES_SCHEMA_VERSION:
            raise NoticeStoreError(
                f"The notice tables in {self.db.name} have schema version {version}, newer "
                f"than this program's {NOTICES_SCHEMA_VERSION}; upgrade loanservicing."
            )
        apply_migrations(self.conn, _MIGRATIONS, self._version, self._set_version)

    @property
    def schema_version(self) -> int:
        return self._version()

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM monitor_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO monitor_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------ raising
    def insert(self, notices: Iterable[Notice], channels: Sequence[str]) -> list[Notice]:
        """Insert the notices not yet raised, with an outbox row per channel; return the new
        ones (with ``seq``). Call inside ``db.transaction()``."""
        new: list[Notice] = []
        now = time.time()
        execute = self.conn.execute
        fresh: dict[str, Notice] = {}
        for n in notices:
            fresh.setdefault(n.id, n)  # the first of each id
        if self._arrays:
            if fresh:
                found = execute(
                    "SELECT id FROM monitor_notices WHERE id = ANY(?::text[])", (list(fresh),)
                )
                for r in found:
                    del fresh[str(r[0])]
        else:
            for chunk in _chunks(list(fresh), 900):
                marks = ", ".join("?" * len(chunk))
                for r in execute(f"SELECT id FROM monitor_notices WHERE id IN ({marks})", chunk):
                    del fresh[str(r[0])]
        # Many rows a statement; RETURNING names the rows this statement inserted (a notice
        # another writer raised meanwhile is not returned, so it is not ours to report).
        seqs: dict[str, int] = {}
        columns = NOTICE_ROW_COLUMNS
        if self._arrays:
            # PostgreSQL: the rows as one JSON parameter (one short statement, nothing for the
            # driver to escape row by row).
            names = [c.strip() for c in columns.split(",")]
            for batch in _chunks(list(fresh.values()), 5_000):
                rows = execute(
                    f"INSERT INTO monitor_notices ({columns}) SELECT {columns} FROM "
                    "json_populate_recordset(NULL::monitor_notices, ?::json) "
                    "ON CONFLICT DO NOTHING RETURNING seq, id",
                    (json.dumps([dict(zip(names, notice_row(n, now), strict=True))
                                 for n in batch]),),
                ).fetchall()  # fmt: skip
                seqs.update((str(r[1]), int(r[0])) for r in rows)
        else:
            for batch in _chunks(list(fresh.values()), 500):
                marks = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in batch)
                rows = execute(
                    f"INSERT INTO monitor_notices ({columns}) VALUES {marks} "
                    "ON CONFLICT DO NOTHING RETURNING seq, id",
                    [v for n in batch for v in notice_row(n, now)],
                ).fetchall()
                seqs.update((str(r[1]), int(r[0])) for r in rows)
        for n in fresh.values():
            seq = seqs.get(n.id)
            if seq is not None:
                new.append(_with_seq(n, seq))
        new.sort(key=lambda n: n.seq or 0)
        self.conn.executemany(
            "INSERT INTO monitor_outbox (notice_seq, channel) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(n.seq, channel) for n in new for channel in channels],
        )
        return new

    def has(self, notice_id: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM monitor_notices WHERE id = ?", (notice_id,))
        return row.fetchone() is not None

    # ------------------------------------------------------------------ sources
    def record_sources(self, rows: Iterable[tuple[str, int, str]]) -> None:
        """Remember which logs (block hash, log index) were turned into which notice id."""
        self.conn.executemany(
            "INSERT INTO monitor_sources (block_hash, log_index, notice_id) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            list(rows),
        )

    def delete_meta(self, key: str) -> None:
        self.conn.execute("DELETE FROM monitor_meta WHERE key = ?", (key,))

    # ------------------------------------------------------------------ loan buckets
    def buckets(self, loan_ids: Iterable[int] | None = None) -> dict[int, int]:
        """The delinquency bucket each loan was in at the monitor's previous evaluation (of
        every loan, or of those among ``loan_ids`` that have one stored)."""
        if loan_ids is None:
            rows = self.conn.execute("SELECT loan_id, bucket FROM monitor_loans")
            return {int(r[0]): int(r[1]) for r in rows}
        found: dict[int, int] = {}
        if self._arrays:
            rows = self.conn.execute(
                "SELECT loan_id, bucket FROM monitor_loans WHERE loan_id = ANY(?::bigint[])",
                (sorted(set(loan_ids)),),
            )
            return {int(r[0]): int(r[1]) for r in rows}
        for chunk in _chunks(sorted(set(loan_ids)), 900):
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT loan_id, bucket FROM monitor_loans WHERE loan_id IN ({marks})"
            for r in self.conn.execute(sql, chunk):
                found[int(r[0])] = int(r[1])
        return found

    def set_buckets(self, changes: Iterable[tuple[int, int]]) -> None:
        rows = list(changes)
        if self._arrays and len(rows) > 50:
            self.conn.execute(
                "INSERT INTO monitor_loans (loan_id, bucket) SELECT * FROM "
                "unnest(?::bigint[], ?::bigint[]) "
                "ON CONFLICT (loan_id) DO UPDATE SET bucket = excluded.bucket",
                ([r[0] for r in rows], [r[1] for r in rows]),
            )
            return
        self.conn.executemany(
            "INSERT INTO monitor_loans (loan_id, bucket) VALUES (?, ?) "
            "ON CONFLICT (loan_id) DO UPDATE SET bucket = excluded.bucket",
            rows,
        )

    # ------------------------------------------------------------------ deadlines
    def due_loans(self, now: int) -> list[int]:
        """The loans whose next deadline has come at ``now``, ascending."""
        rows = self.conn.execute(
            "SELECT loan_id FROM monitor_deadlines WHERE next_deadline <= ?", (now,)
        )
        return sorted(int(r[0]) for r in rows)

    def deadlines(self) -> dict[int, int]:
        """Every loan's next deadline in the index."""
        rows = self.conn.execute("SELECT loan_id, next_deadline FROM monitor_deadlines")
        return {int(r[0]): int(r[1]) for r in rows}

    def set_deadlines(self, rows: Sequence[tuple[int, int]], fresh: bool = False) -> None:
        """Store ``(loan_id, next_deadline)`` rows, one loan once; ``fresh``: the table was
        just emptied (plain inserts, for a rebuild of a million rows)."""
        upsert = (
            ""
            if fresh
            else " ON CONFLICT (loan_id) DO UPDATE SET next_deadline = excluded.next_deadline"
        )
        sql = "INSERT INTO monitor_deadlines (loan_id, next_deadline) "
        if self._arrays:
            for chunk in _chunks(rows, 50_000):
                ids, times = [r[0] for r in chunk], [r[1] for r in chunk]
                self.conn.execute(sql + "SELECT * FROM unnest(?::bigint[], ?::bigint[])" + upsert,
                                  (ids, times))  # fmt: skip
            return
        for chunk in _chunks(rows, 400):
            marks = ", ".join("(?, ?)" for _ in chunk)
            self.conn.execute(f"{sql}VALUES {marks}{upsert}", [v for row in chunk for v in row])

    def clear_deadlines(self, loan_ids: Iterable[int] | None = None) -> None:
        """Forget the deadlines of ``loan_ids`` (None: of every loan)."""
        if loan_ids is None:
            self.conn.execute("DELETE FROM monitor_deadlines")
            return
        ids = list(loan_ids)
        if self._arrays:
            for chunk in _chunks(ids, 50_000):
                self.conn.execute(
                    "DELETE FROM monitor_deadlines WHERE loan_id = ANY(?::bigint[])", (chunk,)
                )
            return
        self.conn.executemany(
            "DELETE FROM monitor_deadlines WHERE loan_id = ?", [(i,) for i in ids]
        )

    # ------------------------------------------------------------------ loans behind
    def behind(self) -> list[int]:
        """The loans found behind (``assess`` would record something) at their last
        evaluation, ascending."""
        rows = self.conn.execute("SELECT loan_id FROM monitor_behind ORDER BY loan_id")
        return [int(r[0]) for r in rows]

    def set_behind(self, behind: Sequence[int], replacing: Sequence[int] | None = None) -> None:
        """Record ``behind`` as the loans behind among ``replacing`` (None: among every
        loan; the table is replaced)."""
        if replacing is None:
            self.conn.execute("DELETE FROM monitor_behind")
        elif self._arrays:
            self.conn.execute(
                "DELETE FROM monitor_behind WHERE loan_id = ANY(?::bigint[])", (list(replacing),)
            )
        else:
            for chunk in _chunks(replacing, 900):
                marks = ", ".join("?" * len(chunk))
                self.conn.execute(f"DELETE FROM monitor_behind WHERE loan_id IN ({marks})", chunk)
        self.conn.executemany(
            "INSERT INTO monitor_behind (loan_id) VALUES (?)", [(i,) for i in behind]
        )

    # ------------------------------------------------------------------ outbox
    _PENDING = (
        f"SELECT {', '.join('n.' + c.strip() for c in _COLUMNS.split(','))}, o.attempts "
        "FROM monitor_outbox o JOIN monitor_notices n ON n.seq = o.notice_seq "
        "WHERE o.channel = ? AND o.delivered_at IS NULL AND o.failed = 0 "
        "ORDER BY o.notice_seq LIMIT ?"
    )

    def pending(self, channel: str, limit: int = 1000) -> list[PendingDelivery]:
        rows = self.conn.execute(self._PENDING, (channel, limit)).fetchall()
        return [PendingDelivery(_notice(r), channel, int(r["attempts"])) for r in rows]

    @contextmanager
    def claim(self, channel: str) -> Iterator[OutboxClaim | None]:
        """The channel's oldest undelivered notice, claimed until the block ends (None: there
        is none to claim). Mark it with the claim's ``delivered`` or ``attempted``.

        On PostgreSQL the row stays locked (``FOR UPDATE SKIP LOCKED``) in a transaction
        that commits the mark at the end of the block, and rolls it back, releasing the row,
        if the block raises or the process dies; another process skips a locked row. On
        SQLite (one writer) the row is read and each mark is its own transaction."""
        if not self.conn.row_locks:
            found = self.pending(channel, limit=1)
            yield OutboxClaim(self, found[0], locked=False) if found else None
            return
        with self.conn.row_lock_transaction():
            row = self.conn.execute(
                self._PENDING + " FOR UPDATE OF o SKIP LOCKED", (channel, 1)
            ).fetchone()
            if row is None:
                yield None
                return
            yield OutboxClaim(self, PendingDelivery(_notice(row), channel, int(row["attempts"])))

    def pending_count(self, channel: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM monitor_outbox WHERE delivered_at IS NULL AND failed = 0"
        params: tuple[Any, ...] = ()
        if channel is not None:
            sql += " AND channel = ?"
            params = (channel,)
        return int(self.conn.execute(sql, params).fetchone()[0])

    def mark_delivered(self, seq: int, channel: str) -> None:
        with self.db.transaction():
            self._set_delivered(seq, channel)

    def mark_attempt(self, seq: int, channel: str, error: str, permanent: bool) -> None:
        with self.db.transaction():
            self._set_attempt(seq, channel, error, permanent)

    def _set_delivered(self, seq: int, channel: str) -> None:
        self.conn.execute(
            "UPDATE monitor_outbox SET delivered_at = ?, attempts = attempts + 1, "
            "last_error = NULL WHERE notice_seq = ? AND channel = ?",
            (time.time(), seq, channel),
        )

    def _set_attempt(self, seq: int, channel: str, error: str, permanent: bool) -> None:
        self.conn.execute(
            "UPDATE monitor_outbox SET attempts = attempts + 1, last_error = ?, failed = ? "
            "WHERE notice_seq = ? AND channel = ?",
            (error, int(permanent), seq, channel),
        )

    def deliveries(self, seq: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT channel, attempts, delivered_at, failed, last_error FROM monitor_outbox "
            "WHERE notice_seq = ? ORDER BY channel",
            (seq,),
        )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ reading
    def notices(
        self,
        since: int | None = None,
        kind: str | None = None,
        loan_id: int | None = None,
        limit: int | None = None,
    ) -> list[Notice]:
        """Stored notices in the order they were raised, filtered by chain time (at or after
        ``since``), kind and loan."""
        sql = f"SELECT {_COLUMNS} FROM monitor_notices WHERE 1 = 1"
        params: list[Any] = []
        if since is not None:
            sql += " AND chain_timestamp >= ?"
            params.append(since)
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if loan_id is not None:
            sql += " AND loan_id = ?"
            params.append(loan_id)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_notice(r) for r in self.conn.execute(sql, params)]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT kind, COUNT(*) FROM monitor_notices GROUP BY kind")
        found = {str(r[0]): int(r[1]) for r in rows}
        return {kind: found.get(kind, 0) for kind in NOTICE_KINDS}


class OutboxClaim:
    """One outbox row claimed by :meth:`NoticeStore.claim`: send ``item.notice``, then mark
    the row ``delivered()`` or ``attempted(error, permanent)``."""

    def __init__(self, store: NoticeStore, item: PendingDelivery, locked: bool = True) -> None:
        self.store = store
        self.item = item
        self.locked = locked

    def delivered(self) -> None:
        seq = self.item.notice.seq or 0
        if self.locked:  # inside the claim's transaction: committed with it
            self.store._set_delivered(seq, self.item.channel)
        else:
            self.store.mark_delivered(seq, self.item.channel)

    def attempted(self, error: str, permanent: bool) -> None:
        seq = self.item.notice.seq or 0
        if self.locked:
            self.store._set_attempt(seq, self.item.channel, error, permanent)
        else:
            self.store.mark_attempt(seq, self.item.channel, error, permanent)


def _chunks(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


_details_json = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode
"""A notice's details as stored: compact, keys sorted (one encoder for every notice)."""


def notice_row(n: Notice, raised_at: float) -> tuple[Any, ...]:
    """The values of :data:`NOTICE_ROW_COLUMNS` for ``n``, raised at ``raised_at``."""
    return (
        n.id,
        n.kind,
        n.loan_id,
        n.borrower,
        n.days_past_due,
        str(n.amount),
        n.decimals,
        n.due_timestamp,
        n.chain_timestamp,
        n.block,
        _details_json(n.details),
        raised_at,
    )


def _with_seq(n: Notice, seq: int) -> Notice:
    """``n`` with its ``seq``: a copy of its fields (a frozen dataclass's ``__init__`` sets
    each field through ``object.__setattr__``, a cost a tick pays per notice raised)."""
    stored: Notice = object.__new__(Notice)
    stored.__dict__.update(n.__dict__, seq=seq)
    return stored


def _notice(r: Row) -> Notice:
    return Notice(
        id=str(r["id"]),
        kind=str(r["kind"]),
        loan_id=int(r["loan_id"]),
        borrower=str(r["borrower"]),
        days_past_due=int(r["days_past_due"]),
        amount=int(r["amount"]),
        decimals=int(r["decimals"]),
        due_timestamp=None if r["due_timestamp"] is None else int(r["due_timestamp"]),
        chain_timestamp=int(r["chain_timestamp"]),
        block=int(r["block"]),
        details=json.loads(r["details"]),
        seq=int(r["seq"]),
    )
