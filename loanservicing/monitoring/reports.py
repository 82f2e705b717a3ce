"""The delinquency report over the event index: loans and outstanding principal per
days-past-due bucket at a chain time, defaulted loans, PAR30 and PAR90
(``loanservicing report delinquency``).

The loans are the index's snapshots (rebuilt from events); their days past due at ``now`` come
from the ledger twin, so no RPC call is made per loan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loanservicing.amounts import iso_date
from loanservicing.errors import LoanServicingError
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.loan_state import LoanStatus, bucket_of, days_past_due
from loanservicing.servicing.portfolio import BUCKET_LABELS

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
    def par30(self) -> float:
        return self.at_risk_30 / self.principal_outstanding if self.principal_outstanding else 0.0

    @property
    def par90(self) -> float:
        return self.at_risk_90 / self.principal_outstanding if self.principal_outstanding else 0.0

    def as_dict(self) -> dict[str, Any]:
        def bps(part: int) -> int:
            return part * 10_000 // self.principal_outstanding if self.principal_outstanding else 0

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
            "par30": round(self.par30, 6),
            "par90": round(self.par90, 6),
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
    labels = (*BUCKET_LABELS, "defaulted")
    counts = dict.fromkeys(labels, 0)
    principal = dict.fromkeys(labels, 0)
    decimals_of = db.token_decimals()
    tokens: set[str] = set()
    at_risk_30 = at_risk_90 = 0
    for state in db.loans().values():
        if token is not None and state.token.lower() != token.lower():
            continue
        if state.status is LoanStatus.CLOSED:
            continue
        tokens.add(state.token)
        outstanding = state.principal_outstanding
        if state.status is LoanStatus.DEFAULTED:
            label = "defaulted"
            at_risk_30 += outstanding
            at_risk_90 += outstanding
        else:
            dpd = days_past_due(state, now)
            label = BUCKET_LABELS[bucket_of(dpd)]
            if dpd > 30:
                at_risk_30 += outstanding
            if dpd > 90:
                at_risk_90 += outstanding
        counts[label] += 1
        principal[label] += outstanding
    if len(tokens) > 1:
        raise LoanServicingError(
            f"The index holds loans in {len(tokens)} tokens; name one to add amounts up."
        )
    decimals = decimals_of.get(next(iter(tokens)), 0) if tokens else 0
    return AgingReport(
        chain_timestamp=now,
        block=block,
        decimals=decimals,
        rows=[AgingRow(label, counts[label], principal[label]) for label in labels],
        at_risk_30=at_risk_30,
        at_risk_90=at_risk_90,
        principal_outstanding=sum(principal.values()),
    )
