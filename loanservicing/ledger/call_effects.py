"""What a replayed ledger call did besides changing the loan: its events and credit reports,
and the pieces of them several calls share (the ledger's ``emitAccrual``, the bucket change, the
schedule reset, the reports), for :mod:`loanservicing.ledger.replay` and
:mod:`loanservicing.ledger.relief`."""

from __future__ import annotations

from dataclasses import dataclass, field

from loanservicing.ledger.accounting import Accrual
from loanservicing.ledger.errors import LedgerCallReverted
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = [
    "CallEffects",
    "Emitted",
    "bucket_event",
    "charges_event",
    "clear_proposal",
    "delinquency_report",
    "repayment_report",
    "require_active",
    "schedule_reset_event",
]

Emitted = list[tuple[str, dict[str, int]]]


@dataclass(frozen=True)
class CallEffects:
    """What one ledger call did besides changing the loan's state.

    ``events``: the ledger events it emitted for the loan, in log order, by ABI name with their
    numeric arguments. ``reports``: the credit-registry functions it called, in order, with
    their arguments (``amount`` in the loan token's units; the ledger scales it to 18
    decimals). A report the registry refuses is a ``CreditReportFailed`` event instead, which
    only the chain knows.
    """

    events: Emitted = field(default_factory=list)
    reports: Emitted = field(default_factory=list)
    days_past_due: int | None = None
    """A repayment's days past due at its time, once accrued and before it was applied (what
    ``daysPastDue`` would have returned just before it); None for other calls."""


def charges_event(w: LoanState, a: Accrual) -> Emitted:
    """``emitAccrual``: ChargesAccrued when a checkpoint charged or recorded anything."""
    if not a.any():
        return []
    return [
        (
            "ChargesAccrued",
            {
                "lateFee": a.late_fee,
                "penalty": a.penalty,
                "missed": a.missed,
                "installmentsAssessedLate": w.late_count,
                "feesOwed": w.fees,
                "penaltyOwed": w.penalty,
            },
        )
    ]


def bucket_event(old: int, new: int, dpd: int) -> Emitted:
    if new == old:
        return []
    return [("DelinquencyBucketChanged", {"fromBucket": old, "toBucket": new, "daysPastDue": dpd})]


def schedule_reset_event(w: LoanState) -> Emitted:
    """The ScheduleReset event of the segment ``w`` now has."""
    return [
        (
            "ScheduleReset",
            {
                "baseIndex": w.base_index,
                "installments": w.installments,
                "basePrincipal": w.base_principal,
                "segmentStart": w.segment_start,
                "aprBps": w.apr_bps,
                "periodSeconds": w.period,
            },
        )
    ]


def delinquency_report(w: LoanState, missed: int, dpd: int) -> Emitted:
    return [("reportDelinquency", {"loanId": w.loan_id, "missed": missed, "daysPastDue": dpd})]


def repayment_report(w: LoanState, on_time: int, late: int, amount: int, closed: bool) -> Emitted:
    args = {"loanId": w.loan_id, "paidOnTime": on_time, "paidLate": late, "amount": amount}
    return [("reportRepayment", {**args, "closed": int(closed)})]


def clear_proposal(w: LoanState) -> None:
    w.proposal_apr_bps = w.proposal_installments = w.proposal_period = 0
    w.proposal_deadline = 0


def require_active(w: LoanState) -> None:
    if w.status is not LoanStatus.ACTIVE:
        raise LedgerCallReverted("LoanNotActive", f"loan {w.loan_id} is {w.status.label}")
