"""Paying a loan: ``repay`` (an amount from the signing account, allocated by the ledger) and
``payoff`` (the amount that closes a loan now or on a later date, and how it splits)."""

from __future__ import annotations

import click
from rich.console import Console

from loanservicing.amounts import InvalidInput, iso_date, money, parse_amount
from loanservicing.cli.app import state_of
from loanservicing.cli.loans import checked_loan_id, styled
from loanservicing.cli.options import account_option, json_option
from loanservicing.cli.origination import date_in_offset
from loanservicing.cli.output import dated, emit, key_value_table

__all__ = ["payoff", "repay"]


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("loan_id", type=int)
@click.argument("amount")
@click.option("--no-approve", is_flag=True, help="Fail instead of approving the ledger.")
@account_option
@json_option
@click.pass_context
def repay(ctx: click.Context, loan_id: int, amount: str, no_approve: bool) -> None:
    """Pay AMOUNT tokens (such as 1250.50) towards LOAN_ID from the signing account.

    The ledger allocates it to fees, penalty, interest and principal and pulls at most the
    payoff amount; the token is approved first when the allowance is short.
    """
    state = state_of(ctx)
    servicer = state.servicer().for_loan(checked_loan_id(loan_id))
    view = servicer.loan_view(loan_id)
    units = parse_amount(amount, int(view["decimals"]))
    result = servicer.repay(loan_id, units, approve=not no_approve)
    document = {
        "loan_id": loan_id,
        "tx_hash": result.tx_hash,
        "gas_used": result.gas_used,
        "decimals": result.decimals,
        "amount": result.total,
        "allocated": {
            "fees": result.fees,
            "penalty": result.penalty,
            "interest": result.interest,
            "principal": result.principal,
        },
        "principal_outstanding": result.principal_outstanding,
        "installments_paid": result.installments_paid,
        "status": result.status,
        "held_for_lender": result.held,
        "lender_claimable": result.lender_claimable,
    }
    d, symbol = result.decimals, servicer.token_symbol

    def render(console: Console) -> None:
        rows = [
            ("paid", money(result.total, d, symbol)),
            ("fees", money(result.fees, d, symbol)),
            ("penalty", money(result.penalty, d, symbol)),
            ("interest", money(result.interest, d, symbol)),
            ("principal", money(result.principal, d, symbol)),
            ("outstanding", money(result.principal_outstanding, d, symbol)),
            ("status", styled(result.status)),
            ("transaction", result.tx_hash),
        ]
        if result.held:
            rows.append(
                (
                    "held for the lender",
                    f"{money(result.held, d, symbol)}: the transfer to the lender failed, so "
                    f"the ledger holds it ({money(result.lender_claimable, d, symbol)} "
                    "claimable in all)",
                )
            )
        console.print(key_value_table(f"Repayment on loan {loan_id}", rows))

    emit(state, document, render)


@click.command()
@click.argument("loan_id", type=int)
@click.option(
    "--on",
    "on_date",
    help="Quote for a later date (2027-03-15, in the loan's UTC offset: good through the end "
    "of that date; or ISO 8601 UTC or unix seconds).",
)
@json_option
@click.pass_context
def payoff(ctx: click.Context, loan_id: int, on_date: str | None) -> None:
    """The amount that closes LOAN_ID now (or on a later date), and how it splits.

    The running period's interest counts to the day by the loan's day count: what was earned
    by the days from the period's start date to the date paid, less what was paid towards it;
    interest paid ahead of that is credited back.
    """
    state = state_of(ctx)
    servicer = state.servicer(write=False).for_loan(checked_loan_id(loan_id))
    at = None
    if on_date is not None:
        offset = int(servicer.loan_view(loan_id)["utcOffsetMinutes"])
        at = date_in_offset(on_date, offset, "payoff date")
        now = servicer.now()
        if at < now:
            raise InvalidInput(f"The payoff date {on_date} is in the past (the chain's now is "
                               f"{iso_date(now)}).")  # fmt: skip
    quote = servicer.payoff(checked_loan_id(loan_id), at)
    d, symbol = quote.decimals, servicer.token_symbol
    document = {
        "loan_id": loan_id,
        "amount": quote.amount,
        "decimals": d,
        "fees": quote.fees,
        "penalty": quote.penalty,
        "interest": quote.interest,
        "principal": quote.principal,
        "current_interest": quote.current_interest,
        "current_principal": quote.current_principal,
        "remaining_principal": quote.remaining_principal,
        "accrued_interest": quote.accrued_interest,
        "interest_rebate": quote.interest_rebate,
        **dated("as_of", quote.as_of_timestamp),
    }

    def render(console: Console) -> None:
        console.print(
            key_value_table(
                f"Payoff of loan {loan_id}: {servicer.show(quote.amount)}",
                [
                    ("late fees", money(quote.fees, d, symbol)),
                    ("penalty", money(quote.penalty, d, symbol)),
                    ("past-due interest", money(quote.interest, d, symbol)),
                    ("past-due principal", money(quote.principal, d, symbol)),
                    ("interest accrued to the day", money(quote.accrued_interest, d, symbol)),
                    ("interest paid ahead, credited", money(quote.interest_rebate, d, symbol)),
                    ("current principal", money(quote.current_principal, d, symbol)),
                    ("remaining principal", money(quote.remaining_principal, d, symbol)),
                    ("(current installment's interest)", money(quote.current_interest, d, symbol)),
                    ("as of", iso_date(quote.as_of_timestamp)),
                ],
            )
        )

    emit(state, document, render)
