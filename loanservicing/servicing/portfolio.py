"""Portfolio summary: loans by status and delinquency bucket, outstanding principal, amounts
collected and PAR30, computed from the ledger's views and RepaymentApplied events.

PAR30 (portfolio at risk, 30 days) is the outstanding principal of loans more than 30 days
past due, defaulted loans included, divided by the total outstanding principal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from loanservicing.servicing.servicer import STATUS_LABELS, LoanState, Servicer

__all__ = ["BUCKET_LABELS", "PortfolioSummary", "summarize", "summarize_states"]

BUCKET_LABELS = ("current", "1-30", "31-60", "61-90", "90+")


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
    def par30(self) -> float:
        if self.principal_outstanding == 0:
            return 0.0
        return self.at_risk_30 / self.principal_outstanding

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
            "par30": round(self.par30, 6),
            "par30_bps": self.at_risk_30 * 10_000 // self.principal_outstanding
            if self.principal_outstanding
            else 0,
        }


def summarize_states(
    states: list[LoanState], repayments: list[dict[str, int]], decimals: int
) -> PortfolioSummary:
    """The summary of loans ``states`` and RepaymentApplied ``repayments`` (event args)."""
    by_status = Counter({label: 0 for label in STATUS_LABELS})
    by_bucket = Counter({label: 0 for label in BUCKET_LABELS})
    by_schedule: Counter[str] = Counter()
    outstanding = defaulted = at_risk = originated = 0
    for state in states:
        by_status[state.status] += 1
        by_schedule[state.kind.label] += 1
        originated += state.principal
        if state.status == "closed":
            continue
        outstanding += state.principal_outstanding
        if state.status == "defaulted":
            defaulted += state.principal_outstanding
        else:
            by_bucket[BUCKET_LABELS[state.delinquency_bucket]] += 1
        if state.days_past_due > 30 or state.status == "defaulted":
            at_risk += state.principal_outstanding
    collected = sum(r["fees"] + r["penalty"] + r["interest"] + r["principal"] for r in repayments)
    return PortfolioSummary(
        decimals=decimals,
        loans=len(states),
        by_status=dict(by_status),
        by_bucket=dict(by_bucket),
        by_schedule=dict(sorted(by_schedule.items())),
        principal_originated=originated,
        principal_outstanding=outstanding,
        principal_defaulted=defaulted,
        collected=collected,
        collected_interest=sum(r["interest"] for r in repayments),
        collected_fees=sum(r["fees"] + r["penalty"] for r in repayments),
        at_risk_30=at_risk,
    )


def repayment_events(servicer: Servicer) -> list[dict[str, int]]:
    """Args of every RepaymentApplied since the deployment."""
    logs = servicer.ledger.events.RepaymentApplied().get_logs(from_block=servicer.deployment.block)
    return [
        {k: int(log["args"][k]) for k in ("loanId", "fees", "penalty", "interest", "principal")}
        for log in logs
    ]


def summarize(servicer: Servicer) -> PortfolioSummary:
    """The summary of every loan of the deployment, as of the latest block."""
    return summarize_states(servicer.loans(), repayment_events(servicer), servicer.token_decimals)
