"""A payoff quote for a chosen date from the indexed loan, by the loan's own convention: the
ledger twin's ``amountDue`` (:func:`loanservicing.ledger.accounting.amount_due`, the exact
arithmetic of the contract's view, interest to the day by the loan's day count) at the end of
that date in the loan's UTC offset, as ``payoff --on DATE`` quotes it from the chain."""

from __future__ import annotations

import datetime as dt

from loanservicing.amounts import money
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.state import LoanState, LoanStatus
from loanservicing.portal.errors import PayoffRefused
from loanservicing.portal.tables import Table

__all__ = ["payoff_table", "quote_time"]


def quote_time(state: LoanState, text: str, now: int) -> int:
    """The last second of date ``text`` (YYYY-MM-DD) in the loan's offset, not before
    ``now``."""
    try:
        date = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PayoffRefused(f"{text!r} is not a date such as 2027-03-15.") from None
    at = cal.day_end(cal.day_of_date(date), state.offset_seconds)
    if at < now:
        raise PayoffRefused("Choose today or a later date: a payoff is quoted for the future.")
    if state.status is LoanStatus.CLOSED:
        raise PayoffRefused(f"Loan {state.loan_id} is closed: there is nothing left to pay.")
    return at


def payoff_table(state: LoanState, at: int, decimals: int, symbol: str, date: str) -> Table:
    """What closes the loan at ``at`` and how it splits, a sentence per figure."""
    q = amount_due(state, at)

    def m(units: int) -> str:
        return money(units, decimals)

    rows = [
        ["to close the loan", m(q.payoff),
         f"The single payment that repays loan {state.loan_id} in full if it arrives by the "
         f"end of {date}."],
        ["late fees", m(q.fees), "Fees charged for installments paid after their grace period."],
        ["penalty", m(q.penalty), "Extra interest charged on overdue amounts."],
        ["overdue interest", m(q.interest), "Interest of installments already due, not paid."],
        ["overdue principal", m(q.principal),
         "The borrowed amount of installments already due, not paid."],
        ["interest to the day", m(q.accrued_interest),
         "Interest of the running period, counted only up to that date."],
        ["interest paid ahead", m(q.interest_rebate),
         "Interest you paid beyond that date, credited back (taken off the payoff)."],
        ["principal of the running installment", m(q.current_principal),
         "The borrowed amount of the installment now running."],
        ["principal still to come", m(q.remaining_principal),
         "The borrowed amount of the installments after it."],
    ]  # fmt: skip
    return Table(
        "payoff",
        f"Payoff quote for loan {state.loan_id} on {date}",
        ["figure", symbol, "what it means"],
        rows,
        numeric=frozenset({1}),
    )
