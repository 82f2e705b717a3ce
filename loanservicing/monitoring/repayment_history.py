"""Each loan's repayments as the index holds them: one per ``RepaymentApplied`` event, with its
split (fees, penalty, interest, principal), the balance after it and its transaction.

Read through :meth:`loanservicing.indexing.database.IndexDB.logs_of_loans`, so no RPC call is
made; the collections queue and the portal's loan pages read repayments from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loanservicing.indexing.database import IndexDB, LogRow
from loanservicing.ledger.state import LoanStatus

__all__ = ["Repayment", "repayments_of"]


@dataclass(frozen=True)
class Repayment:
    """One repayment; amounts in the loan token's smallest units."""

    loan_id: int
    payer: str
    timestamp: int
    block_number: int
    log_index: int
    tx_hash: str
    fees: int
    penalty: int
    interest: int
    principal: int
    principal_outstanding: int
    installments_paid: int
    status: str

    @property
    def amount(self) -> int:
        """Everything the repayment paid: fees, penalty, interest and principal."""
        return self.fees + self.penalty + self.interest + self.principal


def _repayment(log: LogRow) -> Repayment:
    a = log.args
    return Repayment(
        loan_id=int(a["loanId"]),
        payer=str(a["payer"]),
        timestamp=log.timestamp,
        block_number=log.block_number,
        log_index=log.log_index,
        tx_hash=log.tx_hash,
        fees=int(a["fees"]),
        penalty=int(a["penalty"]),
        interest=int(a["interest"]),
        principal=int(a["principal"]),
        principal_outstanding=int(a["principalOutstanding"]),
        installments_paid=int(a["installmentsPaid"]),
        status=LoanStatus(int(a["status"])).label,
    )


def repayments_of(db: IndexDB, loan_ids: Iterable[int]) -> dict[int, list[Repayment]]:
    """The repayments of each of ``loan_ids``, in chain order (an empty list for a loan
    never repaid)."""
    ids = sorted(set(loan_ids))
    found: dict[int, list[Repayment]] = {loan_id: [] for loan_id in ids}
    for log in db.logs_of_loans(ids):
        if log.event == "RepaymentApplied" and log.loan_id is not None:
            found[log.loan_id].append(_repayment(log))
    return found
