"""The installments a prepayment, restructuring or holiday replaced (every installment once a
loan is closed) rebuilt from the indexed events, by the same rebuild ``loan schedule`` makes
from the chain's logs (:func:`loanservicing.servicing.schedule_view.rebuild_replaced`), fed
from the index instead of RPC calls; when the events do not add up to the installments (an
index missing some), None: the caller lists them by number as settled."""

from __future__ import annotations

from collections.abc import Sequence

from loanservicing.indexing.database import LogRow
from loanservicing.ledger.state import LoanState
from loanservicing.servicing.schedule_view import ScheduleRow, SegmentEvent, rebuild_replaced

__all__ = ["replaced_rows"]


def _tx(row: LogRow) -> bytes:
    return bytes.fromhex(row.tx_hash.removeprefix("0x"))


def replaced_rows(state: LoanState, logs: Sequence[LogRow]) -> list[ScheduleRow] | None:
    """Installments 1..base (every installment of a closed loan) of ``state``'s loan from its
    indexed ``logs`` (chain order); None when they cannot be rebuilt."""
    events = [
        SegmentEvent(r.event, r.args, (r.block_number, r.log_index), _tx(r), r.timestamp)
        for r in logs
    ]
    holidays = [r for r in logs if r.event == "HolidayGranted"]
    counts = {_tx(r): int(r.args["count"]) for r in holidays}
    skipped = {
        n
        for h in holidays
        for n in range(int(h.args["fromInstallment"]),
                       int(h.args["fromInstallment"]) + int(h.args["count"]))
    }  # fmt: skip
    return rebuild_replaced(state, events, counts, skipped)
