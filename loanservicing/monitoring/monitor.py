"""The post-loan monitor: the loans of the index evaluated at the chain's current time.

One evaluation (:meth:`Monitor.tick`) evaluates active loans at chain time ``now`` from the
states the indexer rebuilt from events (:mod:`loanservicing.ledger.replay`), with the ledger's
own arithmetic (no RPC call per loan), turns the new ledger events into notices, and stores
the notices in ONE transaction (:mod:`loanservicing.monitoring.notices`). Kinds and
their ids:

========================  ==========================================  ======================
kind                      raised when                                 id
========================  ==========================================  ======================
``reminder``              ``now`` is at most N days (default 3)       loan, installment, due
                          before the next due date and it is not paid
``overdue``               an installment is unpaid after its due      loan, installment, due
                          date plus the grace period (one second
                          after)
``bucket_changed``        the days past due at ``now`` put the loan   loan, bucket, date the
                          in another bucket 1-30, 31-60, 61-90, 90+   oldest unpaid fell due
``default_eligible``      days past due reach the loan's threshold    loan, that same date
``payment_received``      a RepaymentApplied event (with its split)   loan, tx hash, ordinal
``restructured``          a LoanRestructured event                    loan, tx hash, ordinal
``defaulted``             a LoanDefaulted event                       loan
``closed``                a LoanClosed event                          loan
``repayment_held``        a RepaymentHeld event: the transfer of a    loan, tx hash, ordinal
                          repayment to the lender failed and the
                          ledger holds it as the lender's claimable
                          balance
``credit_report_failed``  a CreditReportFailed event: the registry    loan, tx hash, ordinal
                          refused a report (the servicing stands);
                          the registry function and its error are
                          decoded from the contracts' ABIs
``holiday_granted``       a HolidayGranted event (skipped             loan, tx hash, ordinal
                          installments, capitalised interest)
``forbearance_granted``   a ForbearanceGranted event (a new, an       loan, tx hash, ordinal
                          extended or a shortened window)
``forbearance_ended``     a ForbearanceEnded event (ended early)      loan, tx hash, ordinal
========================  ==========================================  ======================

The event notices are built in :mod:`loanservicing.monitoring.event_notices`, the time-driven
ones (reminder, overdue, bucket, default eligibility) in
:mod:`loanservicing.monitoring.time_notices`.

Event notices are keyed by the transaction hash and the event's ordinal among that loan's
events of that kind in the transaction, not by the block's log index: a transaction that a
reorg moves to another block (or another position) keeps its notice, a replacement
transaction gets its own. A notice raised for a repayment that a reorg then removes stays
recorded (it was true when it was sent; the index no longer has the payment).

Event notices are found incrementally: the monitor remembers the last block whose events it
turned into notices, with that block's hash; when the index no longer has that block (the
indexer rolled back a reorg), the next evaluation rescans every event against the
``monitor_sources`` table of logs already handled.

The incremental tick. A tick's work follows what changed since the last one, not the size of
the book: it evaluates the loans with logs in blocks the monitor has not taken in yet (their
state changed: repayments, restructurings, payment holidays, forbearance, defaults, closings)
and the loans whose next deadline has come. A loan's next deadline
(:mod:`loanservicing.monitoring.deadlines`, computed with the ledger's own functions each time
the loan is evaluated) is the first chain time at which its evaluation could raise a notice it
has not raised or move its bucket while its state stays as it is: the next reminder window's
start, the oldest unpaid installment's grace end (``overdue``), the days past due reaching the
next bucket boundary (1, 31, 61, 91) or the default threshold (paused days not counted), a
prepaid segment's start. The deadlines live in ``monitor_deadlines`` (loan, next deadline,
indexed by (next deadline, loan)); a tick selects ``next_deadline <= now`` plus the loans
touched by new logs, evaluates them exactly as a full evaluation does, and rewrites their
deadlines, buckets and the log cursor (the newest block with a loan's log and its hash) in the
tick's transaction. A current loan (every installment due paid, nothing late, stored bucket 0)
whose reminder window is open takes its reminder's amounts from
:func:`~loanservicing.ledger.accounting.running_installment_due` (what ``amount_due`` gives
then, without accruing a copy). So the notices (ids, fields, order) and buckets are those a full
evaluation would give at every tick (``tests/monitoring/test_monitor_incremental.py`` compares
both on random histories and clock jumps).

Every loan is evaluated (:meth:`Monitor.evaluate_full`), and the deadline index rebuilt, when
it cannot be trusted: on the first tick (no index yet), when the index rolled back (the event
cursor's block or the log cursor's block is gone: a reorg), when the reminder window changed,
when the clock is behind the index, or after a full tick of a ``Monitor(incremental=False)``
(which evaluates every loan each tick and marks the index stale); and when a tick asks for it
(``tick(full=True)``, ``monitor run --full``).

The keeper's loans. A ``Monitor(track_behind=True)`` also records, for each loan it evaluates,
whether its on-chain delinquency is behind (``monitor_behind``), and
:meth:`Monitor.behind_loans` answers from that list instead of reading every loan: being
behind changes only at a loan's deadlines or with its events (see the method).

The tick ``monitor run`` does (sync, evaluate, deliver, keep) is
:mod:`loanservicing.monitoring.service`; the aging table is :mod:`loanservicing.monitoring.reports`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from loanservicing.indexing.connection import Row
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.delinquency import behind_loans, is_behind
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanState, LoanStatus
from loanservicing.monitoring.event_notices import EVENTS, event_notice
from loanservicing.monitoring.notices import Notice, NoticeStore
from loanservicing.monitoring.time_notices import evaluate_loan

__all__ = [
    "DEFAULT_REMINDER_DAYS",
    "Evaluation",
    "Monitor",
    "MonitorConfig",
    "TickReport",
]

logger = logging.getLogger(__name__)

DEFAULT_REMINDER_DAYS = 3
_CURSOR_BLOCK = "events_block"
_CURSOR_HASH = "events_block_hash"
# The deadline index: the chain time and reminder window it was computed for, and the newest
# log block whose loans it took in (with that block's hash, to notice a rollback).
_DEADLINES_AT = "deadlines_at"
_DEADLINES_WINDOW = "deadlines_window"
_LOANS_BLOCK = "loans_block"
_LOANS_HASH = "loans_block_hash"
# The chain time of the evaluation that last brought the keeper's loans behind up to date.
_BEHIND_AT = "behind_at"
_CHUNK = 5_000


@dataclass(frozen=True)
class MonitorConfig:
    reminder_days: int = DEFAULT_REMINDER_DAYS


@dataclass
class Evaluation:
    """What one evaluation found, before it is stored."""

    now: int
    block: int
    notices: list[Notice] = field(default_factory=list)
    buckets: list[tuple[int, int]] = field(default_factory=list)
    sources: list[tuple[str, int, str]] = field(default_factory=list)
    cursor: tuple[int, str] | None = None
    loans: int = 0
    active: int = 0
    rescanned: bool = False
    incremental: bool = False
    """Only the loans touched by new logs or past their deadline were evaluated."""
    evaluated: int = 0
    """Loans evaluated (all of them in a full evaluation)."""
    deadlines: list[tuple[int, int]] | None = None
    """``(loan_id, next_deadline)`` of the loans evaluated that have one (None: the
    evaluation keeps no deadline index)."""
    cleared: list[int] = field(default_factory=list)
    """Loans evaluated that have no deadline any more (inactive, or nothing left to raise)."""
    rebuild: bool = False
    """The deadline index is replaced by :attr:`deadlines` (a full evaluation)."""
    loans_cursor: tuple[int, str] | None = None
    """The newest log block whose loans this evaluation took in."""
    reason: str | None = None
    """Why an incremental monitor evaluated every loan."""
    behind: list[int] | None = None
    """The loans evaluated whose on-chain delinquency is behind (None: not tracked)."""
    reconsidered: list[int] | None = None
    """The loans whose place in the keeper's list :attr:`behind` replaces (an incremental
    evaluation's loans; None: every loan's)."""


@dataclass
class TickReport:
    """What one tick did: loans evaluated, notices found and newly raised.

    ``loans`` counts the loans in the index; ``active`` the active loans evaluated (all of
    them in a full evaluation), ``evaluated`` every loan evaluated."""

    now: int
    block: int
    loans: int
    active: int
    candidates: int
    raised: list[Notice]
    seconds: float
    rescanned: bool = False
    incremental: bool = False
    evaluated: int = 0

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for n in self.raised:
            counts[n.kind] = counts.get(n.kind, 0) + 1
        return {
            "chain_timestamp": self.now,
            "block": self.block,
            "loans": self.loans,
            "active": self.active,
            "evaluated": self.evaluated,
            "evaluation": "incremental" if self.incremental else "full",
            "raised": len(self.raised),
            "raised_by_kind": counts,
            "seconds": round(self.seconds, 4),
        }


class _DryRun(Exception):
    """Raised inside a dry-run tick's transaction to roll it back."""


class Monitor:
    """Evaluates the loans of one index database and raises notices into it.

    ``incremental`` (the default) evaluates, each tick, only the loans whose events are new
    and those whose deadline has come, and falls back to a full evaluation (rebuilding the
    deadline index) on the first tick, after a rollback of the index, when the reminder
    window changed or the clock went back. ``incremental=False`` evaluates every loan each
    tick, as :meth:`evaluate_full` does, and leaves the deadline index to be rebuilt.

    ``track_behind`` (for the keeper): each evaluation also records which of the loans it
    evaluated are behind on chain (``assess`` would record a bucket or a miss), so that
    :meth:`behind_loans` answers without reading the book."""

    def __init__(
        self,
        db: IndexDB,
        config: MonitorConfig | None = None,
        store: NoticeStore | None = None,
        incremental: bool = True,
        track_behind: bool = False,
    ) -> None:
        self.db = db
        self.config = config or MonitorConfig()
        self.store = store or NoticeStore(db)
        self.incremental = incremental
        self.track_behind = track_behind

    @property
    def window(self) -> int:
        """The reminder window in seconds."""
        return self.config.reminder_days * DAY

    # ------------------------------------------------------------------ public
    def tick(
        self,
        now: int,
        block: int,
        channels: Sequence[str] = (),
        dry_run: bool = False,
        full: bool = False,
    ) -> TickReport:
        """Evaluate at chain time ``now`` (block ``block``) and store the new notices, with an
        outbox row for each of ``channels``; returns them. ``dry_run``: the same tick in a
        transaction rolled back at its end (what it would raise; nothing is kept). ``full``:
        evaluate every loan this tick (see :meth:`evaluate`)."""
        started = time.perf_counter()
        raised: list[Notice] = []
        # One write transaction around reads and writes: an indexer in another process
        # cannot commit (or roll back a reorg) between reading the loans and their events.
        with suppress(_DryRun), self.db.transaction():
            evaluation = self.evaluate(now, block, full)
            raised = self.store.insert(evaluation.notices, channels)
            self._store(evaluation)
            loans = evaluation.loans if not evaluation.incremental else self._loan_count()
            if dry_run:
                raise _DryRun
        for n in raised:
            logger.info("Raised %s", n.id)
        return TickReport(
            now=now,
            block=block,
            loans=loans,
            active=evaluation.active,
            candidates=len(evaluation.notices),
            raised=raised,
            seconds=time.perf_counter() - started,
            rescanned=evaluation.rescanned,
            incremental=evaluation.incremental,
            evaluated=evaluation.evaluated,
        )

    def evaluate(self, now: int, block: int, full: bool = False) -> Evaluation:
        """Every notice that applies at ``now`` to the loans evaluated (raised before or not)
        and the bookkeeping that goes with it; nothing is written. Incremental unless the
        monitor is not, the deadline index cannot be trusted or ``full`` asks for every loan
        (then :meth:`evaluate_full` rebuilding the index, so the next tick is incremental)."""
        if not self.incremental:
            return self.evaluate_full(now, block)
        since, rescanned = self._event_cursor()
        if rescanned:
            reason: str | None = "the index rolled back (a reorg)"
        elif full:
            reason = "a full evaluation was asked for"
        else:
            reason = self._stale_reason(now)
        if reason is not None:
            logger.info("Evaluating every loan: %s.", reason)
            result = self._evaluate_full(now, block, True, since, rescanned)
            result.reason = reason
            return result
        return self._evaluate_incremental(now, block, since)

    def behind_loans(self, now: int) -> list[int]:
        """The loans whose on-chain delinquency is behind at ``now`` (what the keeper
        assesses), ascending: :func:`~loanservicing.ledger.delinquency.behind_loans` of every
        loan.

        A monitor that tracks them answers from the list its tick at ``now`` left: the loans
        it evaluated, found behind then, and the others as their last evaluation found them.
        Exact: while a loan's state stays as it is, it falls behind only when an installment
        passes its grace period (a miss to record) or its days past due cross a bucket
        boundary, both deadlines of its (:mod:`loanservicing.monitoring.deadlines`), and it
        stays behind until a call (``assess``, a repayment) changes its state, whose events
        bring it to the next evaluation. Otherwise (no tick at ``now`` kept the list) every
        loan's state is read."""
        if self.track_behind and self.store.meta(_BEHIND_AT) == str(now):
            return self.store.behind()
        return behind_loans(self.db.loans(), now)

    def evaluate_full(self, now: int, block: int, rebuild: bool = False) -> Evaluation:
        """Every loan evaluated at ``now``; ``rebuild``: with every active loan's next
        deadline, to replace the deadline index."""
        return self._evaluate_full(now, block, rebuild, *self._event_cursor())

    def _evaluate_full(
        self, now: int, block: int, rebuild: bool, since: int, rescanned: bool
    ) -> Evaluation:
        result = Evaluation(now, block, rescanned=rescanned)
        rows = self._event_rows(since)
        ids = [int(r[0]) for r in self.db.conn.execute("SELECT loan_id FROM loans")]
        ids.sort()
        result.loans = len(ids)
        result.deadlines = [] if rebuild else None
        result.rebuild = rebuild
        result.behind = [] if self.track_behind else None
        if rebuild:
            result.loans_cursor = self._newest_log(-1)
        decimals_of = self.db.token_decimals()
        previous = self.store.buckets()
        event_loans = self.db.loans({int(r["loan_id"]) for r in rows if r["loan_id"] is not None})
        self._event_notices(result, rows, event_loans, decimals_of, now)
        for start in range(0, len(ids), _CHUNK):
            states = self.db.loans(ids[start : start + _CHUNK])
            self._evaluate_loans(result, states, previous, decimals_of)
        return result

    # ------------------------------------------------------------------ incremental
    def _stale_reason(self, now: int) -> str | None:
        """Why the deadline index cannot serve a tick at ``now`` (None: it can)."""
        at = self.store.meta(_DEADLINES_AT)
        if at is None:
            return "no deadline index yet"
        if self.store.meta(_DEADLINES_WINDOW) != str(self.window):
            return "the reminder window changed"
        if self.track_behind and self.store.meta(_BEHIND_AT) is None:
            return "no list of the loans behind for the keeper yet"
        if now < int(at):
            return "the clock is behind the deadline index"
        stored = self.store.meta(_LOANS_BLOCK)
        if stored is not None:
            found = self.db.conn.execute(
                "SELECT 1 FROM logs WHERE block_number = ? AND block_hash = ? LIMIT 1",
                (int(stored), self.store.meta(_LOANS_HASH)),
            ).fetchone()
            if found is None:
                return "the index rolled back (a reorg)"
        return None

    def _evaluate_incremental(self, now: int, block: int, since: int) -> Evaluation:
        result = Evaluation(now, block, incremental=True, deadlines=[])
        stored = self.store.meta(_LOANS_BLOCK)
        after = -1 if stored is None else int(stored)
        touched = {
            int(r[0])
            for r in self.db.conn.execute(
                "SELECT DISTINCT loan_id FROM logs WHERE block_number > ? AND loan_id IS NOT NULL",
                (after,),
            )
        }
        result.loans_cursor = self._newest_log(after)
        rows = self._event_rows(since)
        ids = touched | set(self.store.due_loans(now))
        ids.update(int(r["loan_id"]) for r in rows if r["loan_id"] is not None)
        if self.track_behind:
            result.behind, result.reconsidered = [], sorted(ids)
        states = self.db.loans(ids)
        decimals_of = self.db.token_decimals()
        previous = self.store.buckets(ids)
        self._event_notices(result, rows, states, decimals_of, now)
        self._evaluate_loans(result, states, previous, decimals_of)
        # Loans gone from the index (their origination rolled back without a reorg seen).
        result.cleared.extend(sorted(ids - states.keys()))
        return result

    def _evaluate_loans(
        self,
        result: Evaluation,
        states: Mapping[int, LoanState],
        previous: Mapping[int, int],
        decimals_of: Mapping[str, int],
    ) -> None:
        """The time-driven notices, buckets and (when kept) deadlines of ``states``, in the
        order of their ids."""
        window = self.window
        deadlines = result.deadlines
        behind = result.behind
        for loan_id in sorted(states):
            state = states[loan_id]
            result.evaluated += 1
            before = previous.get(loan_id, 0)
            if state.status is not LoanStatus.ACTIVE:
                if before != 0:
                    result.buckets.append((loan_id, 0))
                result.cleared.append(loan_id)
                continue
            result.active += 1
            bucket, deadline = evaluate_loan(
                state,
                result.now,
                result.block,
                decimals_of.get(state.token, 0),
                window,
                before,
                result.notices,
                deadlines is not None,
            )
            if bucket != before:
                result.buckets.append((loan_id, bucket))
            if behind is not None and is_behind(state, result.now):
                behind.append(loan_id)
            if deadlines is not None:
                if deadline is None:
                    result.cleared.append(loan_id)
                else:
                    deadlines.append((loan_id, deadline))

    def _store(self, evaluation: Evaluation) -> None:
        """Write what ``evaluation`` found besides its notices (inside the tick's
        transaction)."""
        store = self.store
        store.record_sources(evaluation.sources)
        store.set_buckets(evaluation.buckets)
        if evaluation.cursor is not None:
            store.set_meta(_CURSOR_BLOCK, str(evaluation.cursor[0]))
            store.set_meta(_CURSOR_HASH, evaluation.cursor[1])
        if evaluation.behind is not None:
            store.set_behind(evaluation.behind, evaluation.reconsidered)
            store.set_meta(_BEHIND_AT, str(evaluation.now))
        elif store.meta(_BEHIND_AT) is not None:
            # Loans evaluated without it: the list no longer describes them.
            store.delete_meta(_BEHIND_AT)
        if evaluation.deadlines is None:
            # A full evaluation without the index: it no longer describes the loans.
            store.delete_meta(_DEADLINES_AT)
            return
        if evaluation.rebuild:
            store.clear_deadlines()
            store.set_deadlines(evaluation.deadlines, fresh=True)
        else:
            store.clear_deadlines(evaluation.cleared)
            store.set_deadlines(evaluation.deadlines)
        store.set_meta(_DEADLINES_AT, str(evaluation.now))
        store.set_meta(_DEADLINES_WINDOW, str(self.window))
        if evaluation.loans_cursor is not None:
            store.set_meta(_LOANS_BLOCK, str(evaluation.loans_cursor[0]))
            store.set_meta(_LOANS_HASH, evaluation.loans_cursor[1])
        elif evaluation.rebuild:
            store.delete_meta(_LOANS_BLOCK)
            store.delete_meta(_LOANS_HASH)

    def _newest_log(self, after: int) -> tuple[int, str] | None:
        """The newest log block above ``after`` with a loan's log, and its hash."""
        row = self.db.conn.execute(
            "SELECT block_number, block_hash FROM logs WHERE block_number > ? "
            "AND loan_id IS NOT NULL ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (after,),
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def _loan_count(self) -> int:
        return self.db.loan_count()

    # ------------------------------------------------------------------ events
    def _event_cursor(self) -> tuple[int, bool]:
        """The last block whose events were turned into notices (-1: none), and whether the
        index lost it (a reorg: every event is rescanned)."""
        stored_block = self.store.meta(_CURSOR_BLOCK)
        if stored_block is None:
            return -1, False
        row = self.db.block(int(stored_block))
        if row is not None and row.hash == self.store.meta(_CURSOR_HASH):
            return int(stored_block), False
        logger.info(
            "Block %s is no longer in the index (a reorg); rescanning every event.",
            stored_block,
        )
        return -1, True

    def _event_rows(self, since: int) -> list[Row]:
        """The ledger events above block ``since`` not yet turned into notices."""
        marks = ", ".join("?" for _ in EVENTS)
        rows: list[Row] = self.db.conn.execute(
            "SELECT logs.block_hash AS block_hash, logs.log_index AS log_index, "
            "logs.block_number AS block_number, logs.timestamp AS timestamp, "
            "logs.tx_hash AS tx_hash, event, logs.loan_id AS loan_id, args, "
            "p.days_past_due AS paid_late "
            "FROM logs LEFT JOIN payments p ON p.block_hash = logs.block_hash AND "
            f"p.log_index = logs.log_index WHERE event IN ({marks}) AND logs.block_number > ? "
            "AND NOT EXISTS (SELECT 1 FROM monitor_sources s WHERE s.block_hash = "
            "logs.block_hash AND s.log_index = logs.log_index) "
            "ORDER BY logs.block_number, logs.log_index",
            (*EVENTS, since),
        ).fetchall()
        return rows

    def _event_notices(
        self,
        result: Evaluation,
        rows: Iterable[Row],
        loans: Mapping[int, LoanState],
        decimals_of: Mapping[str, int],
        now: int,
    ) -> None:
        ordinals: dict[tuple[str, int, str], int] = {}
        last: Row | None = None
        for r in rows:
            last = r
            loan_id = r["loan_id"]
            state = loans.get(loan_id) if loan_id is not None else None
            if state is None:
                continue
            event, tx_hash = str(r["event"]), str(r["tx_hash"])
            key = (tx_hash, int(loan_id), event)
            ordinal = ordinals.get(key, 0)
            ordinals[key] = ordinal + 1
            notice = event_notice(
                event,
                json.loads(r["args"]),
                state,
                decimals_of.get(state.token, 0),
                tx_hash,
                ordinal,
                int(r["timestamp"]),
                int(r["block_number"]),
                now,
                r["paid_late"],
            )
            result.notices.append(notice)
            result.sources.append((str(r["block_hash"]), int(r["log_index"]), notice.id))
        if last is not None:
            result.cursor = (int(last["block_number"]), str(last["block_hash"]))
