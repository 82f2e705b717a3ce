"""Portfolio at risk for any threshold N (PAR30, PAR60, PAR90): the outstanding principal of
loans more than N days past due over the gross outstanding principal.

The standard definition, counted as :func:`loanservicing.ledger.portfolio.aging` counts PAR30
and PAR90: defaulted loans are at risk whatever their days past due; the gross outstanding
principal is that of active and defaulted loans; closed loans are left out. So
``principal_at_risk(s, 30) == aging(s).at_risk_30`` for any snapshots ``s``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from loanservicing.ledger.portfolio import at_risk_share
from loanservicing.ledger.state import LoanSnapshot, LoanStatus

__all__ = ["PAR_THRESHOLDS", "gross_outstanding", "portfolio_at_risk", "principal_at_risk"]

PAR_THRESHOLDS = (30, 60, 90)
"""The days past due of PAR30, PAR60 and PAR90."""

_ACTIVE, _DEFAULTED = LoanStatus.ACTIVE.label, LoanStatus.DEFAULTED.label


def principal_at_risk(snapshots: Iterable[LoanSnapshot], days: int) -> int:
    """Outstanding principal of active loans more than ``days`` days past due plus that of
    defaulted loans."""
    return sum(
        s.principal_outstanding
        for s in snapshots
        if s.status == _DEFAULTED or (s.status == _ACTIVE and s.days_past_due > days)
    )


def gross_outstanding(snapshots: Iterable[LoanSnapshot]) -> int:
    """Outstanding principal of active and defaulted loans."""
    return sum(s.principal_outstanding for s in snapshots if s.status in (_ACTIVE, _DEFAULTED))


def portfolio_at_risk(snapshots: Iterable[LoanSnapshot], days: int) -> Decimal:
    """PAR-``days`` as an exact fraction (0 when nothing is outstanding)."""
    loans = list(snapshots)
    return at_risk_share(principal_at_risk(loans, days), gross_outstanding(loans))
