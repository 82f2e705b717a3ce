"""``portfolio``: the summary of every loan and the repayments held for lenders."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from loanservicing.cli.app import state_of
from loanservicing.cli.options import json_option
from loanservicing.cli.output import emit, render_summary
from loanservicing.servicing.portfolio import claimable_by_lender, summarize

__all__ = ["portfolio"]


@click.command()
@json_option
@click.pass_context
def portfolio(ctx: click.Context) -> None:
    """Summary of every loan: status, delinquency buckets, outstanding, collected, PAR30, and
    the repayments the ledger holds for lenders whose transfers failed."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    summary = summarize(servicer)
    held = claimable_by_lender(servicer)
    document = {**summary.to_json(), "claimable_by_lender": held}

    def render(console: Console) -> None:
        render_summary(summary, console, servicer.token_symbol)
        if any(held.values()):
            table = Table(title="Held repayments the lenders may claim", title_justify="left")
            table.add_column("lender")
            table.add_column("claimable", justify="right")
            for lender, amount in held.items():
                if amount:
                    table.add_row(lender, servicer.show(amount))
            console.print(table)

    emit(state, document, render)
