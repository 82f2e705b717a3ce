"""The lender's portfolio page as tables: loans by status, the totals (outstanding,
collected), PAR30/PAR60/PAR90 and the aging table, all from the index at its chain time, over
the loans in one token (as ``portfolio`` adds up the deployment's token only).

The figures are the CLI's: :func:`loanservicing.ledger.portfolio.summarize` (``portfolio``),
:func:`loanservicing.ledger.portfolio.aging` (``report delinquency``'s table) and
:func:`loanservicing.ledger.at_risk.portfolio_at_risk` for PAR-N. A lender who is not
servicing staff sees the same tables over the loans it lends (``shown``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from loanservicing.amounts import money, share
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.at_risk import (
    PAR_THRESHOLDS,
    gross_outstanding,
    portfolio_at_risk,
    principal_at_risk,
)
from loanservicing.ledger.portfolio import AGING_LABELS, aging, snapshot_at, summarize
from loanservicing.ledger.state import LoanState
from loanservicing.portal.tables import Table

__all__ = ["other_token_loans", "portfolio_tables"]


def _in(token: str, address: str) -> bool:
    return token.lower() == address.lower()


def _every_loan(state: LoanState) -> bool:
    return True


def other_token_loans(
    db: IndexDB, token: str, shown: Callable[[LoanState], bool] = _every_loan
) -> int:
    """How many loans (of those ``shown``) lend another token than ``token`` (left out of
    its portfolio)."""
    return sum(1 for s in db.loans().values() if shown(s) and not _in(token, s.token))


def portfolio_tables(
    db: IndexDB,
    now: int,
    block: int,
    token: str,
    symbol: str,
    shown: Callable[[LoanState], bool] = _every_loan,
) -> dict[str, Table]:
    """The tables of the portfolio of loans in ``token`` (those ``shown``: every loan by
    default) by name (the name is also the CSV download's)."""
    decimals = db.token_decimals().get(token, 0)
    states = {i: s for i, s in db.loans().items() if _in(token, s.token) and shown(s)}
    snapshots = [snapshot_at(s, now, decimals) for s in states.values()]
    repayments = [
        {k: int(log.args[k]) for k in ("fees", "penalty", "interest", "principal")}
        for log in db.logs("RepaymentApplied")
        if log.loan_id in states
    ]
    summary = summarize(snapshots, repayments, decimals)
    by_bucket = aging(snapshots)

    def m(units: int) -> str:
        return money(units, decimals)

    status = Table(
        "status",
        "Loans by status",
        ["status", "loans"],
        [[label, str(count)] for label, count in summary.by_status.items()],
        numeric=frozenset({1}),
    )
    totals = Table(
        "totals",
        "Totals",
        ["figure", symbol],
        [
            ["principal originated", m(summary.principal_originated)],
            ["principal outstanding", m(summary.principal_outstanding)],
            ["of which defaulted", m(summary.principal_defaulted)],
            ["collected", m(summary.collected)],
            ["collected interest", m(summary.collected_interest)],
            ["collected fees and penalty", m(summary.collected_fees)],
        ],
        numeric=frozenset({1}),
    )
    gross = gross_outstanding(snapshots)
    at_risk = Table(
        "par",
        "Portfolio at risk",
        ["measure", f"principal at risk {symbol}", "share of outstanding"],
        [
            [
                f"PAR{days}",
                m(principal_at_risk(snapshots, days)),
                share(portfolio_at_risk(snapshots, days)),
            ]
            for days in PAR_THRESHOLDS
        ],
        numeric=frozenset({1, 2}),
    )
    rows = [
        [
            label,
            str(by_bucket.loans[label]),
            m(by_bucket.principal[label]),
            share(Decimal(by_bucket.principal[label]) / gross if gross else Decimal(0)),
        ]
        for label in AGING_LABELS
    ]
    aging_table = Table(
        "aging",
        "Aging by days past due",
        ["days past due", "loans", f"outstanding principal {symbol}", "share"],
        rows,
        numeric=frozenset({1, 2, 3}),
    )
    return {t.name: t for t in (status, totals, at_risk, aging_table)}
