"""``credit show``: a borrower's credit record in the shared registry, in total and as each
reporting ledger reported it."""

from __future__ import annotations

from typing import Any

import click
from eth_typing import ChecksumAddress
from rich.console import Console

from loanservicing.amounts import money
from loanservicing.cli.app import state_of
from loanservicing.cli.options import ADDRESS, json_option
from loanservicing.cli.output import Column, emit, fitted_table
from loanservicing.ledger.credit import CREDIT_DECIMALS, CreditRecord
from loanservicing.ledger.credit_score import FACTORS
from loanservicing.servicing.servicer import Servicer

__all__ = ["credit", "credit_document"]


@click.group()
def credit() -> None:
    """Borrowers' credit records in the shared registry."""


def credit_document(servicer: Servicer, borrower: ChecksumAddress) -> dict[str, Any]:
    """The borrower's totals (as before), the registry's score with its parts, and each
    reporting ledger's figures."""
    return {
        **servicer.credit_record(borrower).to_json(),
        "credit_score": servicer.credit_score(borrower).to_json(),
        "reporters": [
            {"reporter": reporter, **_figures(record)}
            for reporter, record in servicer.reporter_records(borrower)
        ],
    }


def _figures(record: CreditRecord) -> dict[str, Any]:
    return {k: v for k, v in record.to_json().items() if k not in ("borrower", "decimals")}


_CREDIT_ROWS = (
    ("paid_on_time", "paid on time"),
    ("paid_late", "paid late"),
    ("missed", "missed"),
    ("days_past_due", "days past due (worst open loan)"),
    ("max_days_past_due", "max days past due"),
    ("defaults", "defaults"),
    ("forbearances", "forbearances"),
    ("loans_opened", "loans opened"),
    ("loans_closed", "loans closed"),
    ("total_repaid", "total repaid"),
)


@credit.command("show")
@click.argument("borrower", type=ADDRESS)
@json_option
@click.pass_context
def credit_show(ctx: click.Context, borrower: ChecksumAddress) -> None:
    """The credit record of BORROWER: the totals over every reporting ledger and each
    ledger's own figures (total repaid in the token's value; 18-decimal units in JSON)."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    document = credit_document(servicer, borrower)
    reporters = document["reporters"]

    symbol = servicer.token_symbol

    def cell(figures: dict[str, Any], key: str) -> str:
        value = int(figures[key])
        return money(value, CREDIT_DECIMALS, symbol) if key == "total_repaid" else str(value)

    def render(console: Console) -> None:
        columns = [
            Column("", kind="words", style="bold"),
            Column("total", "right"),
            *(Column(f"ledger {n}", "right", drop=1) for n in range(1, len(reporters) + 1)),
        ]
        rows = [
            [label, cell(document, key), *(cell(r, key) for r in reporters)]
            for key, label in _CREDIT_ROWS
        ]
        title = f"Credit record of {borrower}"
        console.print(fitted_table(title, columns, rows, console.width))
        for n, r in enumerate(reporters, 1):
            console.print(f"ledger {n}: {r['reporter']}")
        if not reporters:
            console.print("[dim]No ledger has reported about this borrower.[/dim]")
            return
        render_score(console, document["credit_score"])

    emit(state, document, render)


def render_score(console: Console, score: dict[str, Any]) -> None:
    """The score and its factors: points, what each measures and what would raise it."""
    parts = score["factors"]
    columns = [
        Column("factor", kind="words", style="bold"),
        Column("points", "right"),
        Column("what would raise it", kind="words", drop=1),
    ]
    rows = [
        [f.label, f"{'-' if f.deducted else '+'}{parts[f.name]} of {f.most}", f.to_raise]
        for f in FACTORS
    ]
    title = f"Credit score {score['score']} (300 to 850; 300 + the points added - those deducted)"
    console.print(fitted_table(title, columns, rows, console.width))
