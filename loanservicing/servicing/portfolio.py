"""The portfolio summary of a deployment from the ledger's views: every loan's snapshot now
and every RepaymentApplied event, summed up by :func:`loanservicing.ledger.portfolio.summarize`
(loans by status and delinquency bucket, outstanding principal, amounts collected, PAR30).
"""

from __future__ import annotations

from loanservicing.ledger.portfolio import PortfolioSummary
from loanservicing.ledger.portfolio import summarize as summarize_snapshots
from loanservicing.servicing.servicer import Servicer

__all__ = ["repayment_events", "summarize"]


def repayment_events(servicer: Servicer) -> list[dict[str, int]]:
    """Args of every RepaymentApplied since the deployment."""
    logs = servicer.ledger.events.RepaymentApplied().get_logs(from_block=servicer.deployment.block)
    return [
        {k: int(log["args"][k]) for k in ("loanId", "fees", "penalty", "interest", "principal")}
        for log in logs
    ]


def summarize(servicer: Servicer) -> PortfolioSummary:
    """The summary of every loan of the deployment, as of the latest block."""
    return summarize_snapshots(
        servicer.loans(), repayment_events(servicer), servicer.token_decimals
    )
