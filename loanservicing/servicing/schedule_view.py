"""A loan's schedule as the lender reads it: every installment, what was paid towards it and
its status now (the words of :mod:`loanservicing.ledger.delinquency`).

Installments of the segment in force come from the ledger twin's ``Curve`` (the exact mirror
of the ledger's ``installment`` view); installments before it (a prepayment or restructuring
replaced them) are ``settled``: their due dates and scheduled amounts are rebuilt from the
LoanOriginated and ScheduleReset events (null where the node cannot serve those logs); what was
paid towards each is not recorded. Installments a payment holiday skipped (its HolidayGranted
events) are ``holiday`` rows at their old due dates with nothing scheduled. An installment due
on a date of the loan's forbearance window is marked ``in_forbearance``, and its grace period
ends later by the paused time (as the ledger counts lateness).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from web3.exceptions import Web3Exception

from loanservicing.chain.abi import struct_to_dict
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import grace_end, reset_segment
from loanservicing.ledger.calendar_terms import restart_calendar
from loanservicing.ledger.delinquency import DUE, HOLIDAY, PARTIAL, SETTLED, installment_status
from loanservicing.ledger.replay import originate
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus
from loanservicing.servicing.borrower_signature import TERMS_FIELDS
from loanservicing.servicing.records import HolidayGrant
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
    in_forbearance: bool = False
    """Due on a date of the loan's forbearance window (its lateness clock paused)."""

    @property
    def total(self) -> int | None:
        if self.principal is None or self.interest is None:
            return None
        return self.principal + self.interest


def schedule(
    servicer: Servicer, loan_id: int, grants: list[HolidayGrant] | None = None
) -> list[ScheduleRow]:
    """Every installment of loan ``loan_id`` with what was paid towards it and its status now;
    ``grants`` are its payment holidays (read from the chain when not given)."""
    state = LoanState.from_view(loan_id, servicer.loan_view(loan_id))
    now = servicer.now()
    base = state.base_index
    curve = state.curve()
    paid_p, paid_i = state.paid_principal, state.paid_interest
    closed = state.status is LoanStatus.CLOSED
    if grants is None:
        grants = servicer.holiday_grants(loan_id) if base else []
    rows = _replaced_rows(servicer, loan_id, state, grants)
    next_is_taken = False
    for j in range(1, state.installments - base + 1):
        cp1, ci1 = curve.cumulative(j)
        cp0, ci0 = curve.cumulative(j - 1)
        principal, interest = max(cp1 - cp0, 0), max(ci1 - ci0, 0)
        paid = (min(cp1, paid_p) - min(cp0, paid_p)) + (min(ci1, paid_i) - min(ci0, paid_i))
        due = state.due_date_at(j)
        status = installment_status(
            principal + interest, paid, due, grace_end(state, base + j), now, closed, next_is_taken
        )
        next_is_taken = next_is_taken or status in (PARTIAL, DUE)
        days = state.period_days + (state.odd_days if base + j == 1 else 0)
        rows.append(
            ScheduleRow(
                base + j,
                due,
                principal,
                interest,
                paid,
                status,
                _local_date(state, due),
                days,
                _in_forbearance(state, due),
            )
        )
    return rows


def _in_forbearance(state: LoanState, timestamp: int) -> bool:
    """Whether ``timestamp``'s date (in the loan's offset) is in its forbearance window."""
    if state.pause_to == 0:
        return False
    return state.pause_from <= cal.local_day(timestamp, state.offset_seconds) <= state.pause_to


def _local_date(state: LoanState, timestamp: int) -> str:
    """``timestamp``'s date in the loan's UTC offset."""
    return cal.date_of_day(cal.local_day(timestamp, state.offset_seconds)).isoformat()


def _replaced_rows(
    servicer: Servicer, loan_id: int, state: LoanState, grants: list[HolidayGrant]
) -> list[ScheduleRow]:
    """Installments 1..base, from the segments that the events describe: the loan as
    originated, then each ScheduleReset (a restructuring's also starts a new calendar); those
    a holiday skipped are ``holiday`` rows."""
    base = state.base_index
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
    holiday_counts = {g.tx_hash: g.count for g in grants}
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
        skipped_count = holiday_counts.get(log["transactionHash"].to_0x_hex(), 0)
        # A holiday moves the interest-only installments not yet reached with the schedule
        # (as LoanRelief.acceptHoliday does; d = baseIndex - count were due).
        if skipped_count and segment.interest_only > segment.base_index - skipped_count:
            segment.interest_only += skipped_count
        segments.append(segment)
    skipped = {n for g in grants for n in range(g.from_installment, g.through_installment + 1)}
    rows = []
    for n in range(1, base + 1):
        # The installment belongs to the latest segment that started before it.
        seg = next((sg for sg in reversed(segments[:-1]) if sg.base_index < n), None)
        if seg is None:
            return unknown
        due = seg.due_date(n)
        days = seg.period_days + (seg.odd_days if n == 1 else 0)
        if n in skipped:
            part_p, part_i, status = 0, 0, HOLIDAY
        else:
            part_p, part_i = seg.curve().part(n - seg.base_index)
            status = SETTLED
        rows.append(
            ScheduleRow(
                n,
                due,
                part_p,
                part_i,
                None,
                status,
                _local_date(seg, due),
                days,
                _in_forbearance(state, due),
            )
        )
    return rows
