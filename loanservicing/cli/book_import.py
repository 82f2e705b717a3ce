"""``loan import BOOK.csv``: board an existing loan book.

One row per loan, a header naming the columns: ``borrower``, then either the terms in the
columns named like ``loan create``'s options (``principal`` — the principal outstanding —,
``apr``, ``installments`` — those remaining —, ``frequency`` or ``period``, ``first_due`` —
the next due date —, ``schedule``, ``day_count``, ``interest_only``, ``utc_offset``,
``rounding``, ``grace``, ``late_fee_bps``, ``penalty_apr``, ``default_after``, ``token``;
empty cells take the option's default) for a borrower whose key the node holds, or
``signed_terms``: the file its borrower wrote with ``loan sign-terms`` (relative to the
book's folder). Every row is checked first (:mod:`loanservicing.servicing.boarding`); one bad
row refuses the whole file, each reason by its line number. Then the loans are sent through
the bulk path with a progress bar.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import click
from eth_typing import ChecksumAddress
from rich.console import Console
from rich.progress import Progress
from web3 import Web3

from loanservicing.amounts import exact, money
from loanservicing.cli.app import state_of
from loanservicing.cli.options import account_option, json_option
from loanservicing.cli.origination import loan_terms, terms_options
from loanservicing.cli.output import Column, emit, fitted_table, stderr_console
from loanservicing.errors import LoanServicingError
from loanservicing.servicing.boarding import (
    Boarded,
    BoardingPlan,
    BookEntry,
    BookRefused,
    board,
    plan_boarding,
)
from loanservicing.servicing.borrower_signature import SignedTerms
from loanservicing.servicing.servicer import Servicer

__all__ = ["loan_import"]


def _terms_command() -> click.Command:
    """A command with ``loan create``'s terms options: it converts and checks a row's cells
    exactly as the options of ``loan create`` would, defaults included."""
    command = click.Command("row", callback=lambda **_: None)
    terms_options(command)
    return command


_ROW = _terms_command()
TERM_COLUMNS = tuple(reversed([str(p.name) for p in _ROW.params]))  # as loan create lists them
COLUMNS = ("borrower", "signed_terms", *TERM_COLUMNS)


@click.command("import")
@click.argument("book", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and sign nothing, send nothing.")
@click.option("--no-approve", is_flag=True, help="Fail instead of approving the principal.")
@account_option
@json_option
@click.pass_context
def loan_import(ctx: click.Context, book: Path, dry_run: bool, no_approve: bool) -> None:
    """Board the loans of BOOK (CSV, one row per loan) with the signing account as lender.

    Each row gives the borrower and either the terms (columns named like loan create's
    options: principal outstanding, apr, installments remaining, frequency or period,
    first_due as the next due date, ...) for a dev-account borrower, or signed_terms, the
    file the borrower wrote with `loan sign-terms`. Every row is checked first; a bad row
    refuses the whole file, nothing sent."""
    state = state_of(ctx)
    servicer = state.servicer()
    entries, reasons, rows = read_book(servicer, book)
    try:
        plan = plan_boarding(servicer, entries)
    except BookRefused as exc:
        reasons += exc.reasons
    if reasons:  # every bad row at once: those unreadable and those the ledger would refuse
        raise BookRefused(sorted(reasons, key=lambda r: (r[0] == 0, r[0])), rows)
    if dry_run:
        emit(state, _plan_document(servicer, plan), lambda c: _render_plan(c, servicer, plan))
        return
    with Progress(console=stderr_console(), transient=True) as bar:
        task = bar.add_task("Boarding", total=len(plan.loans))
        boarded = board(servicer, plan, lambda n: bar.advance(task, n), approve=not no_approve)
    document = {
        "count": len(boarded),
        "loans": [_boarded_json(servicer, b) for b in boarded],
        "principal_by_token": plan.principal_by_token,
    }
    emit(state, document, lambda c: _render_boarded(c, servicer, boarded))


def read_book(servicer: Servicer, path: Path) -> tuple[list[BookEntry], list[tuple[int, str]], int]:
    """The book's readable rows as entries, the reasons of those that are not (by line) and
    the number of rows; BookRefused for a file that is not a book at all."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            rows = [(reader.line_num, row) for row in reader]
    except OSError as exc:
        raise LoanServicingError(f"The book {path} cannot be read ({exc.strerror}).") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise LoanServicingError(f"The book {path} is not a CSV file ({exc}).") from None
    unknown = [h for h in header if h not in COLUMNS]
    if "borrower" not in header or unknown:
        problem = f"unknown columns {', '.join(unknown)}" if unknown else "no borrower column"
        raise BookRefused(
            [(1, f"The header has {problem}; the columns are {', '.join(COLUMNS)}.")], 0
        )
    if not rows:
        raise BookRefused([(1, "The book has a header but no loans.")], 0)
    entries: list[BookEntry] = []
    reasons: list[tuple[int, str]] = []
    for line, row in rows:
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            entries.append(_entry(servicer, path.parent, line, cells))
        except (LoanServicingError, click.ClickException) as exc:
            message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
            reasons.append((line, message))
    return entries, reasons, len(rows)


def _entry(servicer: Servicer, folder: Path, line: int, cells: dict[str, str]) -> BookEntry:
    if not Web3.is_address(cells.get("borrower", "")):
        raise LoanServicingError(f"The borrower {cells.get('borrower')!r} is not an address.")
    borrower = Web3.to_checksum_address(cells["borrower"])
    signed_file = cells.get("signed_terms", "")
    given = [c for c in TERM_COLUMNS if cells.get(c)]
    if signed_file:
        if given:
            raise LoanServicingError(
                f"The row names signed terms and also gives {', '.join(given)}: the signed "
                "file holds the terms; leave those cells empty."
            )
        signed = _signed(folder / signed_file)
        if signed.borrower != borrower:
            raise LoanServicingError(
                f"The signed terms {signed_file} are the borrower {signed.borrower}'s, not "
                f"{borrower}'s."
            )
        return BookEntry(line, signed.token, signed=signed)
    args = [a for c in given for a in (f"--{c.replace('_', '-')}", cells[c])]
    params = _ROW.make_context("row", args).params
    bound = servicer.with_token(params["token"]) if params.get("token") else servicer
    terms = loan_terms(bound, borrower, params)
    return BookEntry(line, bound.token.address, terms=terms)


def _signed(path: Path) -> SignedTerms:
    try:
        return SignedTerms.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoanServicingError(
            f"The signed-terms file {path} cannot be read ({exc.strerror})."
        ) from None


def _money(servicer: Servicer, token: ChecksumAddress, units: int) -> str:
    bound = servicer.with_token(token)
    return money(units, bound.token_decimals, bound.token_symbol)


def _plan_document(servicer: Servicer, plan: BoardingPlan) -> dict[str, Any]:
    return {
        "dry_run": True,
        "count": len(plan.loans),
        "loans": [
            {
                "row": p.row,
                "borrower": p.signed.borrower,
                "token": p.signed.token,
                "principal": p.signed.principal,
                "nonce": p.signed.nonce,
            }
            for p in plan.loans
        ],
        "principal_by_token": plan.principal_by_token,
    }


def _totals(servicer: Servicer, plan: BoardingPlan) -> str:
    return ", ".join(_money(servicer, t, total) for t, total in plan.principal_by_token.items())


def _render_plan(console: Console, servicer: Servicer, plan: BoardingPlan) -> None:
    console.print(
        f"All {len(plan.loans)} rows can be boarded, lending {_totals(servicer, plan)}; "
        "nothing was sent: drop --dry-run to board them."
    )


def _boarded_json(servicer: Servicer, b: Boarded) -> dict[str, Any]:
    decimals = servicer.with_token(b.token).token_decimals
    return {
        "row": b.row,
        "loan_id": b.loan_id,
        "borrower": b.borrower,
        "token": b.token,
        "principal": b.principal,
        "principal_text": exact(b.principal, decimals),
        "tx_hash": b.tx_hash,
    }


def _render_boarded(console: Console, servicer: Servicer, boarded: list[Boarded]) -> None:
    columns = [
        Column("row", "right"),
        Column("loan", "right"),
        Column("borrower", kind="id", drop=1),
        Column("principal", "right"),
    ]
    cells = [
        [
            str(b.row),
            str(b.loan_id),
            b.borrower,
            _money(servicer, b.token, b.principal),
        ]
        for b in boarded
    ]
    console.print(fitted_table(f"{len(boarded)} loans boarded", columns, cells, console.width))
