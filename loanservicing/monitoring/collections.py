"""The collections queue: every active loan past due at a chain time, the most urgent first,
with the notices raised about it, its last payment and the servicer's next step.

Order: days past due (most first), then the amount past due (largest first), then the loan id.

The next step, from the ledger twin's own rules (:mod:`loanservicing.ledger.accounting`), the
first that applies:

======================  ===================================================================
``default_eligible``    the servicer may declare default: days past due reached the loan's
                        threshold and the oldest unpaid installment is past its grace period
``assess``              an installment passed its grace period unpaid and the ledger has not
                        recorded the miss yet (no late fee charged, nothing reported to the
                        credit registry): call ``assess`` (the monitor's ``--keeper`` does)
``call``                an installment is unpaid after its grace period, the miss recorded:
                        call the borrower
``reminder``            past due but inside the grace period: remind the borrower
======================  ===================================================================
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.accounting import accrue, default_due, reported_days_past_due
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.state import LoanSnapshot, LoanState, LoanStatus
from loanservicing.monitoring.notices import Notice, NoticeStore
from loanservicing.monitoring.repayment_history import Repayment, repayments_of

__all__ = [
    "ASSESS",
    "CALL",
    "DEFAULT_ELIGIBLE",
    "NEXT_STEPS",
    "REMINDER",
    "CollectionItem",
    "collections_queue",
    "next_step",
]

REMINDER = "reminder"
CALL = "call"
ASSESS = "assess"
DEFAULT_ELIGIBLE = "default_eligible"
NEXT_STEPS = (REMINDER, CALL, ASSESS, DEFAULT_ELIGIBLE)
"""The next steps, from the mildest to the most severe."""


def next_step(state: LoanState, now: int) -> str:
    """The servicer's next step for an active loan past due at chain time ``now``."""
    w = copy.copy(state)
    accrual = accrue(w, w.curve(), now)
    if default_due(w, now):
        return DEFAULT_ELIGIBLE
    if accrual.missed != 0:
        return ASSESS
    if reported_days_past_due(w, now) != 0:
        return CALL
    return REMINDER


@dataclass(frozen=True)
class CollectionItem:
    """One loan of the queue."""

    loan: LoanSnapshot
    next_step: str
    last_payment: Repayment | None
    notices: list[Notice]


def collections_queue(db: IndexDB, now: int) -> list[CollectionItem]:
    """The active loans past due at chain time ``now``, the most urgent first."""
    decimals_of = db.token_decimals()
    states = {
        loan_id: state for loan_id, state in db.loans().items() if state.status is LoanStatus.ACTIVE
    }
    snapshots = [
        snapshot_at(state, now, decimals_of.get(state.token, 0)) for state in states.values()
    ]
    late = [s for s in snapshots if s.days_past_due > 0]
    late.sort(key=lambda s: (-s.days_past_due, -s.past_due, s.loan_id))
    paid = repayments_of(db, (s.loan_id for s in late))
    store = NoticeStore(db)
    return [
        CollectionItem(
            loan=s,
            next_step=next_step(states[s.loan_id], now),
            last_payment=paid[s.loan_id][-1] if paid[s.loan_id] else None,
            notices=store.notices(loan_id=s.loan_id),
        )
        for s in late
    ]
