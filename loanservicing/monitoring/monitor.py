"""The post-loan monitor: every loan evaluated at the chain's current time, from the index.

One evaluation (:meth:`Monitor.tick`) reads the loans the indexer rebuilt from events
(:mod:`loanservicing.ledger.replay`), evaluates each active loan at chain time ``now`` with the
ledger's own arithmetic (no RPC call per loan), turns the new ledger events into notices, and
stores the notices in ONE transaction (:mod:`loanservicing.monitoring.notices`). Kinds and
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

The event notices are built in :mod:`loanservicing.monitoring.event_notices`.

Event notices are keyed by the transaction hash and the event's ordinal among that loan's
events of that kind in the transaction, not by the block's log index: a transaction that a
reorg moves to another block (or another position) keeps its notice, a replacement
transaction gets its own. A notice raised for a repayment that a reorg then removes stays
recorded (it was true when it was sent; the index no longer has the payment).

Event notices are found incrementally: the monitor remembers the last block whose events it
turned into notices, with that block's hash; when the index no longer has that block (the
indexer rolled back a reorg), the next evaluation rescans every event against the
``monitor_sources`` table of logs already handled.

The tick ``monitor run`` does (sync, evaluate, deliver, keep) is
:mod:`loanservicing.monitoring.service`; the aging table is :mod:`loanservicing.monitoring.reports`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.accounting import (
    amount_due,
    installments_due,
    installments_past_grace,
    installments_settled,
    unpaid_amount,
)
from loanservicing.ledger.delinquency import BUCKET_LABELS, bucket_of
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanState, LoanStatus
from loanservicing.monitoring.event_notices import EVENTS, event_notice
from loanservicing.monitoring.notices import Notice, NoticeStore

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


@dataclass
class TickReport:
    """What one tick did: loans evaluated, notices found and newly raised."""

    now: int
    block: int
    loans: int
    active: int
    candidates: int
    raised: list[Notice]
    seconds: float
    rescanned: bool = False

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for n in self.raised:
            counts[n.kind] = counts.get(n.kind, 0) + 1
        return {
            "chain_timestamp": self.now,
            "block": self.block,
            "loans": self.loans,
            "active": self.active,
            "raised": len(self.raised),
            "raised_by_kind": counts,
            "seconds": round(self.seconds, 4),
        }


class Monitor:
    """Evaluates the loans of one index database and raises notices into it."""

    def __init__(
        self,
        db: IndexDB,
        config: MonitorConfig | None = None,
        store: NoticeStore | None = None,
    ) -> None:
        self.db = db
        self.config = config or MonitorConfig()
        self.store = store or NoticeStore(db)

    # ------------------------------------------------------------------ public
    def tick(self, now: int, block: int, channels: Sequence[str] = ()) -> TickReport:
        """Evaluate at chain time ``now`` (block ``block``) and store the new notices, with an
        outbox row for each of ``channels``; returns them."""
        started = time.perf_counter()
        # One write transaction around reads and writes: an indexer in another process
        # cannot commit (or roll back a reorg) between reading the loans and their events.
        with self.db.transaction():
            evaluation = self.evaluate(now, block)
            raised = self.store.insert(evaluation.notices, channels)
            self.store.record_sources(evaluation.sources)
            self.store.set_buckets(evaluation.buckets)
            if evaluation.cursor is not None:
                self.store.set_meta(_CURSOR_BLOCK, str(evaluation.cursor[0]))
                self.store.set_meta(_CURSOR_HASH, evaluation.cursor[1])
        for n in raised:
            logger.info("Raised %s", n.id)
        return TickReport(
            now=now,
            block=block,
            loans=evaluation.loans,
            active=evaluation.active,
            candidates=len(evaluation.notices),
            raised=raised,
            seconds=time.perf_counter() - started,
            rescanned=evaluation.rescanned,
        )

    def evaluate(self, now: int, block: int) -> Evaluation:
        """Every notice that applies at ``now`` (raised before or not) and the bookkeeping
        that goes with it; nothing is written."""
        result = Evaluation(now, block)
        loans = self.db.loans()
        decimals_of = self.db.token_decimals()
        previous = self.store.buckets()
        result.loans = len(loans)
        self._event_notices(result, loans, decimals_of, now)
        window = self.config.reminder_days * DAY
        for loan_id, state in loans.items():
            if state.status is not LoanStatus.ACTIVE:
                if previous.get(loan_id, 0) != 0:
                    result.buckets.append((loan_id, 0))
                continue
            result.active += 1
            before = previous.get(loan_id, 0)
            bucket = _evaluate_loan(
                state,
                now,
                block,
                decimals_of.get(state.token, 0),
                window,
                before,
                result.notices,
            )
            if bucket != before:
                result.buckets.append((loan_id, bucket))
        return result

    # ------------------------------------------------------------------ events
    def _event_notices(
        self,
        result: Evaluation,
        loans: Mapping[int, LoanState],
        decimals_of: Mapping[str, int],
        now: int,
    ) -> None:
        since = -1
        stored_block = self.store.meta(_CURSOR_BLOCK)
        if stored_block is not None:
            row = self.db.block(int(stored_block))
            if row is not None and row.hash == self.store.meta(_CURSOR_HASH):
                since = int(stored_block)
            else:
                result.rescanned = True
                logger.info(
                    "Block %s is no longer in the index (a reorg); rescanning every event.",
                    stored_block,
                )
        marks = ", ".join("?" for _ in EVENTS)
        rows = self.db.conn.execute(
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
        ordinals: dict[tuple[str, int, str], int] = {}
        for r in rows:
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
        if rows:
            last = rows[-1]
            result.cursor = (int(last["block_number"]), str(last["block_hash"]))


# ---------------------------------------------------------------------- evaluation


def _evaluate_loan(
    s: LoanState,
    now: int,
    block: int,
    decimals: int,
    window: int,
    before: int,
    out: list[Notice],
) -> int:
    """Append the time-driven notices of one active loan at ``now``; return its bucket."""
    d = installments_due(s, now)
    # Nothing past due and no reminder window (the common case): nothing to evaluate.
    if (
        s.paid_count >= d
        and before == 0
        and (d >= s.installments or s.due_date(d + 1) - now > window)
    ):
        return 0
    q = amount_due(s, now)
    dpd = q.days_past_due
    bucket = bucket_of(dpd)
    loan_id, borrower = s.loan_id, s.borrower

    def notice(kind: str, key: str, amount: int, due: int | None, **details: Any) -> Notice:
        return Notice(
            f"{kind}:{loan_id}:{key}",
            kind,
            loan_id,
            borrower,
            dpd,
            amount,
            decimals,
            due,
            now,
            block,
            details,
        )

    if q.next_installment and q.next_due_date - now <= window:
        current = q.current_interest + q.current_principal
        if current > 0:
            out.append(
                notice(
                    "reminder",
                    f"{q.next_installment}:{q.next_due_date}",
                    q.past_due + current,
                    q.next_due_date,
                    installment=q.next_installment,
                    current_interest=q.current_interest,
                    current_principal=q.current_principal,
                    past_due=q.past_due,
                )
            )
    if dpd == 0:
        return bucket
    settled = installments_settled(s, d)
    since = s.due_date(settled + 1)
    late_through = installments_past_grace(s, now)
    unpaid_before = unpaid_amount(s, settled)
    for k in range(settled + 1, late_through + 1):
        unpaid = unpaid_amount(s, k)
        amount = unpaid - unpaid_before
        unpaid_before = unpaid
        if amount > 0:
            due = s.due_date(k)
            out.append(
                notice(
                    "overdue",
                    f"{k}:{due}",
                    amount,
                    due,
                    installment=k,
                    grace_seconds=s.grace,
                    past_due=q.past_due,
                )
            )
    if bucket != before:
        out.append(
            notice(
                "bucket_changed",
                f"{bucket}:{since}",
                q.past_due,
                since,
                from_bucket=BUCKET_LABELS[before],
                to_bucket=BUCKET_LABELS[bucket],
                recorded_bucket=BUCKET_LABELS[s.bucket],
            )
        )
    if dpd >= s.default_after_days:
        out.append(
            notice(
                "default_eligible",
                str(since),
                q.past_due,
                since,
                default_after_days=s.default_after_days,
                payoff=q.payoff,
                principal_outstanding=s.principal_outstanding,
            )
        )
    return bucket
