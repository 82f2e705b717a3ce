"""What the index derives from the decoded logs: per-event rows, loan states, credit histories.

:class:`Projections` writes one committed range's logs and the rows the monitor and the reports
query (payments, charges, delinquency-bucket changes, schedule segments, interest rebated at
payoff, repayments held for a lender and claims of them, credit reports that failed, the
admin's token allowlist: the row types of :mod:`loanservicing.indexing.rows`),
and folds the ledger's events into loan states and the registry's into credit histories (each
reporter's figures and each loan's standing) through the ledger's replay
(:func:`loanservicing.ledger.replay.apply_ledger_events`,
:func:`loanservicing.ledger.credit.apply_registry_event`) — the same replay that
``index verify`` checks against the contracts' views. After a reorg, :meth:`Projections.rebuild`
recomputes the touched loans and borrowers from the logs that remain (the per-log rows go with
their blocks; claimable balances and allowances are read from those rows).

The loan states and credit histories touched lately are kept in memory between ranges;
:meth:`Projections.forget` drops them when a transaction fails or rolls back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from loanservicing.indexing.codec import REGISTRY, DecodedLog
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.forked import ForkedCall, ForkedCallFailed
from loanservicing.indexing.rows import (
    ChargeRow,
    ClaimRow,
    CreditReportFailureRow,
    DelinquencyChangeRow,
    HoldRow,
    PaymentRow,
    RebateRow,
    SegmentRow,
    TokenAllowanceRow,
    position,
)
from loanservicing.ledger.calendar_terms import origination_calendar
from loanservicing.ledger.credit import CreditHistory, apply_registry_event
from loanservicing.ledger.replay import apply_ledger_events, replay_transaction
from loanservicing.ledger.state import LedgerEvent, LoanState

__all__ = ["Projections", "RangeStore"]

try:  # msgspec writes JSON several times faster than json (optional)
    import msgspec.json as _msgspec_json

    def _dumps(value: Any) -> str:
        return _msgspec_json.encode(value).decode()

except ImportError:  # pragma: no cover - optional speed-up

    def _dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))


logger = logging.getLogger(__name__)

_OVERLAP_LOGS = 2_000
"""From this many logs in a range on, they are written in a thread beside the rows' building."""
FORK_LOGS = 5_000
"""From this many logs in a range on, the fold runs in a forked child beside the writes."""

_Groups = dict[tuple[str, int], list[LedgerEvent]]
"""The ledger's events by (transaction, loan), in chain order: what the loans' fold replays."""
_EventFields = tuple[str, Mapping[str, Any], int, int, int, str]
_FedGroups = list[tuple[tuple[str, int], list[_EventFields]]]
"""The groups as the forked child is fed them: plain tuples."""
_RegistryFields = tuple[str, str, Mapping[str, Any], int]
"""A registry event as the fold takes it: borrower, event name, arguments, block number."""
_Part = tuple[dict[int, LoanState], _FedGroups]
"""One part as the forked child is fed it: the loans' states read for it and its share of the
ledger's events by transaction and loan."""
_LoanFold = tuple[dict[tuple[str, int], int], dict[int, int], dict[int, LoanState]]
"""The child's results: each (transaction, loan) repayment's days past due before it, the
block each changed loan was last changed in, and those loans' states."""


def _events(groups: _FedGroups) -> _Groups:
    return {key: [LedgerEvent(*fields) for fields in events] for key, events in groups}


class Projections:
    """Writes logs and their projections into ``db``, inside the caller's transaction."""

    def __init__(self, db: IndexDB, *, parallel: bool = True, fork_logs: int = FORK_LOGS) -> None:
        self.db = db
        self.parallel = parallel
        """Whether a large range's fold may run in a forked child (see :meth:`store`)."""
        self.fork_logs = fork_logs
        self.forked_folds = 0
        """How many folds ran in a forked child (and their results were used)."""
        self._loans: dict[int, LoanState] = {}
        self._credits: dict[str, CreditHistory] = {}

    def forget(self) -> None:
        """Drop the cached loan states and credit histories (the database may differ now)."""
        self._loans.clear()
        self._credits.clear()

    # ------------------------------------------------------------------ store
    def store(self, decoded: Sequence[DecodedLog]) -> None:
        """Write logs and their rows, and fold them into loans and credit histories, inside
        the caller's transaction: one part of a :class:`RangeStore` (whose fold runs in a
        forked child from :attr:`fork_logs` logs on)."""
        with self.open_range() as writer:
            if len(decoded) >= self.fork_logs:
                writer.fork()
            writer.add(decoded)
            writer.finish()

    def open_range(self) -> RangeStore:
        """A :class:`RangeStore` for one range's logs, given part by part."""
        return RangeStore(self)

    def _fold_fed(self, fed: Iterator[_Part]) -> _LoanFold:
        """In the forked child: each part's newly loaded states and its loans' events (as
        plain tuples), folded in order; the results and the changed loans' states."""
        lateness: dict[tuple[str, int], int] = {}
        changed: dict[int, int] = {}
        for loans, groups in fed:
            self._loans.update(loans)
            part_lateness, part_changed = self._fold_loans(_events(groups))
            lateness.update(part_lateness)
            changed.update(part_changed)
        return lateness, changed, {i: self._loans[i] for i in changed}

    def _write_rows(
        self, decoded: Sequence[DecodedLog], write: Callable[[Callable[[], None]], None]
    ) -> list[PaymentRow]:
        """Hand ``write`` the writes of the logs and their per-event rows; returns the
        payment rows, written after the fold."""
        log_rows = [
            (
                d.block_hash,
                d.log_index,
                d.block_number,
                d.timestamp,
                d.tx_hash,
                d.tx_index,
                d.address,
                d.event,
                d.loan_id,
                d.borrower,
                _dumps(d.args),
            )
            for d in decoded
        ]
        db = self.db
        write(lambda: db.insert_logs(log_rows))
        return self._rows(decoded, write)

    def _rows(
        self, decoded: Sequence[DecodedLog], write: Callable[[Callable[[], None]], None]
    ) -> list[PaymentRow]:
        """The per-event rows (handed to ``write``); returns the payment rows (written after
        the fold, which adds each one's days past due)."""
        payments: list[PaymentRow] = []
        charges: list[ChargeRow] = []
        bucket_changes: list[DelinquencyChangeRow] = []
        segments: list[SegmentRow] = []
        rebates: list[RebateRow] = []
        holds: list[HoldRow] = []
        claims: list[ClaimRow] = []
        failures: list[CreditReportFailureRow] = []
        allowances: list[TokenAllowanceRow] = []
        for d in decoded:
            if d.role == REGISTRY:
                continue
            loan_id = d.loan_id
            a = d.args
            if d.event == "Claimed":
                claims.append(
                    ClaimRow(
                        *position(d),
                        a["lender"],
                        a["token"],
                        a["to"],
                        str(a["amount"]),
                    )
                )
            elif d.event == "TokenAllowed":
                allowances.append(
                    TokenAllowanceRow(
                        d.block_hash,
                        d.log_index,
                        d.block_number,
                        a["token"],
                        a["tokenId"],
                        a["decimals"],
                        int(a["allowed"]),
                    )
                )
            if loan_id is None:
                continue
            if d.event == "RepaymentApplied":
                amount = a["fees"] + a["penalty"] + a["interest"] + a["principal"]
                payments.append(
                    PaymentRow(
                        *position(d),
                        loan_id,
                        a["payer"],
                        str(a["fees"]),
                        str(a["penalty"]),
                        str(a["interest"]),
                        str(a["principal"]),
                        str(amount),
                        str(a["principalOutstanding"]),
                        a["installmentsPaid"],
                        a["status"],
                        None,  # set as the loan's events are folded
                    )
                )
            elif d.event == "ChargesAccrued":
                charges.append(
                    ChargeRow(
                        d.block_hash,
                        d.log_index,
                        d.block_number,
                        d.timestamp,
                        loan_id,
                        str(a["lateFee"]),
                        str(a["penalty"]),
                        a["missed"],
                        a["installmentsAssessedLate"],
                        str(a["feesOwed"]),
                        str(a["penaltyOwed"]),
                    )
                )
            elif d.event == "DelinquencyBucketChanged":
                bucket_changes.append(
                    DelinquencyChangeRow(
                        d.block_hash,
                        d.log_index,
                        d.block_number,
                        d.timestamp,
                        loan_id,
                        a["fromBucket"],
                        a["toBucket"],
                        a["daysPastDue"],
                    )
                )
            elif d.event == "LoanOriginated":
                t = a["terms"]
                segments.append(
                    SegmentRow(
                        d.block_hash,
                        d.log_index,
                        d.block_number,
                        loan_id,
                        0,
                        t["installments"],
                        str(t["principal"]),
                        origination_calendar(t, d.timestamp)["segment_start"],
                        t["aprBps"],
                        t["periodSeconds"],
                    )
                )
            elif d.event == "ScheduleReset":
                segments.append(
                    SegmentRow(
                        d.block_hash,
                        d.log_index,
                        d.block_number,
                        loan_id,
                        a["baseIndex"],
                        a["installments"],
                        str(a["basePrincipal"]),
                        a["segmentStart"],
                        a["aprBps"],
                        a["periodSeconds"],
                    )
                )
            elif d.event == "InterestRebated":
                rebates.append(
                    RebateRow(
                        *position(d),
                        loan_id,
                        str(a["amount"]),
                    )
                )
            elif d.event == "RepaymentHeld":
                holds.append(
                    HoldRow(
                        *position(d),
                        loan_id,
                        a["lender"],
                        a["token"],
                        str(a["amount"]),
                        str(a["claimable"]),
                    )
                )
            elif d.event == "CreditReportFailed":
                failures.append(
                    CreditReportFailureRow(
                        *position(d),
                        loan_id,
                        a["selector"],
                        a["reason"],
                    )
                )
        db = self.db
        per_log: list[tuple[str, tuple[str, ...], Sequence[tuple[Any, ...]]]] = [
            ("charges", ChargeRow._fields, charges),
            ("delinquency_changes", DelinquencyChangeRow._fields, bucket_changes),
            ("segments", SegmentRow._fields, segments),
            ("rebates", RebateRow._fields, rebates),
            ("holds", HoldRow._fields, holds),
            ("claims", ClaimRow._fields, claims),
            ("credit_report_failures", CreditReportFailureRow._fields, failures),
            ("token_allowances", TokenAllowanceRow._fields, allowances),
        ]

        def write_rows() -> None:
            for table, columns, rows in per_log:
                db.insert_rows(table, columns, rows)

        write(write_rows)
        return payments

    def _load_states(
        self, loan_ids: set[int], borrowers: set[str]
    ) -> tuple[dict[int, LoanState], dict[str, CreditHistory]]:
        """Read the stored states of the loans and borrowers not cached yet; returns them."""
        missing = {loan_id for loan_id in loan_ids if loan_id not in self._loans}
        loans = self.db.loans(missing) if missing else {}
        self._loans.update(loans)
        unknown = {b for b in borrowers if b not in self._credits}
        credits = self.db.credit_histories(unknown) if unknown else {}
        self._credits.update(credits)
        return loans, credits

    def _fold_loans(
        self, groups: Mapping[tuple[str, int], list[LedgerEvent]]
    ) -> tuple[dict[tuple[str, int], int], dict[int, int]]:
        """Replay each transaction's events of a loan onto its (loaded) state; returns, for
        each (transaction, loan) with a repayment of an active loan, its days past due just
        before the transaction, and the block each changed loan was last changed in."""
        changed: dict[int, int] = {}
        lateness: dict[tuple[str, int], int] = {}
        loans = self._loans
        for (tx_hash, loan_id), events in groups.items():
            loans[loan_id], late = replay_transaction(loans.get(loan_id), events)
            if late is not None:
                lateness[(tx_hash, loan_id)] = late
            changed[loan_id] = events[-1].block_number
        return lateness, changed

    def _fold_credits(self, registry_events: Sequence[_RegistryFields]) -> dict[str, int]:
        """Apply the registry's events (borrower, event, args, block) to the borrowers'
        (loaded) credit histories; returns the block each touched history was last changed
        in."""
        touched: dict[str, int] = {}
        credits = self._credits
        for borrower, event, args, block_number in registry_events:
            history = credits.get(borrower)
            if history is None:
                history = credits[borrower] = CreditHistory(borrower)
            apply_registry_event(history, event, args)
            touched[borrower] = block_number
        return touched

    # ---------------------------------------------------------------- rebuild
    def rebuild(self, loan_ids: set[int], borrowers: set[str]) -> None:
        """Recompute loans and credit histories from their remaining stored logs."""
        groups: dict[int, dict[str, list[LedgerEvent]]] = {}
        last_block: dict[int, int] = {}
        for row in self.db.logs_of_loans(loan_ids):
            assert row.loan_id is not None
            event = LedgerEvent(
                row.event, row.args, row.timestamp, row.block_number, row.log_index, row.tx_hash
            )
            groups.setdefault(row.loan_id, {}).setdefault(row.tx_hash, []).append(event)
            last_block[row.loan_id] = row.block_number
        self.db.delete_loans(loan_ids)
        for loan_id, by_tx in groups.items():
            state: LoanState | None = None
            for events in by_tx.values():
                state = apply_ledger_events(state, events)
            assert state is not None
            self.db.save_loans([state], last_block[loan_id])
        histories: dict[str, CreditHistory] = {}
        touched: dict[str, int] = {}
        for row in self.db.logs_of_borrowers(borrowers):
            assert row.borrower is not None
            history = histories.setdefault(row.borrower, CreditHistory(row.borrower))
            apply_registry_event(history, row.event, row.args)
            touched[row.borrower] = row.block_number
        self.db.delete_credit_records(borrowers)
        for borrower, history in histories.items():
            self.db.save_credit_histories([history], touched[borrower])


class RangeStore:
    """One range's logs written and folded part by part, inside the caller's transaction.

    :meth:`add` takes each part as it is decoded (while the next one is fetched): it reads
    the states of loans and borrowers not cached yet, writes the logs and per-event rows,
    folds the registry's events here, and the ledger's either here or — once :meth:`fork`
    started a child (:class:`~loanservicing.indexing.forked.ForkedCall`) — by sending them
    to the child, which replays them on the machine's other core meanwhile, from the states
    it inherited. :meth:`finish` takes the child's states (or, when it gave none, replays its
    parts here: this process's cache holds the states the child started from) and writes the
    loans, the payments with their days past due, and the credit records."""

    def __init__(self, projections: Projections) -> None:
        self.projections = projections
        self.forked: ForkedCall[_LoanFold] | None = None
        self._parts: list[_FedGroups] = []
        """What the child was fed (replayed here if it gives no result)."""
        self._kept: list[list[_RegistryFields]] = []
        """The registry's events, folded here while the child replays the loans."""
        self._payments: list[PaymentRow] = []
        self._lateness: dict[tuple[str, int], int] = {}
        self._changed: dict[int, int] = {}
        self._touched: dict[str, int] = {}
        self._absent_loans: set[int] = set()
        self._absent_borrowers: set[str] = set()
        """Read for this range and not stored: the range creates them."""
        self._store: ThreadPoolExecutor | None = None
        self._writes: list[Future[None]] = []

    def _write(self, task: Callable[[], None]) -> None:
        """Run a write in this range's store thread (started by a large part), in order."""
        if self._store is None:
            task()
        else:
            self._writes.append(self._store.submit(task))

    def _drain(self) -> None:
        """Wait for the queued writes (raising their error) and end the store thread: the
        connection is this thread's again."""
        store, writes = self._store, self._writes
        self._store, self._writes = None, []
        if store is None:
            return
        try:
            for done in writes:
                done.result()
        finally:
            store.shutdown(wait=True, cancel_futures=True)

    def fork(self) -> bool:
        """From the next part on, fold in a forked child (when the projections are
        :attr:`~Projections.parallel` and forking is safe here: no other thread alive);
        whether one runs."""
        p = self.projections
        if self.forked is None and p.parallel:
            self._drain()
            self.forked = ForkedCall.start(p._fold_fed)
        return self.forked is not None

    def add(self, decoded: Sequence[DecodedLog]) -> None:
        """Write and fold one part of the range (parts in chain order)."""
        p = self.projections
        loan_ids: set[int] = set()
        borrowers: set[str] = set()
        # Plain tuples, which pickle in half the time the events themselves take.
        fed: dict[tuple[str, int], list[_EventFields]] = {}
        registry_events: list[_RegistryFields] = []
        for d in decoded:
            if d.role == REGISTRY:
                if (borrower := d.borrower) is not None:
                    borrowers.add(borrower)
                    registry_events.append((borrower, d.event, d.args, d.block_number))
            elif (loan_id := d.loan_id) is not None:
                loan_ids.add(loan_id)
                fed.setdefault((d.tx_hash, loan_id), []).append(
                    (d.event, d.args, d.timestamp, d.block_number, d.log_index, d.tx_hash)
                )
        missing = {i for i in loan_ids if i not in p._loans and i not in self._absent_loans}
        unknown = {b for b in borrowers if b not in p._credits and b not in self._absent_borrowers}
        loans: dict[int, LoanState] = {}
        credits: dict[str, CreditHistory] = {}
        if missing or unknown:
            self._drain()
            loans, credits = p._load_states(missing, unknown)
            self._absent_loans |= missing - loans.keys()
            self._absent_borrowers |= unknown - credits.keys()
        groups = list(fed.items())
        if self.forked is not None:
            # The child replays the loans; the credit records stay here, folded by finish()
            # while it waits for the child. (A share of the loans replayed here as well made
            # the sync slower: this process's decoding and writes are its longer path.)
            self.forked.send((loans, groups))
            self._parts.append(groups)
            self._kept.append(registry_events)
        else:
            self._fold(groups, registry_events)
        if self._store is None and len(decoded) >= _OVERLAP_LOGS:
            # The store works in a thread beside the next part's decoding (sqlite3 and
            # psycopg wait on the store without the GIL).
            self._store = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-store")
        self._payments += p._write_rows(decoded, self._write)

    def _fold(self, groups: _FedGroups, registry_events: list[_RegistryFields]) -> None:
        lateness, changed = self.projections._fold_loans(_events(groups))
        self._lateness.update(lateness)
        self._changed.update(changed)
        self._touched.update(self.projections._fold_credits(registry_events))

    def finish(self) -> None:
        """Take the fold's results and write the loans, payments and credit records."""
        p = self.projections
        if self.forked is not None:
            for registry_events in self._kept:
                self._fold([], registry_events)
            try:
                lateness, changed, states = self.forked.result()
            except ForkedCallFailed as exc:
                logger.warning("The forked replay gave no result (%s); replaying here.", exc)
                for groups in self._parts:
                    self._fold(groups, [])
            else:  # the child went on from the parts folded here before it was forked
                p._loans.update(states)
                self._lateness.update(lateness)
                self._changed.update(changed)
                p.forked_folds += 1
        self._drain()
        db = p.db
        db.save_loans_at([(p._loans[i], block) for i, block in self._changed.items()])
        lateness = self._lateness
        payments = [
            row._replace(days_past_due=lateness.get((row.tx_hash, row.loan_id)))
            for row in self._payments
        ]
        db.insert_rows("payments", PaymentRow._fields, payments)
        db.save_credit_histories_at([(p._credits[b], n) for b, n in self._touched.items()])

    def close(self) -> None:
        """Stop the store thread and the forked child, if any (after :meth:`finish`, or when
        the range failed: its transaction is rolled back)."""
        if self._store is not None:
            self._store.shutdown(wait=True, cancel_futures=True)
            self._store, self._writes = None, []
        if self.forked is not None:
            self.forked.close()

    def __enter__(self) -> RangeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
