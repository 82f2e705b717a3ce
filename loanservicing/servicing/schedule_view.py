"""A loan's schedule as the lender reads it: every installment, what was paid towards it and
its status now (the words of :mod:`loanservicing.ledger.delinquency`).

Installments of the segment in force come from the ledger twin's ``Curve`` (the exact mirror
of the ledger's ``installment`` view); installments before it (a prepayment or restructuring
replaced them; every installment once the loan is closed, as closing leaves an empty segment
that no event announces) are rebuilt from the LoanOriginated and ScheduleReset events, and
what was paid towards them from the RepaymentApplied events (see :func:`_replaced_rows`): they
are ``paid`` when that covers them, else ``settled`` (null where the node cannot serve those
logs). Installments a payment holiday skipped (its HolidayGranted
events) are ``holiday`` rows at their old due dates with nothing scheduled. An installment due
on a date of the loan's forbearance window is marked ``in_forbearance``, and its grace period
ends later by the paused time (as the ledger counts lateness).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from web3.exceptions import Web3Exception

from loanservicing.chain.abi import struct_to_dict
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import reset_segment
from loanservicing.ledger.calendar_terms import restart_calendar
from loanservicing.ledger.delinquency import (
    HOLIDAY,
    PAID,
    SETTLED,
)
from loanservicing.ledger.installments import paid_installments
from loanservicing.ledger.replay import originate
from loanservicing.ledger.state import LedgerEvent, LoanState, LoanStatus
from loanservicing.servicing.borrower_signature import TERMS_FIELDS
from loanservicing.servicing.records import HolidayGrant
from loanservicing.servicing.servicer import Servicer

__all__ = ["ScheduleRow", "SegmentEvent", "rebuild_replaced", "schedule"]


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
    closed = state.status is LoanStatus.CLOSED
    if grants is None:
        grants = servicer.holiday_grants(loan_id) if base else []
    if closed:
        # Closing leaves an empty segment after the installments it settled (no event says
        # so): the rows are those of the schedules the events describe.
        return _replaced_rows(servicer, loan_id, state, grants)
    rows = _replaced_rows(servicer, loan_id, state, grants)
    for p in paid_installments(state, now):
        i = p.installment
        rows.append(
            ScheduleRow(
                i.number,
                i.due_timestamp,
                i.principal,
                i.interest,
                p.paid,
                p.status,
                i.due_date,
                i.days,
                _in_forbearance(state, i.due_timestamp),
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


@dataclass
class _Segment:
    """A schedule segment as an event started it, and the interest and principal paid while
    it was in force (by the repayments of later transactions, and of the one replacing it)."""

    terms: LoanState
    position: tuple[int, int]
    """(block, log index) of the event that started it."""
    tx_hash: bytes
    paid_principal: int = 0
    paid_interest: int = 0


def _replaced_rows(
    servicer: Servicer, loan_id: int, state: LoanState, grants: list[HolidayGrant]
) -> list[ScheduleRow]:
    """Installments 1..base (every installment once the loan is closed), from the segments
    that the events describe: the loan as originated, then each ScheduleReset (a
    restructuring's also starts a new calendar); those a holiday skipped are ``holiday`` rows.
    What was paid towards them comes from the RepaymentApplied events: a segment's payments
    fill its installments in order, and what was paid beyond them (a prepayment, a payoff)
    counts towards the last one it settled. Installments paid in full are ``paid``, the others
    ``settled``."""
    closed = state.status is LoanStatus.CLOSED
    base = state.installments if closed else state.base_index
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
        logs = [
            *ledger.events.ScheduleReset().get_logs(from_block=first, argument_filters=filters),
            *ledger.events.LoanRestructured().get_logs(from_block=first, argument_filters=filters),
            *ledger.events.RepaymentApplied().get_logs(from_block=first, argument_filters=filters),
        ]
        block = servicer.w3.eth.get_block(originated[0]["blockNumber"]) if originated else None
    except (Web3Exception, ValueError):
        return unknown
    if len(originated) != 1 or block is None:
        return unknown
    args = dict(originated[0]["args"])
    args["terms"] = struct_to_dict(args["terms"], TERMS_FIELDS)
    events = [
        SegmentEvent(
            "LoanOriginated",
            args,
            _position(originated[0]),
            bytes(originated[0]["transactionHash"]),
            int(block["timestamp"]),
        )
    ]
    for log in sorted(logs, key=_position):
        events.append(
            SegmentEvent(
                str(log["event"]), log["args"], _position(log), bytes(log["transactionHash"]), 0
            )
        )
    counts = {bytes.fromhex(g.tx_hash.removeprefix("0x")): g.count for g in grants}
    skipped = {n for g in grants for n in range(g.from_installment, g.through_installment + 1)}
    return rebuild_replaced(state, events, counts, skipped) or unknown


@dataclass(frozen=True)
class SegmentEvent:
    """One event of a loan as the schedule's rebuild reads it (from the chain's logs or from
    the index): its name, arguments, (block, log index), transaction hash and, for the
    LoanOriginated event, its block's timestamp."""

    event: str
    args: Mapping[str, Any]
    position: tuple[int, int]
    tx_hash: bytes
    timestamp: int = 0


def rebuild_replaced(
    state: LoanState,
    events: Sequence[SegmentEvent],
    holiday_counts: Mapping[bytes, int],
    skipped: set[int],
) -> list[ScheduleRow] | None:
    """Installments 1..base (every installment once the loan is closed) of ``state``'s loan
    from its LoanOriginated, ScheduleReset, LoanRestructured and RepaymentApplied ``events``
    (chain order; others ignored): the segment the origination started, then each
    ScheduleReset (a restructuring's also starts a new calendar; a holiday's, of
    ``holiday_counts[tx]`` installments, moves the interest-only ones not yet reached);
    ``skipped`` installments are ``holiday`` rows. A segment's payments fill its installments
    in order, and what was paid beyond them (a prepayment, a payoff) counts towards the last
    one it settled. None when the events do not add up to the installments."""
    closed = state.status is LoanStatus.CLOSED
    base = state.installments if closed else state.base_index
    if base == 0:
        return []
    originated = [e for e in events if e.event == "LoanOriginated"]
    if len(originated) != 1:
        return None
    first = originated[0]
    segment = originate(LedgerEvent("LoanOriginated", dict(first.args), first.timestamp))
    carried = {
        e.tx_hash: int(e.args["carriedInterest"]) for e in events if e.event == "LoanRestructured"
    }
    segments = [_Segment(copy.copy(segment), first.position, first.tx_hash)]
    for e in events:
        if e.event != "ScheduleReset":
            continue
        a = e.args
        segment = copy.copy(segment)
        reset_segment(
            segment,
            int(a["baseIndex"]),
            int(a["installments"]),
            int(a["basePrincipal"]),
            int(a["segmentStart"]),
        )
        segment.apr_bps, segment.period = int(a["aprBps"]), int(a["periodSeconds"])
        if e.tx_hash in carried:
            restart_calendar(segment)
        skipped_count = holiday_counts.get(e.tx_hash, 0)
        # A holiday moves the interest-only installments not yet reached with the schedule
        # (as LoanRelief.acceptHoliday does; d = baseIndex - count were due).
        if skipped_count and segment.interest_only > segment.base_index - skipped_count:
            segment.interest_only += skipped_count
        started = _Segment(segment, e.position, e.tx_hash)
        # Interest a restructuring carried over is paid first, and was owed under the
        # segment it replaced, not towards the new installments.
        started.paid_interest = -carried.get(e.tx_hash, 0)
        segments.append(started)
    for e in events:
        if e.event != "RepaymentApplied":
            continue
        # A repayment belongs to the segment in force when its transaction began (the
        # ScheduleReset of a prepayment comes before its RepaymentApplied).
        seg = next(
            (s for s in reversed(segments) if s.position < e.position and s.tx_hash != e.tx_hash),
            segments[0],
        )
        seg.paid_principal += int(e.args["principal"])
        seg.paid_interest += int(e.args["interest"])
    # Where each segment ends: the next one's base, or (closed) the installments settled.
    ends = [s.terms.base_index for s in segments[1:]]
    ends.append(state.base_index if closed else base)
    rows: list[ScheduleRow] = []
    for seg, end in zip(segments, ends, strict=True):
        numbers = range(seg.terms.base_index + 1, (base if seg is segments[-1] else end) + 1)
        rows += _segment_rows(seg, numbers, end, skipped, state)
    if [r.number for r in rows] != list(range(1, base + 1)):
        return None
    return rows


def _segment_rows(
    seg: _Segment, numbers: range, settled_through: int, skipped: set[int], state: LoanState
) -> list[ScheduleRow]:
    """The rows of ``numbers`` scheduled by segment ``seg``; what was paid while it was in
    force fills those through ``settled_through`` in order, the rest counting towards the
    last of them."""
    terms = seg.terms
    curve = terms.curve()
    left_p, left_i = seg.paid_principal, max(seg.paid_interest, 0)
    parts: dict[int, tuple[int, int]] = {}
    paid: dict[int, int] = {}
    last_paid: int | None = None
    for n in numbers:
        if n in skipped:
            continue
        part_p, part_i = curve.part(n - terms.base_index)
        parts[n] = (part_p, part_i)
        if n <= settled_through:
            take_p, take_i = min(part_p, left_p), min(part_i, left_i)
            left_p, left_i = left_p - take_p, left_i - take_i
            paid[n] = take_p + take_i
            last_paid = n
        else:
            paid[n] = 0
    if last_paid is not None:
        paid[last_paid] += left_p + left_i
    rows = []
    for n in numbers:
        due = terms.due_date(n)
        days = terms.period_days + (terms.odd_days if n == 1 else 0)
        paid_n: int | None
        if n in skipped:
            part_p, part_i, paid_n, status = 0, 0, None, HOLIDAY  # nothing was owed
        else:
            part_p, part_i = parts[n]
            paid_n = paid[n]
            status = PAID if paid_n >= part_p + part_i else SETTLED
        rows.append(
            ScheduleRow(
                n,
                due,
                part_p,
                part_i,
                paid_n,
                status,
                _local_date(terms, due),
                days,
                _in_forbearance(state, due),
            )
        )
    return rows


def _position(log: Any) -> tuple[int, int]:
    return int(log["blockNumber"]), int(log["logIndex"])
