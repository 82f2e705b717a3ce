"""How the demo's borrowers pay: each plans its next payment from its loan's next unpaid
installment (as the ledger's view has it, so a holiday or a restructuring moves it) and its
behaviour profile, then pays what is due, part of it, or the payoff."""

from __future__ import annotations

from loanservicing.demo.profiles import (
    FORBEAR,
    HOLIDAY,
    LATE,
    LATE_IN_GRACE,
    ON_TIME,
    PARTIAL,
    PAYOFF,
    RESTRUCTURE,
    STOPPER,
    UNIT,
    DemoLoan,
)
from loanservicing.demo.run import DemoRun
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanState

__all__ = ["BorrowerRepayments"]

REPAY_GAS = 700_000


class BorrowerRepayments(DemoRun):
    """The borrowers' payments: planned per loan, sent together on the day."""

    def _pay(self, loans: list[DemoLoan], day: int) -> None:
        submitted = []
        paying = []
        for loan in loans:
            amount = self._amount(loan, day)
            if amount <= 0:
                self._plan(loan, day)
                continue
            fn = self.servicer.ledger.functions.repay(loan.loan_id, amount)
            submitted.append((loan.borrower.sender, loan.borrower.sender.submit(fn, gas=REPAY_GAS)))
            paying.append(loan)
        receipts = self._wait_all(submitted)
        for loan, receipt in zip(paying, receipts, strict=True):
            result = self.servicer.repayment_from_receipt(loan.loan_id, receipt, 6)
            loan.payments += 1
            self.counts["repayments"] += 1
            if result.held:
                self.counts["held_repayments"] += 1
            if result.fees or result.penalty:
                self.counts["late_payments"] += 1
            if loan.profile == PARTIAL and loan.payments % 3:
                self.counts["partial_payments"] += 1
            if result.status == "closed":
                loan.status = "closed"
                self.counts["closed"] += 1
                if loan.profile == PAYOFF:
                    self.counts["payoffs"] += 1
                    self.reporter.event(
                        f"Loan {loan.loan_id} paid off early on day {day} "
                        f"({self.servicer.show(result.total)})",
                        "good",
                    )
                else:
                    self.reporter.event(f"Loan {loan.loan_id} repaid in full on day {day}")
            self._plan(loan, day)

    def _amount(self, loan: DemoLoan, day: int) -> int:
        if loan.profile == PAYOFF and day >= self.config.days * 45 // 100:
            payoff = int(self.servicer.ledger.functions.payoffAmount(loan.loan_id).call())
            return payoff + UNIT  # the ledger takes at most the payoff
        due = self.servicer.amount_due(loan.loan_id)
        owed = due["pastDue"] or due["pastDue"] + due["currentInterest"] + due["currentPrincipal"]
        if loan.profile == PARTIAL and (loan.payments + 1) % 3:
            return owed * self.rng.randint(40, 80) // 100
        return owed

    def _plan(self, loan: DemoLoan, day: int) -> None:
        """Choose the day of the loan's next payment from its next unpaid installment."""
        view = self.servicer.loan_view(loan.loan_id)
        if int(view["status"]) != 0:
            loan.next_day = None
            return
        paid, total = int(view["installmentsPaid"]), int(view["installments"])
        stopped = loan.profile in (STOPPER, RESTRUCTURE, FORBEAR) and not (
            loan.restructured or loan.relieved
        )
        if paid >= total or (stopped and loan.payments >= loan.stop_after):
            loan.next_day = None
            return
        due = LoanState.from_view(loan.loan_id, view).due_date(paid + 1)
        due_day = (due - self.start) // DAY
        offset = {
            ON_TIME: self.rng.choice([-2, -1, 0, 0, 0]),
            PAYOFF: 0,
            STOPPER: 0,
            RESTRUCTURE: 0,
            LATE_IN_GRACE: self.rng.randint(1, 4),
            LATE: self.rng.randint(8, 25),
            PARTIAL: self.rng.choice([0, 1, 3]),
            HOLIDAY: 0,
            FORBEAR: 0,
        }[loan.profile]
        next_day = max(due_day + offset, loan.resume_day)
        if loan.profile == PAYOFF:
            next_day = min(next_day, max(day + 1, self.config.days * 45 // 100))
        if next_day <= day:
            next_day = day + (self.rng.randint(5, 12) if loan.profile == PARTIAL else 1)
        loan.next_day = next_day
