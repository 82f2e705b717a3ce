"""The portfolio summary of a deployment from the ledger's views: every loan's snapshot now
and every RepaymentApplied event, summed up by :func:`loanservicing.ledger.portfolio.summarize`
(loans by status and delinquency bucket, outstanding principal, amounts collected, PAR30);
and what the ledger holds for each lender whose repayments could not be transferred to it
(:func:`claimable_by_lender`).
"""

from __future__ import annotations

from web3 import Web3

from loanservicing.ledger.portfolio import PortfolioSummary
from loanservicing.ledger.portfolio import summarize as summarize_snapshots
from loanservicing.servicing.servicer import Servicer

__all__ = ["claimable_by_lender", "repayment_events", "summarize"]


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


def claimable_by_lender(servicer: Servicer) -> dict[str, int]:
    """What the ledger holds in the deployment's token for each lender of its loans, in the
    order the lenders first lent (``claimable``; zero for most)."""
    logs = servicer.ledger.events.LoanOriginated().get_logs(from_block=servicer.deployment.block)
    lenders = list(dict.fromkeys(Web3.to_checksum_address(log["args"]["lender"]) for log in logs))
    return {lender: servicer.claimable(lender) for lender in lenders}
