"""The demo servicer's week: it assesses the loans that are behind, declares in default those
past the threshold, restructures the loan whose borrower asked for it, grants the payment
holiday one borrower asked for and puts a borrower who fell behind in forbearance."""

from __future__ import annotations

from web3.logs import DISCARD

from loanservicing.amounts import iso_date, rate
from loanservicing.chain.node import chain_time
from loanservicing.demo.profiles import (
    DEFAULT_AFTER_DAYS,
    FORBEAR,
    FORBEARANCE_DAYS,
    HOLIDAY,
    HOLIDAY_INSTALLMENTS,
    RESTRUCTURE,
    DemoLoan,
)
from loanservicing.demo.run import DemoRun
from loanservicing.errors import LoanServicingError
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.servicer import Servicer

__all__ = ["ServicerWeek"]

ASSESS_GAS = 400_000


class ServicerWeek(DemoRun):
    """The servicer's weekly review and the actions it takes."""

    def _weekly_review(self, day: int) -> None:
        """Assess delinquent loans, default those past the threshold, restructure the loan
        that asked for it, relieve the borrowers that asked for relief."""
        ledger = self.servicer.ledger
        active = [loan for loan in self.loans if loan.status == "active"]
        late = []
        for loan in active:
            dpd = int(ledger.functions.daysPastDue(loan.loan_id).call())
            if dpd > 0:
                late.append((loan, dpd))
            elif loan.profile == HOLIDAY and not loan.relieved and day >= self.config.days // 4:
                self._holiday(loan, day)
        assessed = self._wait_all(
            [
                (
                    self.lender,
                    self.lender.submit(ledger.functions.assess(loan.loan_id), gas=ASSESS_GAS),
                )
                for loan, _ in late
            ]
        )
        self.counts["assessments"] += len(assessed)
        for loan, dpd in late:
            if loan.profile == RESTRUCTURE and not loan.restructured and dpd >= 20:
                self._restructure(loan, day)
            elif loan.profile == FORBEAR and not loan.relieved:
                self._forbear(loan, day, dpd)
            elif dpd >= DEFAULT_AFTER_DAYS:
                self.servicer.declare_default(loan.loan_id)
                self.transactions += 1
                loan.status = "defaulted"
                loan.next_day = None
                self.counts["defaults"] += 1
                self.reporter.event(
                    f"Loan {loan.loan_id} declared in default on day {day} at {dpd} days past due",
                    "bad",
                )

    def _restructure(self, loan: DemoLoan, day: int) -> None:
        view = self.servicer.loan_view(loan.loan_id)
        remaining = int(view["installments"]) - int(view["installmentsPaid"])
        apr = max(int(view["aprBps"]) - 300, 0)
        # The same frequency: a loan due in calendar months keeps them (period 0).
        period = 0 if int(view["periodMonths"]) else int(view["periodSeconds"])
        self.servicer.propose_restructure(
            loan.loan_id, apr, remaining + 6, period, chain_time(self.servicer.w3) + 7 * DAY
        )
        self._as_borrower(loan).accept_restructure(loan.loan_id)  # exactly the terms proposed
        self.transactions += 2
        loan.restructured = True
        self.counts["restructurings"] += 1
        self.reporter.event(
            f"Loan {loan.loan_id} restructured on day {day}: "
            f"{remaining + 6} installments at {rate(apr)}",
            "warning",
        )
        self._plan(loan, day)

    def _holiday(self, loan: DemoLoan, day: int) -> None:
        """The servicer offers the next two installments off; the borrower accepts exactly
        that. A loan paid ahead (or otherwise not current) asks again next week."""
        due = self.servicer.amount_due(loan.loan_id)
        view = self.servicer.loan_view(loan.loan_id)
        first = int(due["nextInstallment"])
        if bool(view["advancePending"]) or first + HOLIDAY_INSTALLMENTS > int(view["installments"]):
            return
        deadline = chain_time(self.servicer.w3) + 7 * DAY
        try:
            self.servicer.propose_holiday(loan.loan_id, first, HOLIDAY_INSTALLMENTS, deadline)
            self.transactions += 1
            _, receipt = self._as_borrower(loan).accept_holiday(loan.loan_id)  # those terms
        except LoanServicingError as exc:  # not current after all: next week
            self.reporter.event(f"Loan {loan.loan_id}: no payment holiday yet ({exc})")
            return
        self.transactions += 1
        loan.relieved = True
        self.counts["holidays"] += 1
        (granted,) = self.servicer.ledger.events.HolidayGranted().process_receipt(
            receipt, errors=DISCARD
        )
        capitalised = int(granted["args"]["capitalisedInterest"])
        last = first + HOLIDAY_INSTALLMENTS - 1
        after = self.servicer.loan(loan.loan_id)
        self.reporter.event(
            f"Loan {loan.loan_id}: payment holiday of {HOLIDAY_INSTALLMENTS} installments "
            f"granted on day {day} (installments {first} to {last} skipped, "
            f"{self.servicer.show(capitalised)} of their interest capitalised; the term "
            f"{HOLIDAY_INSTALLMENTS} installments longer), next due "
            f"{iso_date(after.next_due_timestamp or 0)[:10]}",
            "warning",
        )
        self._plan(loan, day)

    def _forbear(self, loan: DemoLoan, day: int, days_past_due: int) -> None:
        """The borrower fell behind: the servicer pauses its delinquency clock for 30 days
        from today; it pays what is past due the day after."""
        today = self.servicer.local_today(loan.loan_id)
        last = today + FORBEARANCE_DAYS - 1
        self.servicer.forbear(loan.loan_id, today, last)
        self.transactions += 1
        loan.relieved = True
        loan.resume_day = day + FORBEARANCE_DAYS
        self.counts["forbearances"] += 1
        self.reporter.event(
            f"Loan {loan.loan_id} in forbearance from {cal.date_of_day(today).isoformat()} to "
            f"{cal.date_of_day(last).isoformat()} (granted on day {day}, {days_past_due} days past "
            "due): its delinquency clock paused",
            "warning",
        )
        self._plan(loan, day)

    def _as_borrower(self, loan: DemoLoan) -> Servicer:
        borrower = self.servicer.as_account(loan.borrower.signer)
        borrower.sender = loan.borrower.sender
        return borrower
