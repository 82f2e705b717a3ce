"""``portfolio``: the summary of every loan in one token and the repayments held for
lenders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from eth_typing import ChecksumAddress
from rich.console import Console

from loanservicing.amounts import exact, share
from loanservicing.cli.app import state_of
from loanservicing.cli.csv_export import csv_option, write_csv
from loanservicing.cli.options import ADDRESS, json_option
from loanservicing.cli.output import Column, emit, fitted_table, render_summary
from loanservicing.ledger.portfolio import PortfolioSummary
from loanservicing.servicing.portfolio import (
    claimable_by_lender,
    loans_in_other_tokens,
    summarize,
)

__all__ = ["portfolio"]

CSV_COLUMNS = ("figure", "value")


@click.command()
@click.option(
    "--token", type=ADDRESS, help="Summarise the loans in this token (default: the deployment's)."
)
@csv_option
@json_option
@click.pass_context
def portfolio(ctx: click.Context, token: ChecksumAddress | None, csv_path: Path | None) -> None:
    """Summary of every loan in one token: status, delinquency buckets, outstanding,
    collected, PAR30, and the repayments the ledger holds for lenders whose transfers failed."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    if token is not None:
        servicer = servicer.with_token(token)
    summary = summarize(servicer)
    held = claimable_by_lender(servicer)
    others = loans_in_other_tokens(servicer)
    document = {
        "token": servicer.token.address,
        "symbol": servicer.token_symbol,
        **summary.to_json(),
        "claimable_by_lender": held,
        "loans_in_other_tokens": others,
    }
    if csv_path is not None:
        write_csv(csv_path, CSV_COLUMNS, csv_rows(summary))

    def render(console: Console) -> None:
        render_summary(summary, console, servicer.token_symbol)
        if any(held.values()):
            columns = [Column("lender", kind="id"), Column("claimable", "right")]
            cells = [[lender, servicer.show(amount)] for lender, amount in held.items() if amount]
            title = "Held repayments the lenders may claim"
            console.print(fitted_table(title, columns, cells, console.width))
        for other, count in others.items():
            loans = "1 loan" if count == 1 else f"{count} loans"
            console.print(f"Not counted: {loans} in token {other} (portfolio --token {other}).")

    emit(state, document, render)


def csv_rows(s: PortfolioSummary) -> list[dict[str, Any]]:
    """The summary as ``figure,value`` rows: counts, exact amounts, PAR30 as a percentage."""
    d = s.decimals
    rows: list[tuple[str, Any]] = [("loans", s.loans)]
    rows += [(f"loans_{status}", n) for status, n in s.by_status.items()]
    rows += [(f"active_loans_{bucket}_days_past_due", n) for bucket, n in s.by_bucket.items()]
    rows += [
        ("principal_originated", exact(s.principal_originated, d)),
        ("principal_outstanding", exact(s.principal_outstanding, d)),
        ("principal_defaulted", exact(s.principal_defaulted, d)),
        ("collected", exact(s.collected, d)),
        ("collected_interest", exact(s.collected_interest, d)),
        ("collected_fees", exact(s.collected_fees, d)),
        ("at_risk_30", exact(s.at_risk_30, d)),
        ("par30", share(s.par30)),
    ]
    return [{"figure": f, "value": v} for f, v in rows]
