"""Restructuring: the servicer proposes new terms for the rest of a loan, the borrower accepts
exactly those, or the servicer withdraws them; the pending proposal is the ledger's view."""

from __future__ import annotations

from web3.types import TxReceipt

from loanservicing.chain.abi import SERVICER_ROLE
from loanservicing.servicing.binding import LedgerBinding
from loanservicing.servicing.errors import InvalidTerms, MissingRole
from loanservicing.servicing.records import RestructureProposal, require_grace_within_period

__all__ = ["RestructuringMixin"]


class RestructuringMixin(LedgerBinding):
    """Proposing, reading, accepting and withdrawing restructurings."""

    def restructure_proposal(self, loan_id: int) -> RestructureProposal | None:
        """The loan's pending restructuring proposal (the ledger's ``restructureProposal``
        view; None when none is pending: never made, withdrawn, accepted or dropped at
        default), with the servicer and block of the event that made it."""
        self.loan_view(loan_id)
        apr_bps, installments, period, deadline = self.ledger.functions.restructureProposal(
            loan_id
        ).call()
        if int(deadline) == 0:
            return None
        logs = self.ledger.events.RestructureProposed().get_logs(
            from_block=self.deployment.block, argument_filters={"loanId": loan_id}
        )
        last = max(logs, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
        return RestructureProposal(
            loan_id=loan_id,
            apr_bps=int(apr_bps),
            installments=int(installments),
            period_seconds=int(period),
            deadline=int(deadline),
            servicer=str(last["args"]["servicer"]),
            block=int(last["blockNumber"]),
        )

    def check_restructure(self, loan_id: int, period_seconds: int) -> None:
        """What :meth:`propose_restructure` checks before the ledger does: an active loan, the
        servicer role, and a new period no shorter than the loan's grace period."""
        v = self._open_loan(loan_id, allow_defaulted=False)
        self._require_role(SERVICER_ROLE, "propose restructurings")
        require_grace_within_period(
            int(v["gracePeriodSeconds"]), period_seconds, int(v["periodMonths"])
        )

    def propose_restructure(
        self, loan_id: int, apr_bps: int, installments: int, period_seconds: int, deadline: int
    ) -> TxReceipt:
        """Offer new terms for the rest of a loan; the borrower may accept until ``deadline``.

        The ledger checks the new schedule and the deadline; a refusal sends nothing (the
        transaction's gas is estimated first) and is raised as its decoded error.
        """
        self.check_restructure(loan_id, period_seconds)
        return self._send(
            self.ledger.functions.proposeRestructure(
                loan_id, apr_bps, installments, period_seconds, deadline
            ),
            f"Proposing a restructuring of loan {loan_id}",
        )

    def accept_restructure(
        self, loan_id: int, proposal: RestructureProposal | None = None
    ) -> tuple[RestructureProposal, TxReceipt]:
        """Accept exactly the terms of ``proposal`` (default: the latest proposal made) as the
        borrower; the ledger refuses terms that are not its pending proposal's
        (RestructureTermsMismatch). Returns the terms accepted and the receipt."""
        v = self._open_loan(loan_id, allow_defaulted=False)
        if v["borrower"] != self.account:
            raise MissingRole(
                f"Only the borrower {v['borrower']} may accept a restructuring of loan {loan_id}."
            )
        if proposal is None:
            proposal = self.restructure_proposal(loan_id)
            if proposal is None:
                raise InvalidTerms(f"Loan {loan_id} has no restructuring proposal to accept.")
        if proposal.loan_id != loan_id:
            raise InvalidTerms(
                f"The proposal named is for loan {proposal.loan_id}, not loan {loan_id}."
            )
        receipt = self._send(
            self.ledger.functions.acceptRestructure(
                loan_id,
                proposal.apr_bps,
                proposal.installments,
                proposal.period_seconds,
                proposal.deadline,
            ),
            f"Accepting the restructuring of loan {loan_id}",
        )
        return proposal, receipt

    def withdraw_restructure(self, loan_id: int) -> TxReceipt:
        """Withdraw the loan's pending restructuring proposal (servicer role)."""
        self.loan_view(loan_id)
        self._require_role(SERVICER_ROLE, "withdraw restructurings")
        return self._send(
            self.ledger.functions.withdrawRestructure(loan_id),
            f"Withdrawing the restructuring proposal of loan {loan_id}",
        )
