"""The installments a prepayment, restructuring or holiday replaced (every installment once a
loan is closed) rebuilt from the indexed events, as ``loan schedule`` rebuilds them from the
chain's (:mod:`loanservicing.servicing.schedule_view`): the segments the LoanOriginated and
ScheduleReset events started, each installment's parts from its segment's curve, what was paid
towards them from the RepaymentApplied events, holiday rows from HolidayGranted. The rows are
made by the same segment reading (``schedule_view``'s), fed from the index instead of RPC
calls; when the events do not add up to the installments (an index missing some), None: the
caller lists them by number as settled."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from loanservicing.indexing.database import LogRow
from loanservicing.ledger.accounting import reset_segment
from loanservicing.ledger.calendar_terms import restart_calendar
from loanservicing.ledger.replay import originate
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus
from loanservicing.servicing.schedule_view import (
    ScheduleRow,
    _Segment,  # the segment reading is schedule_view's; only its inputs differ here
    _segment_rows,
)

__all__ = ["replaced_rows"]


def _tx(row: LogRow) -> bytes:
    return bytes.fromhex(row.tx_hash.removeprefix("0x"))


def replaced_rows(state: LoanState, logs: Sequence[LogRow]) -> list[ScheduleRow] | None:
    """Installments 1..base (every installment of a closed loan) of ``state``'s loan from its
    indexed ``logs`` (chain order); None when they cannot be rebuilt."""
    closed = state.status is LoanStatus.CLOSED
    base = state.installments if closed else state.base_index
    if base == 0:
        return []
    originated = [r for r in logs if r.event == "LoanOriginated"]
    if len(originated) != 1:
        return None
    first = originated[0]
    segment = originate(LedgerEvent("LoanOriginated", dict(first.args), first.timestamp))
    carried = {
        r.tx_hash: int(r.args["carriedInterest"]) for r in logs if r.event == "LoanRestructured"
    }
    holidays = [r for r in logs if r.event == "HolidayGranted"]
    counts = {r.tx_hash: int(r.args["count"]) for r in holidays}
    segments = [_Segment(copy.copy(segment), (first.block_number, first.log_index), _tx(first))]
    for r in logs:
        if r.event != "ScheduleReset":
            continue
        a = r.args
        segment = copy.copy(segment)
        reset_segment(
            segment,
            int(a["baseIndex"]),
            int(a["installments"]),
            int(a["basePrincipal"]),
            int(a["segmentStart"]),
        )
        segment.apr_bps, segment.period = int(a["aprBps"]), int(a["periodSeconds"])
        if r.tx_hash in carried:
            restart_calendar(segment)
        skipped_count = counts.get(r.tx_hash, 0)
        if skipped_count and segment.interest_only > segment.base_index - skipped_count:
            segment.interest_only += skipped_count
        started = _Segment(segment, (r.block_number, r.log_index), _tx(r))
        started.paid_interest = -carried.get(r.tx_hash, 0)
        segments.append(started)
    for r in logs:
        if r.event != "RepaymentApplied":
            continue
        here = (r.block_number, r.log_index)
        seg = next(
            (s for s in reversed(segments) if s.position < here and s.tx_hash != _tx(r)),
            segments[0],
        )
        seg.paid_principal += int(r.args["principal"])
        seg.paid_interest += int(r.args["interest"])
    skipped = {
        n
        for h in holidays
        for n in range(int(h.args["fromInstallment"]),
                       int(h.args["fromInstallment"]) + int(h.args["count"]))
    }  # fmt: skip
    ends = [s.terms.base_index for s in segments[1:]]
    ends.append(state.base_index if closed else base)
    rows: list[ScheduleRow] = []
    for seg, end in zip(segments, ends, strict=True):
        numbers = range(seg.terms.base_index + 1, (base if seg is segments[-1] else end) + 1)
        rows += _segment_rows(seg, numbers, end, skipped, state)
    if [r.number for r in rows] != list(range(1, base + 1)):
        return None
    return rows
