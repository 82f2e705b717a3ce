"""Delinquency in the lender's words: buckets, status labels, installment statuses, and which
loans the ledger has not yet assessed at a chain time.

Buckets are the ledger's (``bucketOf``): 0 current, 1: 1-30, 2: 31-60, 3: 61-90, 4: over 90
days past due.

Installment statuses, with one meaning each (the monitor's ``overdue`` notice is raised for
exactly the installments this module calls overdue; the ledger counts them as assessed late):

============  ===================================================================
status        the installment
============  ===================================================================
``paid``      is paid in full
``overdue``   is unpaid after its due date plus the grace period
``in-grace``  is unpaid after its due date, within the grace period
``partial``   is not yet due and partly paid
``due``       is the next to fall due, nothing paid yet
``upcoming``  falls due after the next one
``closed``    was left unpaid when the loan closed (after a default)
``settled``   belonged to a schedule that a prepayment or restructuring replaced
============  ===================================================================

A loan is *behind* at chain time ``now`` when calling the ledger's ``assess`` would record
something it has not stored yet: its delinquency bucket (``bucket_of(days past due at now)``
differs from the stored bucket) or a miss (an installment with an amount due passed its grace
period unpaid and is not counted yet). Penalty interest that merely accrued on installments
already counted late is not a reason, nor are installments with nothing due that fell due
(the ledger settles them at its next call): the next repayment or assessment brings them
current anyway.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from loanservicing.ledger.accounting import accrue, accrued_days_past_due, bucket_of
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = [
    "BUCKET_LABELS",
    "CLOSED",
    "DUE",
    "HOLIDAY",
    "INSTALLMENT_STATUSES",
    "IN_GRACE",
    "OVERDUE",
    "PAID",
    "PARTIAL",
    "SETTLED",
    "STATUS_LABELS",
    "UPCOMING",
    "behind_loans",
    "bucket_of",
    "installment_status",
    "is_behind",
]

BUCKET_LABELS = ("current", "1-30", "31-60", "61-90", "90+")
"""Labels of buckets 0..4."""
STATUS_LABELS = tuple(status.label for status in LoanStatus)
"""Labels of the loan statuses, in the order of their values: active, defaulted, closed."""

PAID = "paid"
OVERDUE = "overdue"
IN_GRACE = "in-grace"
PARTIAL = "partial"
DUE = "due"
UPCOMING = "upcoming"
CLOSED = "closed"
SETTLED = "settled"
HOLIDAY = "holiday"
INSTALLMENT_STATUSES = (
    PAID,
    OVERDUE,
    IN_GRACE,
    PARTIAL,
    DUE,
    UPCOMING,
    CLOSED,
    SETTLED,
    HOLIDAY,
)


def installment_status(
    amount: int,
    paid: int,
    due_timestamp: int,
    grace_end: int,
    now: int,
    loan_closed: bool,
    next_is_taken: bool,
) -> str:
    """The status of one installment of the schedule in force at chain time ``now``.

    ``amount`` is what it schedules, ``paid`` what was paid towards it, ``grace_end`` the
    last second of its grace period (later under forbearance); ``next_is_taken``
    tells that an earlier installment is already the next to fall due (so this one is
    ``upcoming``, not ``due``).
    """
    if paid >= amount:
        return PAID
    if loan_closed:
        return CLOSED
    if now > grace_end:
        return OVERDUE
    if now > due_timestamp:
        return IN_GRACE
    if paid > 0:
        return PARTIAL
    return UPCOMING if next_is_taken else DUE


def is_behind(state: LoanState, now: int) -> bool:
    """Whether ``assess`` at ``now`` would move the loan's stored bucket or record a miss."""
    if state.status is not LoanStatus.ACTIVE:
        return False
    w = copy.copy(state)
    if accrue(w, w.curve(), now).missed != 0:
        return True
    return bucket_of(accrued_days_past_due(w, now)) != state.bucket


def behind_loans(loans: Mapping[int, LoanState], now: int) -> list[int]:
    """Ids of the loans whose on-chain delinquency is behind at ``now``, ascending."""
    return sorted(loan_id for loan_id, state in loans.items() if is_behind(state, now))
