"""Relief: payment holidays (the servicer proposes skipping installments, the borrower accepts
exactly those, or the servicer withdraws them) and forbearance (the servicer pauses a loan's
delinquency clock on a window of dates in the loan's UTC offset)."""

from __future__ import annotations

from web3.types import TxReceipt

from loanservicing.chain.abi import SERVICER_ROLE
from loanservicing.chain.transactions import call
from loanservicing.ledger import calendar as cal
from loanservicing.servicing.binding import LedgerBinding
from loanservicing.servicing.errors import InvalidTerms, MissingRole
from loanservicing.servicing.records import HolidayGrant, HolidayProposal

__all__ = ["ReliefMixin"]


class ReliefMixin(LedgerBinding):
    """Proposing, reading, accepting and withdrawing payment holidays; forbearance."""

    def holiday_proposal(self, loan_id: int) -> HolidayProposal | None:
        """The loan's pending payment holiday proposal (the ledger's ``holidayProposal`` view;
        None when none is pending)."""
        self.loan_view(loan_id)
        first, count, deadline = call(self.ledger.functions.holidayProposal(loan_id), self.decoder)
        if int(deadline) == 0:
            return None
        return HolidayProposal(loan_id, int(first), int(count), int(deadline))

    def holiday_grants(self, loan_id: int) -> list[HolidayGrant]:
        """Every payment holiday the loan's borrower accepted, oldest first (its HolidayGranted
        events since the deployment's block)."""
        logs = self.ledger.events.HolidayGranted().get_logs(
            from_block=self.deployment.block, argument_filters={"loanId": loan_id}
        )
        return [
            HolidayGrant(
                loan_id,
                int(log["args"]["fromInstallment"]),
                int(log["args"]["count"]),
                int(log["args"]["capitalisedInterest"]),
                int(log["args"]["principalOutstanding"]),
                int(log["blockNumber"]),
                log["transactionHash"].to_0x_hex(),
            )
            for log in logs
        ]

    def propose_holiday(
        self, loan_id: int, from_installment: int, count: int, deadline: int
    ) -> TxReceipt:
        """Offer to skip ``count`` installments from ``from_installment``; the borrower may
        accept until ``deadline``. A refusal sends nothing and is raised in lender's words."""
        self._open_loan(loan_id, allow_defaulted=False)
        self._require_role(SERVICER_ROLE, "propose payment holidays")
        return self._send(
            self.ledger.functions.proposeHoliday(loan_id, from_installment, count, deadline),
            f"Proposing a payment holiday for loan {loan_id}",
        )

    def accept_holiday(self, loan_id: int) -> tuple[HolidayProposal, TxReceipt]:
        """Accept, as the borrower, exactly the pending proposal's terms; returns them and the
        receipt."""
        v = self._open_loan(loan_id, allow_defaulted=False)
        if v["borrower"] != self.account:
            raise MissingRole(
                f"Only the borrower {v['borrower']} may accept a payment holiday of loan {loan_id}."
            )
        proposal = self.holiday_proposal(loan_id)
        if proposal is None:
            raise InvalidTerms(f"Loan {loan_id} has no payment holiday proposal to accept.")
        receipt = self._send(
            self.ledger.functions.acceptHoliday(
                loan_id, proposal.from_installment, proposal.count, proposal.deadline
            ),
            f"Accepting the payment holiday of loan {loan_id}",
        )
        return proposal, receipt

    def withdraw_holiday(self, loan_id: int) -> TxReceipt:
        """Withdraw the loan's pending payment holiday proposal (servicer role)."""
        self.loan_view(loan_id)
        self._require_role(SERVICER_ROLE, "withdraw payment holidays")
        return self._send(
            self.ledger.functions.withdrawHoliday(loan_id),
            f"Withdrawing the payment holiday proposal of loan {loan_id}",
        )

    def local_today(self, loan_id: int) -> int:
        """Today's day number (days since 1970-01-01) in the loan's UTC offset."""
        offset_minutes = int(self.loan_view(loan_id)["utcOffsetMinutes"])
        return cal.local_day(self.now(), offset_minutes * 60)

    def forbearance(self, loan_id: int) -> tuple[int, int] | None:
        """The loan's forbearance window as day numbers (first, last); None when none is set."""
        v = self.loan_view(loan_id)
        first, last = int(v["forbearanceFrom"]), int(v["forbearanceTo"])
        return None if first == 0 and last == 0 else (first, last)

    def forbear(self, loan_id: int, from_day: int, to_day: int) -> TxReceipt:
        """Pause the loan's delinquency clock on the dates ``from_day .. to_day`` (servicer
        role); naming a running window's first date again extends it or, with yesterday as
        its last date, ends it early."""
        self._open_loan(loan_id, allow_defaulted=False)
        self._require_role(SERVICER_ROLE, "grant forbearance")
        return self._send(
            self.ledger.functions.forbear(loan_id, from_day, to_day),
            f"Setting the forbearance of loan {loan_id}",
        )

    def end_forbearance(self, loan_id: int) -> TxReceipt:
        """End the loan's running forbearance early: its last paused date becomes yesterday."""
        window = self.forbearance(loan_id)
        today = self.local_today(loan_id)
        if window is None or not window[0] <= today <= window[1]:
            raise InvalidTerms(f"Loan {loan_id} has no running forbearance to end.")
        return self.forbear(loan_id, window[0], today - 1)
