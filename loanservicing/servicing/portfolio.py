"""The portfolio summary of a deployment from the ledger's views: every loan's snapshot now
and every RepaymentApplied event, summed up by :func:`loanservicing.ledger.portfolio.summarize`
(loans by status and delinquency bucket, outstanding principal, amounts collected, PAR30);
and what the ledger holds for each lender whose repayments could not be transferred to it
(:func:`claimable_by_lender`).
"""

from __future__ import annotations

from collections import Counter

from web3 import Web3

from loanservicing.ledger.portfolio import PortfolioSummary
from loanservicing.ledger.portfolio import summarize as summarize_snapshots
from loanservicing.servicing.servicer import Servicer

__all__ = ["claimable_by_lender", "loans_in_other_tokens", "repayment_events", "summarize"]


def repayment_events(servicer: Servicer) -> list[dict[str, int]]:
    """Args of every RepaymentApplied since the deployment."""
    logs = servicer.ledger.events.RepaymentApplied().get_logs(from_block=servicer.deployment.block)
    return [
        {k: int(log["args"][k]) for k in ("loanId", "fees", "penalty", "interest", "principal")}
        for log in logs
    ]


def summarize(servicer: Servicer) -> PortfolioSummary:
    """The summary of every loan of the deployment in the servicer's token (amounts of
    different tokens are never added), as of the latest block."""
    token = servicer.token.address
    loans = [s for s in servicer.loans() if s.token == token]
    ids = {s.loan_id for s in loans}
    repayments = [r for r in repayment_events(servicer) if r["loanId"] in ids]
    return summarize_snapshots(loans, repayments, servicer.token_decimals)


def loans_in_other_tokens(servicer: Servicer) -> dict[str, int]:
    """How many loans each token other than the servicer's lends (``portfolio --token``)."""
    counts: Counter[str] = Counter(
        s.token for s in servicer.loans() if s.token != servicer.token.address
    )
    return dict(sorted(counts.items()))


def claimable_by_lender(servicer: Servicer) -> dict[str, int]:
    """What the ledger holds in the deployment's token for each lender of its loans, in the
    order the lenders first lent (``claimable``; zero for most)."""
    logs = servicer.ledger.events.LoanOriginated().get_logs(from_block=servicer.deployment.block)
    lenders = list(dict.fromkeys(Web3.to_checksum_address(log["args"]["lender"]) for log in logs))
    return {lender: servicer.claimable(lender) for lender in lenders}
