"""Helpers for the monitor tests: a monitor over a fresh index of the deployed system."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from loanservicing.chain.node import mine
from loanservicing.indexing.database import BlockRow, IndexDB
from loanservicing.ledger.accounting import amount_due, installments_due
from loanservicing.ledger.calendar import local_day
from loanservicing.ledger.call_effects import CallEffects
from loanservicing.ledger.defaults import declare_default
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.relief import accept_holiday, forbear, propose_holiday
from loanservicing.ledger.repayments import assess, repay
from loanservicing.ledger.replay import originate
from loanservicing.ledger.restructuring import accept_restructure, propose_restructure
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus
from loanservicing.monitoring.monitor import Monitor, MonitorConfig, TickReport
from loanservicing.monitoring.notices import Notice
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import UNIT, LedgerDriver

__all__ = [
    "START",
    "MonitorTwins",
    "TwinBook",
    "Watch",
    "make_notice",
    "notice_args",
    "notice_fields",
    "random_terms",
]


class Watch:
    """An indexer and a monitor over one index file, ticked at exact chain times."""

    def __init__(self, system: LedgerDriver, db_path: Path, reminder_days: int = 3) -> None:
        self.system = system
        self.indexer = make_indexer(system, db_path)
        self.monitor = Monitor(self.indexer.db, MonitorConfig(reminder_days=reminder_days))

    def tick(self, at: int | None = None, channels: tuple[str, ...] = ()) -> TickReport:
        """Mine a block at ``at`` (if given), sync the index, evaluate at the latest block."""
        w3 = self.system.w3
        if at is not None:
            mine(w3, at)
        self.indexer.sync()
        block = w3.eth.get_block("latest")
        return self.monitor.tick(int(block["timestamp"]), int(block["number"]), channels)

    def kinds(self, at: int | None = None) -> list[str]:
        return [n.kind for n in self.tick(at).raised]

    def raised(self, at: int | None = None) -> dict[str, Notice]:
        return {n.kind: n for n in self.tick(at).raised}


def make_notice(loan_id: int, installment: int, kind: str = "overdue") -> Notice:
    """A notice with made-up but valid fields, for the store and channel tests."""
    return Notice(
        id=f"{kind}:{loan_id}:{installment}:{1_800_000_000 + installment}",
        kind=kind,
        loan_id=loan_id,
        borrower="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        days_past_due=6,
        amount=1_066_185_000 + installment,
        decimals=6,
        due_timestamp=1_800_000_000 + installment,
        chain_timestamp=1_800_600_000 + installment,
        block=42,
        details={"installment": installment},
    )


# ---------------------------------------------------------------------- ledger-twin books

_BORROWER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
_LENDER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
_TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
_LEDGER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
START = 1_900_000_000 // DAY * DAY
"""A day boundary to start the books at (2030)."""


def random_terms(rng: random.Random, now: int) -> dict[str, Any]:
    """Valid origination terms: the three schedule kinds, day or calendar-month periods,
    with or without grace, thresholds below and above the 90+ bucket."""
    months = rng.choice((0, 0, 1))
    period = rng.choice((7, 14, 30)) * DAY
    first_due = now + rng.randrange(3, 40) * DAY + rng.randrange(DAY)
    return {
        "borrower": _BORROWER,
        "token": _TOKEN,
        "principal": rng.randrange(500, 20_000) * UNIT,
        "aprBps": rng.choice((0, 600, 1200, 2400)),
        "installments": rng.randrange(2, 13),
        "periodSeconds": 30 * DAY if months else period,
        "firstDueDate": first_due,
        "kind": rng.randrange(3),
        "gracePeriodSeconds": rng.choice((0, DAY, 5 * DAY)),
        "lateFeeBps": rng.choice((0, 500)),
        "penaltyAprBps": rng.choice((0, 600)),
        "defaultAfterDays": rng.choice((10, 40, 90, 120)),
        "periodMonths": months,
        "dayCount": rng.randrange(2) if months else 0,
        "utcOffsetMinutes": rng.choice((0, 0, 120, -300)),
        "interestOnly": 0,
        "roundingExp": rng.choice((0, 0, 4)),
    }


def notice_args(state: LoanState) -> dict[str, Any]:
    """Arguments every notice-raising event's reader may look for, from the loan: what the
    twin's calls do not emit (addresses, the loan's status) or emit for other events."""
    return {
        "fees": 0,
        "penalty": 0,
        "interest": 0,
        "principal": 0,
        "principalOutstanding": state.principal_outstanding,
        "installmentsPaid": state.paid_count,
        "status": int(state.status),
        "payer": state.borrower,
        "servicer": state.lender,
        "carriedInterest": state.carried,
        "feesOwed": state.fees,
        "penaltyOwed": state.penalty,
        "interestOwed": 0,
        "capitalisedInterest": 0,
        "fromInstallment": 0,
        "count": 0,
        "fromDay": state.pause_from,
        "toDay": state.pause_to,
        "lastDay": state.pause_to,
        "daysPastDue": 0,
        "afterDefault": state.closed_after_default,
        "amount": 0,
    }


class TwinBook:
    """Loans serviced by the ledger's Python twin, written into one or more index databases
    as the indexer would: each call's state saved at a new block, its events as that block's
    logs, the block itself in ``blocks``."""

    def __init__(self, dbs: Sequence[IndexDB], rng: random.Random, now: int = START) -> None:
        self.dbs = list(dbs)
        self.rng = rng
        self.now = now
        self.block = 0
        self.states: dict[int, LoanState] = {}
        for db in self.dbs:
            with db.transaction():
                db.set_token_decimals(_TOKEN, 6)

    def _write(
        self, changes: Sequence[tuple[LoanState, Sequence[tuple[str, dict[str, Any]]]]]
    ) -> None:
        """One block at ``now`` with the calls' events; their states saved."""
        self.block += 1
        block_hash = f"0x{self.block:064x}"
        logs = []
        for state, events in changes:
            tx_hash = f"0x{self.rng.getrandbits(256):064x}"
            for name, args in events:
                full = {**notice_args(state), **args}
                logs.append(
                    (block_hash, len(logs), self.block, self.now, tx_hash, 0, _LEDGER, name,
                     state.loan_id, state.borrower, json.dumps(full, sort_keys=True))
                )  # fmt: skip
        for db in self.dbs:
            with db.transaction():
                db.upsert_blocks([BlockRow(self.block, block_hash, None, self.now, bool(logs))])
                db.insert_logs(logs)
                db.save_loans([copy.copy(s) for s, _ in changes], self.block)

    def originate(self, count: int = 1) -> list[int]:
        changes = []
        for _ in range(count):
            loan_id = len(self.states) + 1
            terms = random_terms(self.rng, self.now)
            args = {"loanId": loan_id, "borrower": _BORROWER, "lender": _LENDER, "terms": terms}
            state = originate(LedgerEvent("LoanOriginated", args, self.now))
            self.states[loan_id] = state
            changes.append((state, [("LoanOriginated", {"loanId": loan_id})]))
        self._write(changes)
        return [s.loan_id for s, _ in changes]

    def advance(self, seconds: int) -> None:
        self.now += seconds

    def act(self, loan_ids: Iterable[int]) -> int:
        """A random ledger call on each of ``loan_ids`` at ``now`` (those the ledger would
        refuse are skipped), in one block; returns how many were made."""
        changes = []
        for loan_id in loan_ids:
            w = copy.copy(self.states[loan_id])
            try:
                effects = self._call(w)
            except LedgerCallReverted:
                continue
            self.states[loan_id] = w
            changes.append((w, effects.events))
        if changes:
            self._write(changes)
        return len(changes)

    def assess(self, loan_ids: Iterable[int]) -> None:
        """``assess`` on each of ``loan_ids`` at ``now``, in one block (what the keeper
        sends)."""
        changes = []
        for loan_id in loan_ids:
            w = copy.copy(self.states[loan_id])
            changes.append((w, assess(w, self.now).events))
            self.states[loan_id] = w
        if changes:
            self._write(changes)

    def _call(self, w: LoanState) -> CallEffects:
        rng, t = self.rng, self.now
        if w.status is LoanStatus.CLOSED:
            raise LedgerCallReverted("LoanNotActive")
        q = amount_due(w, t)
        choice = rng.random()
        if w.status is LoanStatus.DEFAULTED or choice < 0.55:
            share = rng.choice((0.2, 0.5, 1.0, 1.0, 1.3, 3.0))
            owed = q.past_due + q.current_interest + q.current_principal
            amount = max(1, int(max(owed, q.payoff // 10) * share))
            if rng.random() < 0.05:
                amount = q.payoff + UNIT
            return repay(w, amount, t)
        if choice < 0.65:
            return assess(w, t)
        if choice < 0.8:
            today = local_day(t, w.offset_seconds)
            start = today + rng.randrange(0, 20)
            return forbear(w, t, start, start + rng.randrange(0, 45))
        if choice < 0.9:
            first = installments_due(w, t) + 1
            count = rng.randrange(1, 3)
            propose_holiday(w, t, first, count, t + DAY)
            return accept_holiday(w, t, first, count, t + DAY)
        if choice < 0.95:
            deadline = t + DAY
            period = w.period if w.months == 0 else 30 * DAY
            installments = rng.randrange(2, 10)
            propose_restructure(w, w.apr_bps, installments, period, deadline)
            return accept_restructure(w, t, w.apr_bps, installments, period, deadline)
        return declare_default(w, t)


def notice_fields(n: Notice) -> dict[str, Any]:
    """A notice as stored, without its place in the store's order."""
    fields = n.to_json()
    fields.pop("seq")
    return fields


class MonitorTwins:
    """An incremental monitor and a full one over two copies of one book (two databases):
    each tick raises the same notices in both, or :meth:`tick` fails."""

    def __init__(self, incremental: IndexDB, full: IndexDB, reminder_days: int = 3) -> None:
        config = MonitorConfig(reminder_days=reminder_days)
        self.incremental = Monitor(incremental, config)
        self.full = Monitor(full, config, incremental=False)
        self.incremental_ticks = 0
        self.evaluated = {"incremental": 0, "full": 0}
        """Loans each monitor evaluated, over every tick."""

    def tick(self, now: int, block: int) -> tuple[list[Notice], TickReport]:
        """Tick both at ``now``; assert they raised the same notices (ids, fields and order)
        and left the same buckets; return the notices and the incremental tick's report."""
        fast = self.incremental.tick(now, block)
        slow = self.full.tick(now, block)
        assert [notice_fields(n) for n in fast.raised] == [notice_fields(n) for n in slow.raised]
        assert self.incremental.store.buckets() == self.full.store.buckets()
        deadlines = self.incremental.store.deadlines()
        assert all(t > now for t in deadlines.values()), "a deadline not after the tick"
        self.incremental_ticks += fast.incremental
        self.evaluated["incremental"] += fast.evaluated
        self.evaluated["full"] += slow.evaluated
        return fast.raised, fast
