"""Each loan as it stood at past times, rebuilt from the event index: its ledger events
replayed by the ledger twin up to each time (:func:`loanservicing.ledger.replay.
apply_ledger_events`), then evaluated there (:func:`loanservicing.ledger.portfolio.
snapshot_at`), with no RPC call. The month-end reports (roll rates, vintages, IFRS 9) read
loans through :func:`snapshots_at`.

Month ends are the last second of a calendar month in UTC (:func:`month_end`).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from loanservicing.indexing.database import IndexDB, LogRow
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.replay import apply_ledger_events
from loanservicing.ledger.state import LedgerEvent, LoanSnapshot, LoanState

__all__ = [
    "LoanHistory",
    "loan_histories",
    "month_end",
    "month_ends",
    "month_of",
    "snapshots_at",
]

_RELIEF_EVENTS = {"LoanRestructured": "restructured", "HolidayGranted": "holiday"}


def month_of(text: str, what: str = "month") -> tuple[int, int]:
    """``2027-03`` as (2027, 3); ValueError with a sentence otherwise."""
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        dt.date(year, month, 1)
    except ValueError:
        raise ValueError(f"The {what} {text!r} is not a month such as 2027-03.") from None
    return year, month


def month_end(year: int, month: int) -> int:
    """The last second (UTC) of ``month`` of ``year``."""
    first_next = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return int(first_next.timestamp()) - 1


def month_ends(first: tuple[int, int], last: tuple[int, int]) -> list[int]:
    """The month ends from ``first`` through ``last`` (year, month), in order."""
    ends = []
    year, month = first
    while (year, month) <= last:
        ends.append(month_end(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ends


@dataclass
class LoanHistory:
    """A loan's stored ledger events, grouped by transaction in chain order, and when the
    relief events that mark it (a restructuring, a payment holiday) happened."""

    loan_id: int
    transactions: list[list[LedgerEvent]] = field(default_factory=list)
    relief: dict[str, list[int]] = field(default_factory=dict)
    """Timestamps of ``restructured`` and ``holiday`` events."""

    @property
    def originated_at(self) -> int:
        return self.transactions[0][0].timestamp

    def states_at(self, times: Sequence[int]) -> list[LoanState | None]:
        """The loan's state at each of ``times`` (ascending): after every transaction mined
        at or before it (None: not originated yet). One pass over the events."""
        states: list[LoanState | None] = []
        state: LoanState | None = None
        i = 0
        for t in times:
            while i < len(self.transactions) and self.transactions[i][0].timestamp <= t:
                state = apply_ledger_events(state, self.transactions[i])
                i += 1
            states.append(copy.deepcopy(state))
        return states

    def relief_by(self, kind: str, t: int, since: int = 0) -> bool:
        """Whether a ``kind`` relief event happened in ``[since, t]``."""
        return any(since <= at <= t for at in self.relief.get(kind, ()))


def loan_histories(db: IndexDB, loan_ids: Iterable[int] | None = None) -> dict[int, LoanHistory]:
    """Every (or each named) indexed loan's history."""
    ids = list(db.loans().keys()) if loan_ids is None else list(loan_ids)
    histories: dict[int, LoanHistory] = {}
    last_tx: dict[int, str] = {}
    rows: Sequence[LogRow] = db.logs_of_loans(ids)
    for row in rows:
        if row.loan_id is None:
            continue
        h = histories.setdefault(row.loan_id, LoanHistory(row.loan_id))
        event = LedgerEvent(
            row.event, row.args, row.timestamp, row.block_number, row.log_index, row.tx_hash
        )
        if last_tx.get(row.loan_id) != row.tx_hash:
            h.transactions.append([])
            last_tx[row.loan_id] = row.tx_hash
        h.transactions[-1].append(event)
        kind = _RELIEF_EVENTS.get(row.event)
        if kind is not None:
            h.relief.setdefault(kind, []).append(row.timestamp)
    return histories


def snapshots_at(
    histories: Iterable[LoanHistory], times: Sequence[int], decimals: dict[str, int]
) -> list[dict[int, LoanSnapshot]]:
    """For each of ``times`` (ascending), every loan originated by then as it stood then (by
    loan id)."""
    out: list[dict[int, LoanSnapshot]] = [{} for _ in times]
    for h in histories:
        for k, (t, state) in enumerate(zip(times, h.states_at(times), strict=True)):
            if state is not None:
                out[k][h.loan_id] = snapshot_at(state, t, decimals.get(state.token, 18))
    return out
