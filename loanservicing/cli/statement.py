"""``loan statement ID [--from DATE --to DATE] [--csv FILE]``: a loan's statement over a period
(opening balance, repayments with their split, charges assessed and servicing events, closing
balance, the next payment), from the ledger's events
(:func:`loanservicing.servicing.statement.loan_statement`). Attached to the ``loan`` group in
:mod:`loanservicing.cli`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from loanservicing.amounts import InvalidInput, exact, iso_date, money
from loanservicing.cli.app import state_of
from loanservicing.cli.csv_export import csv_option, write_csv
from loanservicing.cli.loans import checked_loan_id
from loanservicing.cli.options import json_option
from loanservicing.cli.origination import date_in_offset
from loanservicing.cli.output import Column, dated, emit, fitted_table, key_value_table
from loanservicing.ledger import calendar as cal
from loanservicing.servicing.statement import Balance, LoanStatement, StatementLine, loan_statement

__all__ = ["loan_statement_command", "statement_document"]

CSV_COLUMNS = (
    "date",
    "local_date",
    "kind",
    "description",
    "amount",
    "fees",
    "penalty",
    "interest",
    "principal",
    "principal_added",
    "principal_outstanding",
    "fees_owed",
    "penalty_owed",
    "held_for_lender",
    "payer",
    "tx_hash",
)


@click.command("statement")
@click.argument("loan_id", type=int)
@click.option(
    "--from",
    "from_date",
    help="First date of the period (2027-01-01, in the loan's UTC offset: from the start of "
    "that date; or ISO 8601 UTC or unix seconds). Default: the origination.",
)
@click.option(
    "--to",
    "to_date",
    help="Last date of the period (through the end of that date in the loan's offset). "
    "Default: now.",
)
@csv_option
@json_option
@click.pass_context
def loan_statement_command(
    ctx: click.Context,
    loan_id: int,
    from_date: str | None,
    to_date: str | None,
    csv_path: Path | None,
) -> None:
    """The statement of LOAN_ID over a period, from the ledger's events.

    The opening balance (principal outstanding, late fees and penalty owed at the start of the
    period), each repayment with its date, amount, split and transaction, the charges assessed
    and the holidays, restructurings, defaults and forbearance of the period, the closing
    balance, and the next payment. Closing principal = opening principal - principal repaid -
    interest credited to principal + principal added by holidays. Late charges count once a
    call assessed them (a repayment, `loan assess`, a default).
    """
    state = state_of(ctx)
    servicer = state.servicer(write=False).for_loan(checked_loan_id(loan_id))
    view = servicer.loan_view(loan_id)
    offset = int(view["utcOffsetMinutes"])
    start = _period_start(from_date, offset) if from_date is not None else None
    end = date_in_offset(to_date, offset, "--to date") if to_date is not None else None
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"The period ends ({to_date}) before it starts ({from_date}).")
    statement = loan_statement(servicer, loan_id, start, end)
    if csv_path is not None:
        write_csv(csv_path, CSV_COLUMNS, csv_rows(statement))
    symbol = servicer.token_symbol
    emit(state, statement_document(statement), lambda c: _render(c, statement, symbol))


def _period_start(text: str, offset_minutes: int) -> int:
    """A date alone is the first second of that date in the loan's offset; anything else as
    :func:`~loanservicing.amounts.parse_date`."""
    try:
        date = dt.date.fromisoformat(text.strip())
    except ValueError:
        return date_in_offset(text, offset_minutes, "--from date")
    return cal.day_end(cal.day_of_date(date) - 1, offset_minutes * 60) + 1


def _balance(b: Balance) -> dict[str, int]:
    return {"principal": b.principal, "fees": b.fees, "penalty": b.penalty}


def _line_document(line: StatementLine) -> dict[str, Any]:
    return {
        "kind": line.kind,
        **dated("at", line.timestamp),
        "description": line.description,
        "amount": line.amount,
        "fees": line.fees,
        "penalty": line.penalty,
        "interest": line.interest,
        "principal": line.principal,
        "principal_added": line.principal_added,
        "held_for_lender": line.held_for_lender,
        "payer": line.payer or None,
        "principal_outstanding": line.principal_outstanding,
        "fees_owed": line.fees_owed,
        "penalty_owed": line.penalty_owed,
        "tx_hash": line.tx_hash,
        "block_number": line.block_number,
        **dict(line.details),
    }


def statement_document(s: LoanStatement) -> dict[str, Any]:
    """The JSON of ``loan statement`` (amounts in the token's smallest units)."""
    return {
        "loan_id": s.loan_id,
        "borrower": s.borrower,
        "decimals": s.decimals,
        "status": s.status,
        "utc_offset": cal.format_utc_offset(s.utc_offset_minutes),
        **dated("period_from", s.period_from),
        **dated("period_to", s.period_to),
        "opening": _balance(s.opening),
        "lines": [_line_document(line) for line in s.lines],
        "totals": {
            "repaid": s.repaid,
            "fees_paid": s.fees_paid,
            "penalty_paid": s.penalty_paid,
            "interest_paid": s.interest_paid,
            "principal_repaid": s.principal_repaid,
            "fees_charged": s.fees_charged,
            "penalty_charged": s.penalty_charged,
            "interest_credited": s.interest_credited,
            "principal_added": s.principal_added,
        },
        "closing": _balance(s.closing),
        "next_payment": None
        if s.next_due_timestamp is None
        else {"amount": s.next_due_amount, **dated("due", s.next_due_timestamp)},
        **dated("as_of", s.as_of_timestamp),
    }


def csv_rows(s: LoanStatement) -> list[dict[str, Any]]:
    """The statement's CSV rows: the opening balance, one row per line item, the closing
    balance; amounts exact (:func:`exact`)."""
    d = s.decimals

    def local(t: int) -> str:
        return cal.date_of_day(cal.local_day(t, s.utc_offset_minutes * 60)).isoformat()

    def balance_row(kind: str, t: int, b: Balance, what: str) -> dict[str, Any]:
        return {
            "date": iso_date(t),
            "local_date": local(t),
            "kind": kind,
            "description": what,
            "principal_outstanding": exact(b.principal, d),
            "fees_owed": exact(b.fees, d),
            "penalty_owed": exact(b.penalty, d),
        }

    rows = [balance_row("opening", s.period_from, s.opening, "Opening balance")]
    for line in s.lines:
        rows.append(
            {
                "date": iso_date(line.timestamp),
                "local_date": local(line.timestamp),
                "kind": line.kind,
                "description": line.description,
                **{
                    k: exact(getattr(line, k), d)
                    for k in ("amount", "fees", "penalty", "interest", "principal")
                },
                "principal_added": exact(line.principal_added, d) if line.principal_added else None,
                "principal_outstanding": exact(line.principal_outstanding, d),
                "fees_owed": exact(line.fees_owed, d),
                "penalty_owed": exact(line.penalty_owed, d),
                "held_for_lender": exact(line.held_for_lender, d) if line.held_for_lender else None,
                "payer": line.payer or None,
                "tx_hash": line.tx_hash,
            }
        )
    rows.append(balance_row("closing", s.period_to, s.closing, "Closing balance"))
    return rows


def _render(console: Console, s: LoanStatement, symbol: str) -> None:
    d = s.decimals
    offset = s.utc_offset_minutes * 60

    def local(t: int) -> str:
        return cal.date_of_day(cal.local_day(t, offset)).isoformat()

    def amount(units: int | None) -> str:
        return money(units, d, symbol)

    utc = f"UTC{cal.format_utc_offset(s.utc_offset_minutes)}"
    console.print(
        key_value_table(
            f"Statement of loan {s.loan_id}, {local(s.period_from)} to {local(s.period_to)} "
            f"({utc})",
            [
                ("borrower", s.borrower),
                ("status", s.status),
                ("opening principal", amount(s.opening.principal)),
                ("opening fees owed", amount(s.opening.fees)),
                ("opening penalty owed", amount(s.opening.penalty)),
            ],
        )
    )
    columns = [
        Column("date"),
        Column("item", kind="words"),
        Column(f"amount\n{symbol}", "right"),
        Column(f"principal\noutstanding\n{symbol}", "right"),
        Column("transaction", drop=1),
    ]
    cells = [
        [
            local(line.timestamp),
            _item_text(line, d),
            money(line.amount, d),
            money(line.principal_outstanding, d),
            f"{line.tx_hash[:8]}…{line.tx_hash[-4:]}",
        ]
        for line in s.lines
    ]
    if cells:
        console.print(fitted_table("In the period", columns, cells, console.width))
    else:
        console.print("Nothing happened on the loan in the period.")
    next_payment = (
        f"{amount(s.next_due_amount)} by {iso_date(s.next_due_timestamp)}"
        if s.next_due_timestamp is not None
        else "none"
    )
    rows = [
        ("repaid", amount(s.repaid)),
        ("  fees", amount(s.fees_paid)),
        ("  penalty", amount(s.penalty_paid)),
        ("  interest", amount(s.interest_paid)),
        ("  principal", amount(s.principal_repaid)),
        ("charged", amount(s.fees_charged + s.penalty_charged)),
    ]
    if s.interest_credited:
        rows.append(("interest credited to principal", amount(s.interest_credited)))
    if s.principal_added:
        rows.append(("principal added (holidays)", amount(s.principal_added)))
    rows += [
        ("closing principal", amount(s.closing.principal)),
        ("closing fees owed", amount(s.closing.fees)),
        ("closing penalty owed", amount(s.closing.penalty)),
        ("next payment", next_payment),
    ]
    console.print(key_value_table("Closing balance", rows))
    if s.lines:
        console.print("Transactions in full: --json or --csv.", style="dim")


def _item_text(line: StatementLine, d: int) -> str:
    """A line item in words, with its split: what a repayment paid towards, what a charge
    was, what a holiday capitalised."""
    if line.kind == "repayment":
        parts = [
            f"{money(getattr(line, k), d)} {k}"
            for k in ("fees", "penalty", "interest", "principal")
            if getattr(line, k)
        ]
        text = f"Repayment: {', '.join(parts) or 'nothing allocated'}"
        if line.held_for_lender:
            text += f" ({money(line.held_for_lender, d)} held for the lender)"
        return text
    if line.kind == "charges":
        parts = [f"late fee {money(line.fees, d)}"] if line.fees else []
        if line.penalty:
            parts.append(f"penalty interest {money(line.penalty, d)}")
        text = ", ".join(parts) or "nothing charged"
        return f"{text[0].upper()}{text[1:]} ({line.description})"
    if line.kind == "holiday":
        text = f"{line.description}, {money(line.amount, d)} interest capitalised"
        if line.principal_added != line.amount:
            text += f" (principal {money(line.principal_added, d)} net of interest paid ahead)"
        return text
    if line.kind == "restructuring" and line.principal_added:
        return f"{line.description}; principal {money(line.principal_added, d)}"
    return line.description
