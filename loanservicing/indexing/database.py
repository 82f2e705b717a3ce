"""The event index's database, in SQLite or PostgreSQL: writes and reads (the schema and its
migrations are :mod:`loanservicing.indexing.schema`, the two stores
:mod:`loanservicing.indexing.connection`).

Storage only; what to write comes from :mod:`loanservicing.indexing.sync`. Every change the
indexer makes for one fetched block range (logs, blocks, derived rows, checkpoints) happens inside
one ``transaction()``, so a process killed at any instant leaves the database at a range boundary.

Types: block numbers, timestamps, counts, basis points and enums are INTEGER (64-bit, BIGINT
in PostgreSQL); token amounts are TEXT holding the decimal integer on both stores (an
18-decimal amount does not fit a 64-bit integer), read back as ``int`` by the accessors
here. Addresses are checksummed text, hashes 0x-prefixed lowercase hex. A log is identified
by ``(block_hash, log_index)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loanservicing.indexing.connection import (
    STORE_ERRORS,
    Row,
    StoreConnection,
    StoreLocation,
    apply_migrations,
    connect,
    parse_location,
)
from loanservicing.indexing.errors import IndexDatabaseError
from loanservicing.indexing.loan_rows import (
    LOAN_COLUMNS,
    LOAN_SELECT,
    loan_from_row,
    loan_row,
)
from loanservicing.indexing.schema import MIGRATIONS, SCHEMA_VERSION
from loanservicing.ledger.credit import CreditHistory, CreditRecord
from loanservicing.ledger.state import LoanState

__all__ = [
    "SCHEMA_VERSION",
    "BlockRow",
    "Checkpoint",
    "IndexDB",
    "IndexDatabaseError",
    "LogRow",
    "TokenAllowance",
]


# Tables whose rows are projections of single logs: deleted with their block on a rollback.
_PER_LOG_TABLES = (
    "logs",
    "segments",
    "payments",
    "charges",
    "delinquency_changes",
    "rebates",
    "holds",
    "claims",
    "credit_report_failures",
    "token_allowances",
)

_CREDIT_FIELDS = (
    "borrower",
    "paid_on_time",
    "paid_late",
    "missed",
    "current_days_past_due",
    "max_days_past_due",
    "defaults",
    "loans_opened",
    "loans_closed",
    "forbearances",
    "total_repaid",
)
_FIGURE_FIELDS = (
    "paid_on_time",
    "paid_late",
    "missed",
    "max_days_past_due",
    "defaults",
    "loans_opened",
    "loans_closed",
    "forbearances",
    "total_repaid",
)
_REPORTER_COLUMNS = ("borrower", "reporter", "position", *_FIGURE_FIELDS)
_STANDING_COLUMNS = ("borrower", "reporter", "loan_id", "days_past_due")
_LOG_COLUMNS = (
    "block_hash", "log_index", "block_number", "timestamp", "tx_hash", "tx_index", "address",
    "event", "loan_id", "borrower", "args",
)  # fmt: skip


@dataclass(frozen=True)
class Checkpoint:
    """The last block indexed for one contract (hash None: nothing indexed yet)."""

    contract: str
    name: str
    block_number: int
    block_hash: str | None


@dataclass(frozen=True)
class BlockRow:
    number: int
    hash: str
    parent_hash: str | None
    timestamp: int
    has_logs: bool


@dataclass(frozen=True)
class TokenAllowance:
    """A token as the admin last allowed or disallowed it (``TokenAllowed``)."""

    token: str
    token_id: int
    decimals: int
    allowed: bool


@dataclass(frozen=True)
class LogRow:
    """A stored, decoded log."""

    block_hash: str
    log_index: int
    block_number: int
    timestamp: int
    tx_hash: str
    tx_index: int
    address: str
    event: str
    loan_id: int | None
    borrower: str | None
    args: dict[str, Any]


class IndexDB:
    """One index database; open it with ``IndexDB(location)`` (migrates) and ``close()``.

    ``location`` is a SQLite file path (or ``sqlite:///path``, ``:memory:``) or a
    ``postgresql://`` URL (see :func:`loanservicing.indexing.connection.parse_location`).
    ``path`` is the location as given (open it again with it); ``name`` is how messages
    name it (a URL without its password)."""

    def __init__(self, path: str | Path | StoreLocation) -> None:
        self.location = path if isinstance(path, StoreLocation) else parse_location(path)
        self.path = self.location.target if isinstance(path, StoreLocation) else str(path)
        self.name = str(self.location)
        try:
            self.conn: StoreConnection = connect(self.location)
        except STORE_ERRORS as exc:
            raise self._unusable(exc) from None
        try:
            self.migrate()
        except STORE_ERRORS as exc:
            self.conn.close()
            raise self._unusable(exc) from None
        except BaseException:
            self.conn.close()
            raise

    def _unusable(self, exc: Exception) -> IndexDatabaseError:
        reason = " ".join(str(exc).split()).rstrip(".")
        return IndexDatabaseError(
            f"{self.name} cannot be used as an index database ({reason}); name another "
            "file, or delete it to index again."
        )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> IndexDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema
    @property
    def schema_version(self) -> int:
        return self.conn.user_version()

    def migrate(self) -> None:
        """Apply every migration newer than the database's version, each in its own
        transaction."""
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise IndexDatabaseError(
                f"The index database {self.name} has schema version {version}, newer than "
                f"this program's {SCHEMA_VERSION}; upgrade loanservicing or use another file."
            )
        apply_migrations(self.conn, MIGRATIONS, self.conn.user_version, self.conn.set_user_version)

    @contextmanager
    def transaction(self) -> Iterator[StoreConnection]:
        """The write transaction: committed at the end, rolled back on any exception; one
        writer at a time (SQLite's BEGIN IMMEDIATE, PostgreSQL's writer lock)."""
        with self.conn.transaction():
            yield self.conn

    @contextmanager
    def snapshot(self) -> Iterator[StoreConnection]:
        """A read-only transaction: the reads inside it all see the index as one commit left
        it (a reader beside a syncing indexer never sees half of a range or of a rollback)."""
        with self.conn.read_transaction():
            yield self.conn

    # -------------------------------------------------------------------- meta
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------- checkpoints
    def checkpoints(self) -> list[Checkpoint]:
        rows = self.conn.execute(
            "SELECT contract, name, block_number, block_hash FROM checkpoints ORDER BY contract"
        ).fetchall()
        return [Checkpoint(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def set_checkpoint(self, contract: str, name: str, number: int, block_hash: str | None) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints (contract, name, block_number, block_hash) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (contract) DO UPDATE SET "
            "block_number = excluded.block_number, block_hash = excluded.block_hash",
            (contract, name, number, block_hash),
        )

    # ------------------------------------------------------------------ blocks
    def upsert_blocks(self, blocks: Iterable[BlockRow]) -> None:
        self.conn.executemany(
            "INSERT INTO blocks (number, hash, parent_hash, timestamp, has_logs) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET hash = excluded.hash, "
            "parent_hash = COALESCE(excluded.parent_hash, blocks.parent_hash), "
            "timestamp = excluded.timestamp, has_logs = CASE WHEN excluded.has_logs > "
            "blocks.has_logs THEN excluded.has_logs ELSE blocks.has_logs END",
            [(b.number, b.hash, b.parent_hash, b.timestamp, int(b.has_logs)) for b in blocks],
        )

    def prune_blocks(self, below: int) -> None:
        """Forget blocks without logs numbered below ``below`` (outside the reorg window)."""
        self.conn.execute("DELETE FROM blocks WHERE number < ? AND has_logs = 0", (below,))

    def block(self, number: int) -> BlockRow | None:
        row = self.conn.execute(
            "SELECT number, hash, parent_hash, timestamp, has_logs FROM blocks WHERE number = ?",
            (number,),
        ).fetchone()
        return None if row is None else BlockRow(row[0], row[1], row[2], row[3], bool(row[4]))

    def block_hashes_below(self, number: int, limit: int) -> list[tuple[int, str]]:
        """Stored (number, hash) at or below ``number``, newest first."""
        rows = self.conn.execute(
            "SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC LIMIT ?",
            (number, limit),
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    # -------------------------------------------------------------------- logs
    def insert_logs(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows in the column order of ``logs``; a log already stored is left as it is."""
        self.conn.insert_many("logs", _LOG_COLUMNS, rows, "ON CONFLICT DO NOTHING")

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        if table not in _PER_LOG_TABLES:
            raise ValueError(f"unknown per-log table {table}")
        self.conn.insert_many(table, columns, rows, "ON CONFLICT DO NOTHING")

    def logs_of_loans(self, loan_ids: Iterable[int]) -> list[LogRow]:
        """Every stored ledger log of the given loans, in chain order."""
        ids = sorted(set(loan_ids))
        result: list[LogRow] = []
        for chunk in _chunks(ids, 500):
            marks = ", ".join("?" for _ in chunk)
            result += self._log_rows(f"SELECT * FROM logs WHERE loan_id IN ({marks})", chunk)
        result.sort(key=lambda r: (r.block_number, r.log_index))
        return result

    def logs_of_borrowers(self, borrowers: Iterable[str]) -> list[LogRow]:
        """Every stored credit-registry log of the given borrowers, in chain order."""
        keys = sorted(set(borrowers))
        result: list[LogRow] = []
        for chunk in _chunks(keys, 500):
            marks = ", ".join("?" for _ in chunk)
            result += self._log_rows(
                f"SELECT * FROM logs WHERE borrower IN ({marks}) AND loan_id IS NULL", chunk
            )
        result.sort(key=lambda r: (r.block_number, r.log_index))
        return result

    def logs(self, event: str | None = None, since_block: int = 0) -> list[LogRow]:
        sql = "SELECT * FROM logs WHERE block_number >= ?"
        params: list[Any] = [since_block]
        if event is not None:
            sql += " AND event = ?"
            params.append(event)
        rows = self._log_rows(sql + " ORDER BY block_number, log_index", params)
        return rows

    def _log_rows(self, sql: str, params: Sequence[Any]) -> list[LogRow]:
        return [
            LogRow(
                r["block_hash"],
                r["log_index"],
                r["block_number"],
                r["timestamp"],
                r["tx_hash"],
                r["tx_index"],
                r["address"],
                r["event"],
                r["loan_id"],
                r["borrower"],
                json.loads(r["args"]),
            )
            for r in self.conn.execute(sql, params)
        ]

    def count_logs(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM logs").fetchone()[0])

    def rollback_above(self, number: int) -> tuple[set[int], set[str]]:
        """Delete every log, per-log row and block above ``number``.

        Returns the loan ids and borrowers whose derived state the deleted logs touched.
        """
        loans = {
            int(r[0])
            for r in self.conn.execute(
                "SELECT DISTINCT loan_id FROM logs WHERE block_number > ? AND loan_id IS NOT NULL",
                (number,),
            )
        }
        borrowers = {
            str(r[0])
            for r in self.conn.execute(
                "SELECT DISTINCT borrower FROM logs "
                "WHERE block_number > ? AND borrower IS NOT NULL",
                (number,),
            )
        }
        for table in _PER_LOG_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE block_number > ?", (number,))
        self.conn.execute("DELETE FROM blocks WHERE number > ?", (number,))
        return loans, borrowers

    # ---------------------------------------------------------------- tokens
    def token_decimals(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in self.conn.execute("SELECT address, decimals FROM tokens")}

    def set_token_decimals(self, address: str, decimals: int) -> None:
        self.conn.execute(
            "INSERT INTO tokens (address, decimals) VALUES (?, ?) "
            "ON CONFLICT (address) DO UPDATE SET decimals = excluded.decimals",
            (address, decimals),
        )

    def token_symbols(self) -> dict[str, str]:
        """The symbol of each token the index has asked one of."""
        rows = self.conn.execute("SELECT address, symbol FROM tokens WHERE symbol IS NOT NULL")
        return {str(r[0]): str(r[1]) for r in rows}

    def set_token_symbol(self, address: str, symbol: str) -> None:
        self.conn.execute("UPDATE tokens SET symbol = ? WHERE address = ?", (symbol, address))

    # ----------------------------------------------------------------- loans
    def save_loans(self, states: Iterable[LoanState], block: int) -> None:
        self.save_loans_at([(state, block) for state in states])

    def save_loans_at(self, states: Sequence[tuple[LoanState, int]]) -> None:
        """Write each loan's state with the block it was last changed in (one row per loan)."""
        self.conn.insert_many(
            "loans",
            LOAN_COLUMNS,
            [loan_row(state, block) for state, block in states],
            _on_conflict_update(LOAN_COLUMNS, "loan_id"),
        )

    def delete_loans(self, loan_ids: Iterable[int]) -> None:
        self.conn.executemany("DELETE FROM loans WHERE loan_id = ?", [(i,) for i in loan_ids])

    def loan(self, loan_id: int) -> LoanState | None:
        row = self.conn.execute(
            f"SELECT {LOAN_SELECT} FROM loans WHERE loan_id = ?", (loan_id,)
        ).fetchone()
        return None if row is None else loan_from_row(row)

    def loans(self, loan_ids: Iterable[int] | None = None) -> dict[int, LoanState]:
        """Loan states by id (ascending): all of them, or those among ``loan_ids`` that
        exist."""
        if loan_ids is None:
            rows = self.conn.execute(f"SELECT {LOAN_SELECT} FROM loans ORDER BY loan_id")
            return {s.loan_id: s for s in map(loan_from_row, rows)}
        ids = sorted(set(loan_ids))
        if self.conn.kind == "postgresql":  # one statement, the ids as one array
            rows = self.conn.execute(
                f"SELECT {LOAN_SELECT} FROM loans WHERE loan_id = ANY(?::bigint[]) "
                "ORDER BY loan_id",
                (ids,),
            )
            return {s.loan_id: s for s in map(loan_from_row, rows)}
        result: dict[int, LoanState] = {}
        for chunk in _chunks(ids, 900):
            marks = ", ".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT {LOAN_SELECT} FROM loans WHERE loan_id IN ({marks}) ORDER BY loan_id",
                chunk,
            )
            result.update((s.loan_id, s) for s in map(loan_from_row, rows))
        return result

    def loan_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM loans").fetchone()[0])

    # --------------------------------------------------------- credit records
    def save_credit_histories(self, histories: Iterable[CreditHistory], block: int) -> None:
        """Write each borrower's history: its record (``credit_records``), its reporters'
        figures and its loans reported past due, replacing what was stored for it."""
        self.save_credit_histories_at([(history, block) for history in histories])

    def save_credit_histories_at(self, histories: Sequence[tuple[CreditHistory, int]]) -> None:
        """As :meth:`save_credit_histories`, each history with its own block (one per
        borrower), in a few statements for all of them."""
        if not histories:
            return
        records: list[tuple[Any, ...]] = []
        reporters: list[tuple[Any, ...]] = []
        standing: list[tuple[Any, ...]] = []
        for history, block in histories:
            borrower = history.borrower
            record = history.record()
            records.append(
                (
                    *(getattr(record, f) for f in _CREDIT_FIELDS[:-1]),
                    str(record.total_repaid),
                    block,
                )
            )
            positions: dict[str, int] = {}
            for i, reporter in enumerate(history.reporters):
                positions.setdefault(reporter, i)
            for reporter, figures in history.figures.items():
                reporters.append(
                    (
                        borrower,
                        reporter,
                        positions.get(reporter),
                        *(getattr(figures, f) for f in _FIGURE_FIELDS[:-1]),
                        str(figures.total_repaid),
                    )
                )
            standing += [
                (borrower, r, loan_id, dpd) for (r, loan_id), dpd in history.standing.items()
            ]
        columns = (*_CREDIT_FIELDS, "updated_block")
        self.conn.insert_many(
            "credit_records", columns, records, _on_conflict_update(columns, "borrower")
        )
        keys = sorted({history.borrower for history, _ in histories})
        for chunk in _chunks(keys, 500):
            marks = ", ".join("?" for _ in chunk)
            for table in ("credit_reporters", "credit_standing"):
                self.conn.execute(f"DELETE FROM {table} WHERE borrower IN ({marks})", chunk)
        self.conn.insert_many("credit_reporters", _REPORTER_COLUMNS, reporters, "")
        self.conn.insert_many("credit_standing", _STANDING_COLUMNS, standing, "")

    def delete_credit_records(self, borrowers: Iterable[str]) -> None:
        keys = [(b,) for b in borrowers]
        for table in ("credit_records", "credit_reporters", "credit_standing"):
            self.conn.executemany(f"DELETE FROM {table} WHERE borrower = ?", keys)

    def credit_records(self, borrowers: Iterable[str] | None = None) -> dict[str, CreditRecord]:
        """The borrowers' records (``creditRecord``), by borrower: all, or those given."""
        return {
            r["borrower"]: CreditRecord(
                **{f: r[f] for f in _CREDIT_FIELDS[:-1]}, total_repaid=int(r["total_repaid"])
            )
            for r in self._by_borrower("credit_records", borrowers)
        }

    def credit_histories(self, borrowers: Iterable[str] | None = None) -> dict[str, CreditHistory]:
        """The borrowers' histories as the registry keeps them: all, or those given."""
        histories = {b: CreditHistory(b) for b in self.credit_records(borrowers)}
        for r in self._by_borrower("credit_reporters", borrowers, "position"):
            history = histories.setdefault(r["borrower"], CreditHistory(r["borrower"]))
            if r["position"] is not None:
                history.reporters.append(r["reporter"])
            history.figures[r["reporter"]] = CreditRecord(
                r["borrower"],
                **{f: r[f] for f in _FIGURE_FIELDS[:-1]},
                total_repaid=int(r["total_repaid"]),
            )
        for r in self._by_borrower("credit_standing", borrowers):
            history = histories.setdefault(r["borrower"], CreditHistory(r["borrower"]))
            history.standing[(r["reporter"], int(r["loan_id"]))] = int(r["days_past_due"])
        return histories

    def _by_borrower(
        self, table: str, borrowers: Iterable[str] | None, order: str = "borrower"
    ) -> list[Row]:
        if borrowers is None:
            return self.conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        rows: list[Row] = []
        for chunk in _chunks(sorted(set(borrowers)), 500):
            marks = ", ".join("?" for _ in chunk)
            rows += self.conn.execute(
                f"SELECT * FROM {table} WHERE borrower IN ({marks}) ORDER BY {order}", chunk
            ).fetchall()
        return rows

    # ------------------------------------------------------- money and tokens
    def claimable_balances(self) -> dict[tuple[str, str], int]:
        """What each lender may claim in each token, by (lender, token): the balance after
        its latest held repayment, 0 after a claim."""
        rows = self.conn.execute(
            "SELECT lender, token, claimable AS balance, block_number, log_index FROM holds "
            "UNION ALL SELECT lender, token, '0', block_number, log_index FROM claims "
            "ORDER BY block_number, log_index"
        )
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}

    def token_allowances(self) -> dict[str, TokenAllowance]:
        """Each token the admin allowed or disallowed, by address: its latest ``TokenAllowed``."""
        rows = self.conn.execute(
            "SELECT token, token_id, decimals, allowed FROM token_allowances "
            "ORDER BY block_number, log_index"
        )
        return {
            str(r[0]): TokenAllowance(str(r[0]), int(r[1]), int(r[2]), bool(r[3])) for r in rows
        }

    # ------------------------------------------------------------------ dump
    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's rows, sorted: two databases with equal dumps hold the same index."""
        tables = self.conn.table_names()
        result: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables:
            rows = [tuple(r) for r in self.conn.execute(f"SELECT * FROM {table}")]
            result[table] = sorted(rows, key=repr)
        result["schema_version"] = [(self.schema_version,)]
        return result


def _on_conflict_update(columns: Sequence[str], key: str) -> str:
    """The tail of an INSERT of every column that replaces the row with the same ``key``."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates}"


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
