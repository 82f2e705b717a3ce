"""A loan's schedule as the lender reads it: every installment, what was paid towards it and
its status now (the words of :mod:`loanservicing.ledger.delinquency`).

Installments of the segment in force come from the ledger twin's ``Curve`` (the exact mirror
of the ledger's ``installment`` view); installments before it (a prepayment or restructuring
replaced them) are ``settled``: their due dates and scheduled amounts are rebuilt from the
LoanOriginated and ScheduleReset events (null where the node cannot serve those logs); what was
paid towards each is not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3.exceptions import Web3Exception

from loanservicing.chain.abi import struct_to_dict
from loanservicing.ledger.delinquency import DUE, PARTIAL, SETTLED, installment_status
from loanservicing.ledger.schedule import Curve, ScheduleKind
from loanservicing.ledger.state import LoanState, LoanStatus
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
    rows = _replaced_rows(servicer, loan_id, state.kind, base)
    next_is_taken = False
    for j in range(1, state.installments - base + 1):
        cp1, ci1 = curve.cumulative(j)
        cp0, ci0 = curve.cumulative(j - 1)
        principal, interest = max(cp1 - cp0, 0), max(ci1 - ci0, 0)
        paid = (min(cp1, paid_p) - min(cp0, paid_p)) + (min(ci1, paid_i) - min(ci0, paid_i))
        due = state.segment_start + j * state.period
        status = installment_status(
            principal + interest, paid, due, state.grace, now, closed, next_is_taken
        )
        next_is_taken = next_is_taken or status in (PARTIAL, DUE)
        rows.append(ScheduleRow(base + j, due, principal, interest, paid, status))
    return rows


def _replaced_rows(
    servicer: Servicer, loan_id: int, kind: ScheduleKind, base: int
) -> list[ScheduleRow]:
    """Installments 1..base, from the segments that the events describe."""
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
    except (Web3Exception, ValueError):
        return unknown
    if len(originated) != 1:
        return unknown
    t = struct_to_dict(originated[0]["args"]["terms"], TERMS_FIELDS)
    # (base index, last installment, principal, segment start, apr, period) per segment
    segments = [
        (
            0,
            int(t["installments"]),
            int(t["principal"]),
            int(t["firstDueDate"]) - int(t["periodSeconds"]),
            int(t["aprBps"]),
            int(t["periodSeconds"]),
        )
    ]
    for log in resets:
        a = log["args"]
        segments.append(
            (
                int(a["baseIndex"]),
                int(a["installments"]),
                int(a["basePrincipal"]),
                int(a["segmentStart"]),
                int(a["aprBps"]),
                int(a["periodSeconds"]),
            )
        )
    rows = []
    for n in range(1, base + 1):
        # The installment belongs to the latest segment that started before it.
        seg = next((sg for sg in reversed(segments[:-1]) if sg[0] < n), None)
        if seg is None:
            return unknown
        seg_base, last, principal, start, apr, period = seg
        part_p, part_i = Curve(kind, principal, last - seg_base, apr, period).part(n - seg_base)
        rows.append(ScheduleRow(n, start + (n - seg_base) * period, part_p, part_i, None, SETTLED))
    return rows
