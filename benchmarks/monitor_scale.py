"""A day's monitor tick over 10,000, 100,000 and 1,000,000 loans: full evaluation versus the
incremental tick, on SQLite and on PostgreSQL.

Run: ``.venv/bin/python benchmarks/monitor_scale.py [--loans 10000 --loans 100000 ...]
[--database sqlite --database postgresql://postgres@127.0.0.1:5432/test] [--reminder-days 3]``
(default: the three sizes; SQLite, and PostgreSQL at that URL when the server answers; the
monitor's default reminder window). Not part of the tests.

Data: no chain. 900 template loans are serviced by the ledger's Python twin
(:mod:`loanservicing.ledger`: ``replay.originate`` from a ``LoanOriginated`` event, then
``repayments.repay``): the three schedule kinds, 12 monthly installments (30-day periods), first
due dates spread over 30 days, originated 75 days before the benchmark's clock; 85 % of them paid
every installment two days before its due date, 10 % paid the first and then stopped, 5 % never
paid (so the book has current, 1-30, 31-60 and 61-90-day loans with charges). The index is
filled directly: loan ``i`` is template ``i mod 900`` under its own id, written through
``IndexDB.save_loans`` in batches of 10,000 (one block row, no logs). On PostgreSQL each size
gets a schema of its own, dropped afterwards.

Method, per database and size:

1. first tick at the clock: the incremental monitor has no deadline index yet, so it evaluates
   every loan, raises the backlog and builds the index (timed, reported);
2. the day: 1 % of the loans (every 100th) repay what they owe (``repay`` on their state at noon
   of the next day), written as the indexer would: new states through ``save_loans``, the
   calls' events as ``logs`` rows of one new block and the repayments' ``payments`` rows (with
   their days past due); the clock moves one day;
3. full tick: every loan evaluated (``Monitor(incremental=False)``), in a transaction rolled
   back at its end (``dry_run``), so that both ticks start from the same store;
4. incremental tick: the loans with new logs plus those past their deadline, committed;
5. quiet tick: the incremental tick a minute later (no new logs, hardly a deadline): what a
   tick costs when nothing changed;
6. the store's floor for the incremental tick (``storage_floor``): the rows of the loans its
   notices are about fetched bare, and as many notice rows inserted in bulk and committed,
   with nothing computed: what any monitor storing those notices in this store would pay.

The notices the two ticks raise must be identical (ids and fields); the benchmark stops
otherwise. Prints a table, then as the last line one JSON object with the figures, ``ratio``
(full ÷ incremental seconds at the largest size, per database) and ``target_met``: the
incremental tick at 1,000,000 loans takes at most twice the full tick at 10,000 (today's tick
at 10,000 loans), on every database.
"""

from __future__ import annotations

import copy
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import click
import psycopg
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from scratch_schema import scratch_schema  # benchmarks/ is the script's folder

from loanservicing.indexing.database import BlockRow, IndexDB
from loanservicing.indexing.rows import PaymentRow
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.repayments import repay
from loanservicing.ledger.replay import originate
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LedgerEvent, LoanState
from loanservicing.monitoring.monitor import Monitor, MonitorConfig, TickReport
from loanservicing.monitoring.notices import NOTICE_ROW_COLUMNS, Notice, notice_row

UNIT = 10**6
TEMPLATES = 900
BATCH = 10_000
CHANGING_EVERY = 100  # 1 %
NOW = 1_900_000_000 // DAY * DAY  # the benchmark's clock: a midnight in 2030
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
LEDGER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
LENDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BORROWERS = [f"0x{i:040x}" for i in range(1, 101)]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SIZES = (10_000, 100_000, 1_000_000)


# ---------------------------------------------------------------------- the book


def _template(i: int) -> LoanState:
    """Template ``i``: originated 75 days before NOW, serviced by the twin up to NOW."""
    origin = NOW - 75 * DAY
    terms = {
        "borrower": BORROWERS[i % len(BORROWERS)],
        "token": TOKEN,
        "principal": (1_000 + (i * 37) % 20_000) * UNIT,
        "aprBps": (600, 1200, 1800)[i % 3],
        "installments": 12,
        "periodSeconds": 30 * DAY,
        "firstDueDate": origin + (15 + i % 30) * DAY + 3_600,
        "kind": (i // 3) % 3,
        "gracePeriodSeconds": 5 * DAY,
        "lateFeeBps": 500,
        "penaltyAprBps": 600,
        "defaultAfterDays": 90,
    }
    args = {"loanId": i + 1, "borrower": terms["borrower"], "lender": LENDER, "terms": terms}
    state = originate(LedgerEvent("LoanOriginated", args, origin))
    behaviour = (i * 7) % 20  # 0-16: pays ahead, 17-18: stopped after one, 19: never
    for k in range(1, state.installments + 1):
        paid_at = state.due_date(k) - 2 * DAY  # two days before its due date
        if paid_at > NOW or behaviour == 19 or (behaviour >= 17 and k > 1):
            break
        q = amount_due(state, paid_at)
        repay(state, q.past_due + q.current_interest + q.current_principal, paid_at)
    return state


Repaid = tuple[LoanState, list[tuple[str, dict[str, Any]]], int]


def _repaid(template: LoanState, t: int) -> Repaid:
    """``template`` after it repays what it owes at ``t`` (past due and the running
    installment), with the events of that call and its days past due before it."""
    w = copy.copy(template)
    q = amount_due(w, t)
    amount = q.past_due + q.current_interest + q.current_principal or q.payoff // 12 or 1
    return w, repay(w, amount, t).events, q.days_past_due


def _as_loan(template: LoanState, loan_id: int) -> LoanState:
    state = copy.copy(template)
    state.loan_id = loan_id
    return state


def fill(db: IndexDB, n: int, templates: list[LoanState], progress: Progress) -> float:
    """Write ``n`` loans (template ``i mod 900`` each) in batches; returns the seconds."""
    started = time.perf_counter()
    task = progress.add_task(f"filling {n:,} loans", total=n)
    with db.transaction():
        db.set_token_decimals(TOKEN, 6)
        db.upsert_blocks([BlockRow(1, _hash(1), None, NOW - DAY, False)])
    for start in range(0, n, BATCH):
        ids = range(start + 1, min(n, start + BATCH) + 1)
        with db.transaction():
            db.save_loans([_as_loan(templates[(i - 1) % TEMPLATES], i) for i in ids], 1)
        progress.update(task, advance=len(ids))
    progress.remove_task(task)
    return time.perf_counter() - started


def the_day(db: IndexDB, n: int, repaid: list[Repaid]) -> int:
    """Every 100th loan repays at noon of the next day: states, logs and payments rows of
    block 2, as the indexer writes them."""
    t = NOW + DAY // 2
    block_hash = _hash(2)
    states: list[LoanState] = []
    logs: list[tuple[Any, ...]] = []
    payments: list[PaymentRow] = []
    for loan_id in range(CHANGING_EVERY, n + 1, CHANGING_EVERY):
        state, events, late = repaid[(loan_id - 1) % TEMPLATES]
        states.append(_as_loan(state, loan_id))
        tx_hash = "0x" + secrets.token_hex(32)
        for name, args in events:
            full = {**args, "payer": state.borrower, "afterDefault": False, "loanId": loan_id}
            if name == "RepaymentApplied":
                split = [int(args[k]) for k in ("fees", "penalty", "interest", "principal")]
                payments.append(
                    PaymentRow(block_hash, len(logs), 2, t, tx_hash, loan_id, state.borrower,
                               *map(str, split), str(sum(split)),
                               str(args["principalOutstanding"]), int(args["installmentsPaid"]),
                               int(args["status"]), late)
                )  # fmt: skip
            logs.append(
                (block_hash, len(logs), 2, t, tx_hash, 0, LEDGER, name, loan_id,
                 state.borrower, json.dumps(full))
            )  # fmt: skip
    with db.transaction():
        db.upsert_blocks([BlockRow(2, block_hash, _hash(1), t, True)])
        db.insert_logs(logs)
        db.insert_rows("payments", PaymentRow._fields, payments)
        db.save_loans(states, 2)
    return len(states)


def _hash(number: int) -> str:
    return f"0x{number:064x}"


def storage_floor(db: IndexDB, raised: list[Notice]) -> float:
    """Seconds the store alone takes for what a tick stores and reads: the rows of the loans
    ``raised`` is about, fetched bare (no state built), and as many notice rows, inserted with
    one bulk statement (SQLite: ``executemany``; PostgreSQL: ``COPY``) and committed. The
    rows get ids of their own and are deleted afterwards (not timed)."""
    ids = sorted({n.loan_id for n in raised})
    rows = [(f"floor:{n.id}", *notice_row(n, 0.0)[1:]) for n in raised]
    conn = db.conn
    started = time.perf_counter()
    if conn.kind == "postgresql":
        raw = conn.raw  # type: ignore[union-attr]
        with raw.transaction():
            raw.execute("SELECT * FROM loans WHERE loan_id = ANY(%s::bigint[])", (ids,)).fetchall()
            with raw.cursor().copy(
                f"COPY monitor_notices ({NOTICE_ROW_COLUMNS}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        with db.transaction():
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                marks = ", ".join("?" * len(chunk))
                conn.execute(f"SELECT * FROM loans WHERE loan_id IN ({marks})", chunk).fetchall()
            marks = ", ".join("?" * 12)
            insert = f"INSERT INTO monitor_notices ({NOTICE_ROW_COLUMNS}) VALUES ({marks})"
            conn.executemany(insert, rows)
    seconds = time.perf_counter() - started
    with db.transaction():
        conn.execute("DELETE FROM monitor_notices WHERE id LIKE 'floor:%'")
    return seconds


# ---------------------------------------------------------------------- measuring


@dataclass
class Run:
    database: str
    loans: int
    fill_seconds: float
    first_seconds: float
    first_notices: int
    changed: int
    full: TickReport
    incremental: TickReport
    quiet: TickReport
    """The incremental tick a minute later: no new logs, hardly a deadline."""
    floor_seconds: float
    """:func:`storage_floor` of the incremental tick's notices."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "loans": self.loans,
            "fill_seconds": round(self.fill_seconds, 2),
            "first_tick_seconds": round(self.first_seconds, 2),
            "first_tick_notices": self.first_notices,
            "changed_loans": self.changed,
            "full_seconds": round(self.full.seconds, 3),
            "incremental_seconds": round(self.incremental.seconds, 3),
            "incremental_evaluated": self.incremental.evaluated,
            "tick_notices": len(self.incremental.raised),
            "tick_notices_by_kind": self.incremental.as_dict()["raised_by_kind"],
            "quiet_tick_seconds": round(self.quiet.seconds, 3),
            "storage_floor_seconds": round(self.floor_seconds, 3),
            "quiet_tick_evaluated": self.quiet.evaluated,
            "ratio": round(self.full.seconds / self.incremental.seconds, 1),
        }


def _fields(n: Notice) -> str:
    fields = n.to_json()
    fields.pop("seq")
    return json.dumps(fields, sort_keys=True)


def measure(
    location: str,
    label: str,
    n: int,
    templates: list[LoanState],
    repaid: Any,
    config: MonitorConfig,
    console: Console,
) -> Run:
    with Progress(console=console, transient=True) as progress:
        db = IndexDB(location)
        try:
            fill_seconds = fill(db, n, templates, progress)
            task = progress.add_task("first tick (backlog, builds the deadline index)", total=None)
            first = Monitor(db, config).tick(NOW, 1)
            progress.remove_task(task)
            changed = the_day(db, n, repaid)
            task = progress.add_task("full tick (rolled back)", total=None)
            full = Monitor(db, config, incremental=False).tick(NOW + DAY, 2, dry_run=True)
            progress.remove_task(task)
            incremental = Monitor(db, config).tick(NOW + DAY, 2)
            quiet = Monitor(db, config).tick(NOW + DAY + 60, 2)
            task = progress.add_task("the store's floor for the day's tick", total=None)
            floor = storage_floor(db, incremental.raised)
            progress.remove_task(task)
        finally:
            db.close()
    if not incremental.incremental:
        raise click.ClickException(f"{label}, {n:,} loans: the day's tick was not incremental")
    if sorted(map(_fields, full.raised)) != sorted(map(_fields, incremental.raised)):
        raise click.ClickException(f"{label}, {n:,} loans: the ticks raised different notices")
    return Run(
        label, n, fill_seconds, first.seconds, len(first.raised), changed, full, incremental,
        quiet, floor
    )  # fmt: skip


@contextmanager
def store(database: str, tmp: Path, n: int) -> Iterator[tuple[str, str]]:
    """(location, label) of a fresh database: a SQLite file, or a PostgreSQL schema."""
    if database == "sqlite":
        path = tmp / f"index-{n}.db"
        try:
            yield str(path), "sqlite"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with scratch_schema(database) as location:
        yield location, "postgresql"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@click.command()
@click.option(
    "--loans", "sizes", type=int, multiple=True, help="Book sizes (repeat; default all three)."
)
@click.option(
    "--database",
    "databases",
    multiple=True,
    help="'sqlite' or a postgresql:// URL (repeat; default SQLite and, when it answers, "
    f"{DEFAULT_URL}).",
)
@click.option(
    "--reminder-days",
    default=3,
    show_default=True,
    help="The monitor's reminder window (0: reminders on the due date itself).",
)
def main(sizes: tuple[int, ...], databases: tuple[str, ...], reminder_days: int) -> None:
    """Time a day's monitor tick, full and incremental, over books of the given sizes."""
    config = MonitorConfig(reminder_days=reminder_days)
    console = Console(stderr=True, width=150)
    sizes = tuple(sorted(sizes)) or SIZES
    if not databases:
        databases = ("sqlite", DEFAULT_URL) if _reachable(DEFAULT_URL) else ("sqlite",)
        if len(databases) == 1:
            console.print(f"[yellow]PostgreSQL at {DEFAULT_URL} does not answer: SQLite only")
    with console.status("servicing the template loans with the ledger twin"):
        templates = [_template(i) for i in range(TEMPLATES)]
        repaid = [_repaid(t, NOW + DAY // 2) for t in templates]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for database in databases:
            for n in sizes:
                with store(database, Path(tmp), n) as (location, label):
                    run = measure(location, label, n, templates, repaid, config, console)
                runs.append(run)
                console.print(
                    f"{label} {n:,}: full {run.full.seconds:.3f} s, incremental "
                    f"{run.incremental.seconds:.3f} s ({run.incremental.evaluated:,} evaluated)"
                )
    table = Table(title="A day's monitor tick: full evaluation vs incremental")
    columns = ("database", "loans", "fill s", "first tick s", "changed", "full tick s",
               "incremental s", "evaluated", "notices", "full / incr.", "quiet tick s",
               "store floor s")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "database" else "right")
    for r in runs:
        d = r.as_dict()
        table.add_row(
            r.database,
            f"{r.loans:,}",
            f"{r.fill_seconds:.1f}",
            f"{r.first_seconds:.1f}",
            f"{r.changed:,}",
            f"{r.full.seconds:.3f}",
            f"{r.incremental.seconds:.3f}",
            f"{r.incremental.evaluated:,}",
            f"{len(r.incremental.raised):,}",
            f"{d['ratio']:g}x",
            f"{r.quiet.seconds:.3f}",
            f"{r.floor_seconds:.3f}",
        )
    console.print(table)
    largest = max(sizes)
    ratios: dict[str, float] = {}
    targets: dict[str, bool] = {}
    for label in dict.fromkeys(r.database for r in runs):
        mine = {r.loans: r for r in runs if r.database == label}
        ratios[label] = round(mine[largest].full.seconds / mine[largest].incremental.seconds, 1)
        if 10_000 in mine and 1_000_000 in mine:
            limit = 2 * mine[10_000].full.seconds
            targets[label] = mine[1_000_000].incremental.seconds <= limit
            console.print(
                f"{label}: incremental tick at 1,000,000 loans "
                f"{mine[1_000_000].incremental.seconds:.3f} s, target at most 2x the full tick "
                f"at 10,000 ({limit:.3f} s): {'met' if targets[label] else 'NOT met'}; the "
                f"store alone takes {mine[1_000_000].floor_seconds:.3f} s for that tick's rows"
            )
    click.echo(
        json.dumps(
            {
                "data": (
                    f"{TEMPLATES} ledger-twin template loans (12 monthly installments, 85 % "
                    "paid two days ahead, 10 % stopped, 5 % never paid) copied to each size "
                    "through IndexDB.save_loans; 1 % repay during the day, the clock moves one day"
                ),
                "reminder_days": reminder_days,
                "ratio_at_loans": largest,
                "ratio": ratios,
                "target": "incremental tick at 1,000,000 loans <= 2 x full tick at 10,000",
                "target_met": all(targets.values()) if targets else None,
                "targets": targets,
                "runs": [r.as_dict() for r in runs],
            }
        )
    )


if __name__ == "__main__":
    main()
