"""Loan snapshots and the portfolio figures over them: loans by status and delinquency
bucket, outstanding principal, amounts collected, the aging table and PAR30/PAR90.

A snapshot is built the same way whatever its source (:func:`snapshot`): the servicing API
from the ledger's ``loan`` and ``amountDue`` views, the monitor from the index's replayed
states (:func:`snapshot_at`). So ``portfolio`` and ``report delinquency`` count the same loans
the same way.

PAR30 (PAR90), portfolio at risk: the outstanding principal of active loans more than 30 (90)
days past due plus that of defaulted loans, over the outstanding principal of active and
defaulted loans. Closed loans are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.delinquency import BUCKET_LABELS, STATUS_LABELS, bucket_of
from loanservicing.ledger.schedule import BPS
from loanservicing.ledger.state import AmountDue, LoanSnapshot, LoanState, LoanStatus

__all__ = [
    "AGING_LABELS",
    "Aging",
    "PortfolioSummary",
    "aging",
    "at_risk_share",
    "at_risk_share_bps",
    "share_json",
    "snapshot",
    "snapshot_at",
    "summarize",
]

AGING_LABELS = (*BUCKET_LABELS, "defaulted")
"""The rows of the aging table: active loans by bucket, then defaulted loans."""

_ACTIVE, _DEFAULTED = LoanStatus.ACTIVE.label, LoanStatus.DEFAULTED.label


def snapshot(state: LoanState, due: AmountDue, decimals: int, timestamp: int) -> LoanSnapshot:
    """The snapshot of a loan at chain time ``timestamp``: ``state`` as the ledger stores it
    and ``due``, what it owes then (``amountDue(id, timestamp)``)."""
    dpd = due.days_past_due
    active = state.status is LoanStatus.ACTIVE
    next_installment, next_due, next_amount = _next_payment(state, due)
    return LoanSnapshot(
        loan_id=state.loan_id,
        borrower=state.borrower,
        lender=state.lender,
        token=state.token,
        decimals=decimals,
        status=state.status.label,
        kind=state.kind,
        principal=state.principal,
        principal_outstanding=state.principal_outstanding,
        apr_bps=state.apr_bps,
        penalty_apr_bps=state.penalty_apr_bps,
        late_fee_bps=state.late_fee_bps,
        period_seconds=state.period,
        grace_seconds=state.grace,
        default_after_days=state.default_after_days,
        installments_total=state.installments,
        installments_paid=state.paid_count,
        days_past_due=dpd,
        delinquency_bucket=bucket_of(dpd) if active else state.bucket,
        recorded_bucket=state.bucket,
        past_due=due.past_due,
        next_due_timestamp=next_due,
        next_due_amount=next_amount,
        next_installment=next_installment,
        payoff=due.payoff,
        fees_owed=due.fees,
        penalty_owed=due.penalty,
        paid_principal=state.paid_principal,
        paid_interest=state.paid_interest,
        base_index=state.base_index,
        base_principal=state.base_principal,
        segment_start=state.segment_start,
        as_of_timestamp=timestamp,
    )


def _next_payment(state: LoanState, due: AmountDue) -> tuple[int | None, int | None, int]:
    """The next payment (installment number, due date, amount): everything past due and what
    is left of the running installment; when nothing is (the running installment paid early,
    or, right after a prepayment, no installment running until the new segment's first
    period begins), the next installment with something left to pay, with its date."""
    amount = due.past_due + due.current_interest + due.current_principal
    number, date = due.next_installment or None, due.next_due_date or None
    if amount or state.status is not LoanStatus.ACTIVE or state.paid_count >= state.installments:
        return number, date, amount
    n = max(state.paid_count + 1, state.base_index + 1)
    cp, ci = state.curve().cumulative(n - state.base_index)
    left = max(cp - state.paid_principal, 0) + max(ci - state.paid_interest, 0)
    return (n, state.due_date(n), left) if left else (number, date, amount)


def snapshot_at(state: LoanState, timestamp: int, decimals: int) -> LoanSnapshot:
    """The snapshot of a replayed ``state`` at ``timestamp``, evaluated without an RPC call."""
    return snapshot(state, amount_due(state, timestamp), decimals, timestamp)


_MICRO = Decimal("0.000001")


def at_risk_share(at_risk: int, outstanding: int) -> Decimal:
    """PAR as an exact fraction, to 28 significant digits (0 when nothing is outstanding)."""
    return Decimal(at_risk) / Decimal(outstanding) if outstanding else Decimal(0)


def share_json(share: Decimal) -> float:
    """A share for a JSON document: a number with six decimals (JSON has no decimal type)."""
    return float(share.quantize(_MICRO, rounding=ROUND_HALF_EVEN))


def at_risk_share_bps(at_risk: int, outstanding: int) -> int:
    """PAR in basis points, rounded down (0 when nothing is outstanding)."""
    return at_risk * BPS // outstanding if outstanding else 0


@dataclass(frozen=True)
class Aging:
    """Loans and outstanding principal per row of :data:`AGING_LABELS`, and the principal at
    risk; amounts in the loans' token units."""

    loans: Mapping[str, int]
    principal: Mapping[str, int]
    at_risk_30: int
    at_risk_90: int

    @property
    def principal_outstanding(self) -> int:
        return sum(self.principal.values())

    @property
    def par30(self) -> Decimal:
        return at_risk_share(self.at_risk_30, self.principal_outstanding)

    @property
    def par90(self) -> Decimal:
        return at_risk_share(self.at_risk_90, self.principal_outstanding)


def aging(snapshots: Iterable[LoanSnapshot]) -> Aging:
    """The aging table of ``snapshots``: active loans by days past due (current, 1-30, 31-60,
    61-90, 90+), defaulted loans apart; closed loans are left out."""
    loans = dict.fromkeys(AGING_LABELS, 0)
    principal = dict.fromkeys(AGING_LABELS, 0)
    at_risk_30 = at_risk_90 = 0
    for s in snapshots:
        if s.status == _DEFAULTED:
            label = "defaulted"
            at_risk_30 += s.principal_outstanding
            at_risk_90 += s.principal_outstanding
        elif s.status == _ACTIVE:
            label = BUCKET_LABELS[s.delinquency_bucket]
            if s.days_past_due > 30:
                at_risk_30 += s.principal_outstanding
            if s.days_past_due > 90:
                at_risk_90 += s.principal_outstanding
        else:
            continue
        loans[label] += 1
        principal[label] += s.principal_outstanding
    return Aging(loans, principal, at_risk_30, at_risk_90)


@dataclass(frozen=True)
class PortfolioSummary:
    """Amounts in the token's smallest units (``decimals``)."""

    decimals: int
    loans: int
    by_status: dict[str, int]
    by_bucket: dict[str, int]
    """Active loans by days past due now."""
    by_schedule: dict[str, int]
    principal_originated: int
    principal_outstanding: int
    """Active and defaulted loans."""
    principal_defaulted: int
    """Outstanding principal of defaulted loans."""
    collected: int
    """Everything repaid (fees, penalty, interest, principal), recoveries included."""
    collected_interest: int
    collected_fees: int
    at_risk_30: int
    """Outstanding principal of loans more than 30 days past due (defaulted included)."""

    @property
    def par30(self) -> Decimal:
        return at_risk_share(self.at_risk_30, self.principal_outstanding)

    def to_json(self) -> dict[str, Any]:
        return {
            "decimals": self.decimals,
            "loans": self.loans,
            "by_status": self.by_status,
            "by_bucket": self.by_bucket,
            "by_schedule": self.by_schedule,
            "principal_originated": self.principal_originated,
            "principal_outstanding": self.principal_outstanding,
            "principal_defaulted": self.principal_defaulted,
            "collected": self.collected,
            "collected_interest": self.collected_interest,
            "collected_fees": self.collected_fees,
            "at_risk_30": self.at_risk_30,
            "par30": share_json(self.par30),
            "par30_bps": at_risk_share_bps(self.at_risk_30, self.principal_outstanding),
        }


def summarize(
    snapshots: Sequence[LoanSnapshot], repayments: Iterable[Mapping[str, int]], decimals: int
) -> PortfolioSummary:
    """The summary of loans ``snapshots`` and RepaymentApplied ``repayments`` (event args)."""
    table = aging(snapshots)
    by_status = Counter(dict.fromkeys(STATUS_LABELS, 0))
    by_schedule: Counter[str] = Counter()
    for s in snapshots:
        by_status[s.status] += 1
        by_schedule[s.kind.label] += 1
    paid = list(repayments)
    return PortfolioSummary(
        decimals=decimals,
        loans=len(snapshots),
        by_status=dict(by_status),
        by_bucket={label: table.loans[label] for label in BUCKET_LABELS},
        by_schedule=dict(sorted(by_schedule.items())),
        principal_originated=sum(s.principal for s in snapshots),
        principal_outstanding=table.principal_outstanding,
        principal_defaulted=table.principal["defaulted"],
        collected=sum(r["fees"] + r["penalty"] + r["interest"] + r["principal"] for r in paid),
        collected_interest=sum(r["interest"] for r in paid),
        collected_fees=sum(r["fees"] + r["penalty"] for r in paid),
        at_risk_30=table.at_risk_30,
    )
