"""The delinquency report over the event index: loans and outstanding principal per
days-past-due bucket at a chain time, defaulted loans, PAR30 and PAR90
(``loanservicing report delinquency``).

The loans are the index's snapshots (rebuilt from events); their days past due at ``now`` come
from the ledger twin, so no RPC call is made per loan.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loanservicing.amounts import iso_date
from loanservicing.errors import LoanServicingError
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.portfolio import (
    AGING_LABELS,
    aging,
    at_risk_share,
    at_risk_share_bps,
    share_json,
    snapshot_at,
)
from loanservicing.ledger.state import LoanStatus

__all__ = ["AgingReport", "AgingRow", "aging_report"]


@dataclass(frozen=True)
class AgingRow:
    bucket: str
    loans: int
    principal_outstanding: int


@dataclass(frozen=True)
class AgingReport:
    """Loans and outstanding principal per delinquency bucket at a chain time, and PAR."""

    chain_timestamp: int
    block: int
    decimals: int
    rows: list[AgingRow]
    at_risk_30: int
    at_risk_90: int
    principal_outstanding: int

    @property
    def par30(self) -> Decimal:
        return at_risk_share(self.at_risk_30, self.principal_outstanding)

    @property
    def par90(self) -> Decimal:
        return at_risk_share(self.at_risk_90, self.principal_outstanding)

    def as_dict(self) -> dict[str, Any]:
        def bps(part: int) -> int:
            return at_risk_share_bps(part, self.principal_outstanding)

        return {
            "chain_timestamp": self.chain_timestamp,
            "chain_date": iso_date(self.chain_timestamp),
            "block": self.block,
            "decimals": self.decimals,
            "buckets": [
                {
                    "bucket": r.bucket,
                    "loans": r.loans,
                    "principal_outstanding": r.principal_outstanding,
                }
                for r in self.rows
            ],
            "loans": sum(r.loans for r in self.rows),
            "principal_outstanding": self.principal_outstanding,
            "at_risk_30": self.at_risk_30,
            "at_risk_90": self.at_risk_90,
            "par30": share_json(self.par30),
            "par90": share_json(self.par90),
            "par30_bps": bps(self.at_risk_30),
            "par90_bps": bps(self.at_risk_90),
        }


def aging_report(db: IndexDB, now: int, block: int, token: str | None = None) -> AgingReport:
    """The aging table at chain time ``now`` from the index: active loans by days past due
    (current, 1-30, 31-60, 61-90, 90+) plus defaulted loans, with their outstanding principal.

    PAR30 (PAR90): outstanding principal of active loans more than 30 (90) days past due plus
    that of defaulted loans, over the outstanding principal of active and defaulted loans.
    Closed loans are left out. ``token`` limits the report to loans in that token.
    """
    decimals_of = db.token_decimals()
    snapshots = [
        snapshot_at(state, now, decimals_of.get(state.token, 0))
        for state in db.loans().values()
        if state.status is not LoanStatus.CLOSED
        and (token is None or state.token.lower() == token.lower())
    ]
    tokens = {s.token for s in snapshots}
    table = aging(snapshots)
    if len(tokens) > 1:
        raise LoanServicingError(
            f"The index holds loans in {len(tokens)} tokens; name one to add amounts up."
        )
    decimals = decimals_of.get(next(iter(tokens)), 0) if tokens else 0
    return AgingReport(
        chain_timestamp=now,
        block=block,
        decimals=decimals,
        rows=[
            AgingRow(label, table.loans[label], table.principal[label]) for label in AGING_LABELS
        ],
        at_risk_30=table.at_risk_30,
        at_risk_90=table.at_risk_90,
        principal_outstanding=table.principal_outstanding,
    )
