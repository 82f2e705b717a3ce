"""The ``loan restructure`` group: ``propose`` (servicer), ``show``, ``accept`` (borrower) and
``withdraw`` (servicer); attached to the ``loan`` group in :mod:`loanservicing.cli`."""

from __future__ import annotations

import click

from loanservicing.amounts import (
    InvalidInput,
    iso_date,
    parse_date,
    parse_percent_bps,
    rate,
)
from loanservicing.cli.app import state_of
from loanservicing.cli.loans import checked_loan_id, loan_document, tx_document
from loanservicing.cli.options import DURATION, account_option, json_option
from loanservicing.cli.output import dated, emit
from loanservicing.cli.proposals import emit_proposal, emit_withdrawal
from loanservicing.cli.restructure_preview import emit_preview
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.restructure_preview import preview_restructure
from loanservicing.servicing.servicer import RestructureProposal

__all__ = ["loan_restructure"]


@click.group("restructure")
def loan_restructure() -> None:
    """Propose new terms (servicer) and accept them (borrower)."""


@loan_restructure.command("propose")
@click.argument("loan_id", type=int)
@click.option("--apr", required=True, help="New yearly rate in percent.")
@click.option("--installments", type=click.IntRange(1, 480), required=True)
@click.option(
    "--period",
    type=DURATION,
    help="New period in whole days (30d); a loan due in calendar months keeps its months "
    "(leave it out).",
)
@click.option("--valid-for", type=DURATION, default="7d", show_default=True)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the new schedule beside the installments left now; send nothing.",
)
@account_option
@json_option
@click.pass_context
def restructure_propose(
    ctx: click.Context,
    loan_id: int,
    apr: str,
    installments: int,
    period: int | None,
    valid_for: int,
    dry_run: bool,
) -> None:
    """Offer LOAN_ID's borrower new terms for the rest of the loan (--dry-run: preview)."""
    state = state_of(ctx)
    apr_bps = parse_percent_bps(apr, "interest rate")
    servicer = state.servicer().for_loan(checked_loan_id(loan_id))
    months = int(servicer.loan_view(checked_loan_id(loan_id))["periodMonths"])
    if months and period is not None:
        raise InvalidInput(
            f"Loan {loan_id} is due every {months} calendar month(s) and keeps that frequency: "
            "leave --period out."
        )
    if not months and period is None:
        raise InvalidInput("Give the new period, such as --period 30d.")
    period = period or 0
    deadline = servicer.now() + valid_for
    if dry_run:
        preview = preview_restructure(servicer, loan_id, apr_bps, installments, period, deadline)
        emit_preview(state, preview, servicer.token_symbol)
        return
    receipt = servicer.propose_restructure(
        checked_loan_id(loan_id), apr_bps, installments, period, deadline
    )
    document = {
        "loan_id": loan_id,
        **tx_document(receipt),
        "apr_bps": apr_bps,
        "installments": installments,
        "period_seconds": period,
        **dated("deadline", deadline),
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Proposed {installments} installments at {rate(apr_bps)} "
            f"for loan {loan_id}; "
            f"the borrower may accept until {iso_date(deadline)}."
        ),
    )


def _proposal_text(p: RestructureProposal) -> str:
    every = f"{p.period_seconds // DAY:g} days" if p.period_seconds else "the loan's months"
    return (
        f"{p.installments} installments of {every} at "
        f"{rate(p.apr_bps)}, to accept by {iso_date(p.deadline)}"
    )


@loan_restructure.command("show")
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def restructure_show(ctx: click.Context, loan_id: int) -> None:
    """The pending restructuring proposal for LOAN_ID (the terms `accept` accepts)."""
    state = state_of(ctx)
    proposal = state.servicer(write=False).restructure_proposal(checked_loan_id(loan_id))
    emit_proposal(
        state,
        loan_id,
        proposal,
        lambda p: f"proposed {_proposal_text(p)}",
        "no proposal was made",
    )


@loan_restructure.command("accept")
@click.argument("loan_id", type=int)
@click.option("--apr", help="The proposal's rate in percent, as you saw it (default: the latest).")
@click.option("--installments", type=click.IntRange(1, 65_535))
@click.option("--period", type=DURATION)
@click.option("--deadline", help="The proposal's deadline (ISO 8601 UTC or unix seconds).")
@account_option
@json_option
@click.pass_context
def restructure_accept(
    ctx: click.Context,
    loan_id: int,
    apr: str | None,
    installments: int | None,
    period: int | None,
    deadline: str | None,
) -> None:
    """Accept, as LOAN_ID's borrower, exactly the terms of its latest proposal.

    The terms accepted are shown; name them with --apr, --installments, --period and
    --deadline to accept only those (the ledger refuses terms that are not its pending
    proposal's).
    """
    state = state_of(ctx)
    named = (apr, installments, period, deadline)
    proposal: RestructureProposal | None = None
    if any(v is not None for v in named):
        if apr is None or installments is None or period is None or deadline is None:
            raise InvalidInput(
                "Name all of the proposal's terms (--apr, --installments, --period and "
                "--deadline), or none to accept the latest proposal."
            )
        proposal = RestructureProposal(
            loan_id=loan_id,
            apr_bps=parse_percent_bps(apr, "interest rate"),
            installments=installments,
            period_seconds=period,
            deadline=parse_date(deadline, "deadline"),
            servicer="",
            block=0,
        )
    servicer = state.servicer()
    proposal, receipt = servicer.accept_restructure(checked_loan_id(loan_id), proposal)
    after = servicer.loan(loan_id)
    document = {
        "loan_id": loan_id,
        **tx_document(receipt),
        "accepted": proposal.to_json(),
        **loan_document(after),
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Loan {loan_id} restructured as proposed ({_proposal_text(proposal)}): "
            f"{after.installments_total - after.base_index} installments from now, next due "
            f"{iso_date(after.next_due_timestamp or 0)}."
        ),
    )


@loan_restructure.command("withdraw")
@click.argument("loan_id", type=int)
@account_option
@json_option
@click.pass_context
def restructure_withdraw(ctx: click.Context, loan_id: int) -> None:
    """Withdraw LOAN_ID's pending restructuring proposal (servicer role)."""
    state = state_of(ctx)
    servicer = state.servicer()
    receipt = servicer.withdraw_restructure(checked_loan_id(loan_id))
    emit_withdrawal(state, loan_id, receipt, "restructuring")
