"""A loan's schedule as the lender reads it: every installment, what was paid towards it and
its status now (the words of :mod:`loanservicing.ledger.delinquency`).

Installments of the segment in force come from the ledger twin's ``Curve`` (the exact mirror
of the ledger's ``installment`` view); installments before it (a prepayment or restructuring
replaced them) are ``settled``: their due dates and scheduled amounts are rebuilt from the
LoanOriginated and ScheduleReset events (null where the node cannot serve those logs); what was
paid towards each is not recorded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from web3.exceptions import Web3Exception

from loanservicing.chain.abi import struct_to_dict
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import reset_segment
from loanservicing.ledger.calendar_terms import restart_calendar
from loanservicing.ledger.delinquency import DUE, PARTIAL, SETTLED, installment_status
from loanservicing.ledger.replay import originate
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus
from loanservicing.servicing.borrower_signature import TERMS_FIELDS
from loanservicing.servicing.servicer import Servicer

__all__ = ["ScheduleRow", "schedule"]


@dataclass(frozen=True)
class ScheduleRow:
    """One installment; amounts are None for installments of an earlier, replaced segment."""

    number: int
    due_timestamp: int | None
    principal: int | None
    interest: int | None
    paid: int | None
    status: str
    due_date: str = ""
    """The due date in the loan's UTC offset (YYYY-MM-DD); empty when not known."""
    days: int | None = None
    """The period's days by the loan's day count (the first from the origination date)."""

    @property
    def total(self) -> int | None:
        if self.principal is None or self.interest is None:
            return None
        return self.principal + self.interest


def schedule(servicer: Servicer, loan_id: int) -> list[ScheduleRow]:
    """Every installment of loan ``loan_id`` with what was paid towards it and its status now."""
    state = LoanState.from_view(loan_id, servicer.loan_view(loan_id))
    now = servicer.now()
    base = state.base_index
    curve = state.curve()
    paid_p, paid_i = state.paid_principal, state.paid_interest
    closed = state.status is LoanStatus.CLOSED
    rows = _replaced_rows(servicer, loan_id, base)
    next_is_taken = False
    for j in range(1, state.installments - base + 1):
        cp1, ci1 = curve.cumulative(j)
        cp0, ci0 = curve.cumulative(j - 1)
        principal, interest = max(cp1 - cp0, 0), max(ci1 - ci0, 0)
        paid = (min(cp1, paid_p) - min(cp0, paid_p)) + (min(ci1, paid_i) - min(ci0, paid_i))
        due = state.due_date_at(j)
        status = installment_status(
            principal + interest, paid, due, state.grace, now, closed, next_is_taken
        )
        next_is_taken = next_is_taken or status in (PARTIAL, DUE)
        days = state.period_days + (state.odd_days if base + j == 1 else 0)
        rows.append(
            ScheduleRow(
                base + j, due, principal, interest, paid, status, _local_date(state, due), days
            )
        )
    return rows


def _local_date(state: LoanState, timestamp: int) -> str:
    """``timestamp``'s date in the loan's UTC offset."""
    return cal.date_of_day(cal.local_day(timestamp, state.offset_seconds)).isoformat()


def _replaced_rows(servicer: Servicer, loan_id: int, base: int) -> list[ScheduleRow]:
    """Installments 1..base, from the segments that the events describe: the loan as
    originated, then each ScheduleReset (a restructuring's also starts a new calendar)."""
    unknown = [ScheduleRow(n, None, None, None, None, SETTLED) for n in range(1, base + 1)]
    if base == 0:
        return []
    ledger = servicer.ledger
    filters = {"loanId": loan_id}
    first = servicer.deployment.block
    try:
        originated = ledger.events.LoanOriginated().get_logs(
            from_block=first, argument_filters=filters
        )
        resets = ledger.events.ScheduleReset().get_logs(from_block=first, argument_filters=filters)
        restructured = ledger.events.LoanRestructured().get_logs(
            from_block=first, argument_filters=filters
        )
        block = servicer.w3.eth.get_block(originated[0]["blockNumber"]) if originated else None
    except (Web3Exception, ValueError):
        return unknown
    if len(originated) != 1 or block is None:
        return unknown
    args = dict(originated[0]["args"])
    args["terms"] = struct_to_dict(args["terms"], TERMS_FIELDS)
    segment = originate(LedgerEvent("LoanOriginated", args, int(block["timestamp"])))
    restructure_txs = {log["transactionHash"] for log in restructured}
    segments = [copy.copy(segment)]
    for log in resets:
        a = log["args"]
        segment = copy.copy(segment)
        reset_segment(
            segment,
            int(a["baseIndex"]),
            int(a["installments"]),
            int(a["basePrincipal"]),
            int(a["segmentStart"]),
        )
        segment.apr_bps, segment.period = int(a["aprBps"]), int(a["periodSeconds"])
        if log["transactionHash"] in restructure_txs:
            restart_calendar(segment)
        segments.append(segment)
    rows = []
    for n in range(1, base + 1):
        # The installment belongs to the latest segment that started before it.
        seg = next((sg for sg in reversed(segments[:-1]) if sg.base_index < n), None)
        if seg is None:
            return unknown
        part_p, part_i = seg.curve().part(n - seg.base_index)
        due = seg.due_date(n)
        days = seg.period_days + (seg.odd_days if n == 1 else 0)
        rows.append(ScheduleRow(n, due, part_p, part_i, None, SETTLED, _local_date(seg, due), days))
    return rows
