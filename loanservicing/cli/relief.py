"""Relief for a borrower: the ``loan holiday`` group (``propose`` and ``withdraw`` by the
servicer, ``show``, ``accept`` by the borrower) and ``loan forbear`` (the servicer pauses the
delinquency clock on dates in the loan's UTC offset); attached to the ``loan`` group in
:mod:`loanservicing.cli`."""

from __future__ import annotations

import datetime as dt

import click
from rich.console import Console

from loanservicing.amounts import InvalidInput, iso_date
from loanservicing.cli.app import state_of
from loanservicing.cli.loans import checked_loan_id, forbearance_document, tx_document
from loanservicing.cli.options import account_option, json_option
from loanservicing.cli.output import dated, emit
from loanservicing.cli.proposals import emit_proposal, emit_withdrawal
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.servicer import HolidayProposal

__all__ = ["loan_forbear", "loan_holiday"]


def _skipped(p: HolidayProposal) -> str:
    last = p.from_installment + p.count - 1
    if p.count == 1:
        return f"installment {p.from_installment} skipped"
    return f"installments {p.from_installment} to {last} skipped"


def _holiday_text(p: HolidayProposal) -> str:
    return f"{_skipped(p)}, to accept by {iso_date(p.deadline)}"


@click.group("holiday")
def loan_holiday() -> None:
    """Propose a payment holiday (servicer) and accept it (borrower)."""


@loan_holiday.command("propose")
@click.argument("loan_id", type=int)
@click.option(
    "--from",
    "from_installment",
    type=click.IntRange(1, 65_535),
    help="The first installment skipped (default: the next one to fall due).",
)
@click.option("--count", type=click.IntRange(1, 65_535), required=True)
@click.option(
    "--deadline-days",
    type=click.IntRange(1, 3_650),
    default=7,
    show_default=True,
    help="Days the borrower has to accept.",
)
@account_option
@json_option
@click.pass_context
def holiday_propose(
    ctx: click.Context,
    loan_id: int,
    from_installment: int | None,
    count: int,
    deadline_days: int,
) -> None:
    """Offer LOAN_ID's borrower COUNT installments off (the term grows by as many)."""
    state = state_of(ctx)
    servicer = state.servicer()
    loan_id = checked_loan_id(loan_id)
    now = servicer.now()
    if from_installment is None:
        from_installment = int(servicer.amount_due(loan_id, now)["nextInstallment"])
    deadline = now + deadline_days * DAY
    receipt = servicer.propose_holiday(loan_id, from_installment, count, deadline)
    proposal = HolidayProposal(loan_id, from_installment, count, deadline)
    document = {"loan_id": loan_id, **tx_document(receipt), "proposal": proposal.to_json()}
    emit(
        state,
        document,
        lambda c: c.print(
            f"Proposed a payment holiday for loan {loan_id}: {_holiday_text(proposal)}."
        ),
    )


@loan_holiday.command("show")
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def holiday_show(ctx: click.Context, loan_id: int) -> None:
    """The pending payment holiday proposal for LOAN_ID (the terms `accept` accepts)."""
    state = state_of(ctx)
    proposal = state.servicer(write=False).holiday_proposal(checked_loan_id(loan_id))
    emit_proposal(
        state,
        loan_id,
        proposal,
        lambda p: f"proposed a payment holiday, {_holiday_text(p)}",
        "no payment holiday proposal is pending",
    )


@loan_holiday.command("accept")
@click.argument("loan_id", type=int)
@account_option
@json_option
@click.pass_context
def holiday_accept(ctx: click.Context, loan_id: int) -> None:
    """Accept, as LOAN_ID's borrower, exactly the pending payment holiday proposal."""
    state = state_of(ctx)
    servicer = state.servicer()
    proposal, receipt = servicer.accept_holiday(checked_loan_id(loan_id))
    installments = int(servicer.loan_view(loan_id)["installments"])
    after = servicer.loan(loan_id)
    document = {
        "loan_id": loan_id,
        **tx_document(receipt),
        "accepted": proposal.to_json(),
        "installments": installments,
        "principal_outstanding": after.principal_outstanding,
        "next_installment": after.next_installment,
        **dated("next_due", after.next_due_timestamp),
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Loan {loan_id} has its payment holiday ({_skipped(proposal)}): "
            f"{installments} installments in all, next due "
            f"{iso_date(after.next_due_timestamp or 0)}."
        ),
    )


@loan_holiday.command("withdraw")
@click.argument("loan_id", type=int)
@account_option
@json_option
@click.pass_context
def holiday_withdraw(ctx: click.Context, loan_id: int) -> None:
    """Withdraw LOAN_ID's pending payment holiday proposal (servicer role)."""
    state = state_of(ctx)
    servicer = state.servicer()
    receipt = servicer.withdraw_holiday(checked_loan_id(loan_id))
    emit_withdrawal(state, loan_id, receipt, "payment holiday")


def _day_of(text: str, what: str) -> int:
    try:
        return cal.day_of_date(dt.date.fromisoformat(text.strip()))
    except ValueError:
        raise InvalidInput(
            f"The {what} {text!r} is not an ISO 8601 date such as 2027-01-31."
        ) from None


@click.command("forbear")
@click.argument("loan_id", type=int)
@click.option("--from", "from_date", help="The first paused date (in the loan's UTC offset).")
@click.option("--to", "to_date", help="The last paused date (in the loan's UTC offset).")
@click.option("--end", is_flag=True, help="End the running forbearance: yesterday is its last.")
@account_option
@json_option
@click.pass_context
def loan_forbear(
    ctx: click.Context, loan_id: int, from_date: str | None, to_date: str | None, end: bool
) -> None:
    """Pause LOAN_ID's delinquency clock from one date to another (servicer role).

    Name a running forbearance's first date again with a later --to to extend it; --end
    ends it early.
    """
    state = state_of(ctx)
    loan_id = checked_loan_id(loan_id)
    if end and from_date is None and to_date is None:
        servicer = state.servicer()
        receipt = servicer.end_forbearance(loan_id)
    elif not end and from_date is not None and to_date is not None:
        first, last = _day_of(from_date, "first date"), _day_of(to_date, "last date")
        servicer = state.servicer()
        receipt = servicer.forbear(loan_id, first, last)
    else:
        raise InvalidInput("Give either --from and --to, or --end alone.")
    window = servicer.forbearance(loan_id)
    document = {
        "loan_id": loan_id,
        **tx_document(receipt),
        "ended": end,
        **forbearance_document(window),
    }

    def render(c: Console) -> None:
        if window is None:
            c.print(f"Loan {loan_id} has no forbearance now (it ended before its first date).")
        elif end:
            c.print(
                f"Ended the forbearance of loan {loan_id}: its last paused date was "
                f"{cal.date_of_day(window[1]).isoformat()}."
            )
        else:
            c.print(
                f"Loan {loan_id}'s delinquency clock is paused from "
                f"{cal.date_of_day(window[0]).isoformat()} to "
                f"{cal.date_of_day(window[1]).isoformat()}."
            )

    emit(state, document, render)
