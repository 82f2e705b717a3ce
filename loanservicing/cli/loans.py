"""The ``loan`` group and its core commands: ``loan show|schedule|list|default|assess``
(``loan create`` is :mod:`loanservicing.cli.origination`, ``repay`` and ``payoff``
:mod:`loanservicing.cli.payments`).

A loan needs its borrower's signature over the terms: ``loan create`` signs for a borrower that
is a dev account of the node; any other borrower signs with ``loan sign-terms`` and the lender
originates with ``loan originate --signed-terms`` (:mod:`loanservicing.cli.origination`). The
restructuring commands are :mod:`loanservicing.cli.restructure`, ``loan claim``
:mod:`loanservicing.cli.claims`, ``credit show`` :mod:`loanservicing.cli.credit` and
``portfolio`` :mod:`loanservicing.cli.portfolio`; all are registered in
:mod:`loanservicing.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from eth_typing import ChecksumAddress
from rich.console import Console
from web3 import Web3
from web3.types import TxReceipt

from loanservicing.amounts import InvalidInput, exact, iso_date, money, rate
from loanservicing.cli.app import state_of
from loanservicing.cli.csv_export import csv_option, write_csv
from loanservicing.cli.options import ADDRESS, account_option, json_option
from loanservicing.cli.output import Column, dated, emit, fitted_table, key_value_table
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.calendar import Frequency
from loanservicing.ledger.delinquency import BUCKET_LABELS, HOLIDAY, PAID, STATUS_LABELS
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanSnapshot, LoanState
from loanservicing.servicing.schedule_view import schedule
from loanservicing.servicing.servicer import HolidayGrant, Payoff

__all__ = [
    "checked_loan_id",
    "loan",
    "loan_document",
    "styled",
    "tx_document",
]

STATUS_STYLE = {
    "active": "green",
    "defaulted": "red",
    "closed": "dim",
    "paid": "green",
    "partial": "yellow",
    "in-grace": "yellow",
    "overdue": "red",
    "due": "bold",
    "upcoming": "",
    "settled": "dim",
    "holiday": "cyan",
}


def checked_loan_id(value: int) -> int:
    """``value`` when it can be a loan id (ids start at 1), else InvalidInput."""
    if value <= 0:
        raise InvalidInput(f"Loan ids start at 1; {value} is not one.")
    return value


def tx_document(receipt: TxReceipt) -> dict[str, Any]:
    """A receipt's hash and gas, as the commands' JSON carries them."""
    return {"tx_hash": receipt["transactionHash"].to_0x_hex(), "gas_used": int(receipt["gasUsed"])}


def styled(label: str) -> str:
    style = STATUS_STYLE.get(label, "")
    return f"[{style}]{label}[/{style}]" if style else label


def loan_document(state: LoanSnapshot) -> dict[str, Any]:
    """The JSON of ``loan show`` (amounts in smallest units)."""
    return {
        "loan_id": state.loan_id,
        "borrower": state.borrower,
        "lender": state.lender,
        "token": state.token,
        "decimals": state.decimals,
        "status": state.status,
        "schedule": state.kind.label,
        "principal": state.principal,
        "principal_outstanding": state.principal_outstanding,
        "apr_bps": state.apr_bps,
        "penalty_apr_bps": state.penalty_apr_bps,
        "late_fee_bps": state.late_fee_bps,
        "period_seconds": state.period_seconds,
        "grace_seconds": state.grace_seconds,
        "default_after_days": state.default_after_days,
        "days_past_due": state.days_past_due,
        "delinquency_bucket": state.delinquency_bucket,
        "recorded_bucket": state.recorded_bucket,
        "past_due": state.past_due,
        **dated("next_due", state.next_due_timestamp),
        "next_due_amount": state.next_due_amount,
        "next_installment": state.next_installment,
        "payoff": state.payoff,
        "fees_owed": state.fees_owed,
        "penalty_owed": state.penalty_owed,
        "installments_total": state.installments_total,
        "installments_paid": state.installments_paid,
        **dated("as_of", state.as_of_timestamp),
    }


def calendar_document(state: LoanState) -> dict[str, Any]:
    """A loan's calendar terms as ``loan show`` names them."""
    frequency = Frequency(days=state.period // DAY, months=state.months)
    return {
        "frequency": frequency.label,
        "day_count": state.day_count.label,
        "utc_offset": cal.format_utc_offset(state.utc_offset),
        "anchor_day": state.anchor_day or None,
        "interest_only": state.interest_only,
        "rounding_units": 10**state.rounding_exp,
        "first_period_extra_days": state.odd_days,
    }


def forbearance_document(window: tuple[int, int] | None) -> dict[str, Any]:
    """A forbearance window (first and last day numbers) as the JSON names it."""
    first, last = window or (None, None)
    return {
        "forbearance_from": None if first is None else cal.date_of_day(first).isoformat(),
        "forbearance_to": None if last is None else cal.date_of_day(last).isoformat(),
        "forbearance_from_day": first,
        "forbearance_to_day": last,
    }


def forbearance_state(window: tuple[int, int] | None, today: int) -> str | None:
    """Where local day ``today`` stands to a forbearance window: ``ahead``, ``running`` or
    ``ended``; None without a window."""
    if window is None:
        return None
    first, last = window
    return "ahead" if today < first else "ended" if today > last else "running"


def forbearance_text(window: tuple[int, int], today: int) -> str:
    """ "In forbearance from 2027-01-05 to 2027-02-03", "Forbearance from ... to ..., not
    begun" or "Forbearance ended 2027-02-03 (from 2027-01-05)"."""
    first, last = (cal.date_of_day(day).isoformat() for day in window)
    state = forbearance_state(window, today)
    if state == "running":
        return f"In forbearance from {first} to {last}"
    if state == "ahead":
        return f"Forbearance from {first} to {last}, not begun"
    return f"Forbearance ended {last} (from {first})"


# --------------------------------------------------------------------------- loan


@click.group()
def loan() -> None:
    """Originate and inspect loans, restructure them, declare defaults."""


@loan.command("show")
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def loan_show(ctx: click.Context, loan_id: int) -> None:
    """Status, delinquency, what is due next on loan LOAN_ID and what closes it, and what
    the ledger holds for its lender (repayments whose transfer to the lender failed)."""
    state = state_of(ctx)
    servicer = state.servicer(write=False).for_loan(checked_loan_id(loan_id))
    current, quote = servicer.loan_with_payoff(loan_id)
    claimable = servicer.claimable(
        Web3.to_checksum_address(current.lender), Web3.to_checksum_address(current.token)
    )
    d, symbol = current.decimals, servicer.token_symbol
    loan_state = LoanState.from_view(loan_id, servicer.loan_view(loan_id))
    calendar = calendar_document(loan_state)
    # Installments paid in full, counted on the schedule's history: the ledger's count also
    # takes in those a prepayment, restructuring or holiday replaced.
    paid_count = sum(1 for r in schedule(servicer, loan_id) if r.status == PAID)
    window = servicer.forbearance(loan_id)
    today = cal.local_day(servicer.now(), loan_state.offset_seconds)
    document = {
        **loan_document(current),
        "installments_paid": paid_count,
        "installments_settled": current.installments_paid,
        **calendar,
        **forbearance_document(window),
        "forbearance_state": forbearance_state(window, today),
        "accrued_interest": quote.accrued_interest,
        "interest_rebate": quote.interest_rebate,
        "lender_claimable": claimable,
    }

    def render(console: Console) -> None:
        next_due = (
            f"{money(current.next_due_amount, d, symbol)} by {iso_date(current.next_due_timestamp)}"
            if current.next_due_timestamp
            else money(current.next_due_amount, d, symbol)
        )
        rows = [
            ("status", styled(current.status)),
            ("borrower", current.borrower),
            ("lender", current.lender),
            ("principal", money(current.principal, d, symbol)),
            ("outstanding", money(current.principal_outstanding, d, symbol)),
            ("rate", f"{rate(current.apr_bps)} a year, {calendar['day_count']}"),
            ("due", f"{calendar['frequency']}, dates in UTC{calendar['utc_offset']}"),
            ("installments", f"{paid_count} of {current.installments_total} paid"),
            ("days past due", str(current.days_past_due)),
            ("bucket", BUCKET_LABELS[current.delinquency_bucket]),
            ("past due", money(current.past_due, d, symbol)),
            ("next due", next_due),
            ("payoff", _payoff_line(quote, symbol)),
        ]
        if window is not None:
            rows.append(("forbearance", forbearance_text(window, today)))
        if claimable:
            rows.append(("held for the lender", f"{money(claimable, d, symbol)} (`loan claim`)"))
        console.print(key_value_table(f"Loan {loan_id} ({current.kind.label})", rows))

    emit(state, document, render)


def _payoff_line(quote: Payoff, symbol: str) -> str:
    """The payoff with the running period's interest to the day (or its rebate)."""
    d = quote.decimals
    text = money(quote.amount, d, symbol)
    if quote.accrued_interest:
        text += f" (with {money(quote.accrued_interest, d, symbol)} interest accrued to the day)"
    elif quote.interest_rebate:
        text += f" (less {money(quote.interest_rebate, d, symbol)} interest paid ahead)"
    return text


@loan.command("schedule")
@click.argument("loan_id", type=int)
@csv_option
@json_option
@click.pass_context
def loan_schedule(ctx: click.Context, loan_id: int, csv_path: Path | None) -> None:
    """Every installment of LOAN_ID with what was paid and its status.

    Installments replaced by a prepayment or restructuring are listed as settled, by number;
    those a payment holiday skipped as holiday; those due in a forbearance window are marked.
    """
    state = state_of(ctx)
    servicer = state.servicer(write=False).for_loan(checked_loan_id(loan_id))
    view = servicer.loan_view(loan_id)
    decimals = int(view["decimals"])
    grants = servicer.holiday_grants(loan_id)
    rows = schedule(servicer, loan_id, grants)
    window = servicer.forbearance(loan_id)
    today = cal.local_day(servicer.now(), int(view["utcOffsetMinutes"]) * 60)
    skipped_dates = {r.number: r.due_date for r in rows if r.status == HOLIDAY}
    document = {
        "loan_id": loan_id,
        "decimals": decimals,
        "holidays": [
            {
                **g.to_json(),
                "skipped_due_dates": [
                    skipped_dates.get(n, "")
                    for n in range(g.from_installment, g.through_installment + 1)
                ],
            }
            for g in grants
        ],
        **forbearance_document(window),
        "forbearance_state": forbearance_state(window, today),
        "installments": [
            {
                "number": r.number,
                **dated("due", r.due_timestamp),
                "due_date_local": r.due_date,
                "days": r.days,
                "principal": r.principal,
                "interest": r.interest,
                "total": r.total,
                "paid": r.paid,
                "status": r.status,
                "in_forbearance": r.in_forbearance,
            }
            for r in rows
        ],
    }

    if csv_path is not None:
        write_csv(
            csv_path,
            SCHEDULE_CSV_COLUMNS,
            [
                {
                    **row,
                    **{k: exact(row[k], decimals) for k in ("principal", "interest", "total")},
                    "paid": exact(row["paid"], decimals),
                    "in_forbearance": "yes" if row["in_forbearance"] else "no",
                }
                for row in document["installments"]
            ],
        )
    symbol = servicer.token_symbol

    def render(console: Console) -> None:
        columns = [
            Column("#", "right"),
            Column("due"),
            Column("days", "right", drop=1),
            *(Column(f"{name}\n{symbol}", "right") for name in ("principal", "interest",
                                                                 "total", "paid")),
            Column("status", kind="words"),
        ]  # fmt: skip
        cells = [
            [
                str(r.number),
                r.due_date,
                "" if r.days is None else str(r.days),
                money(r.principal, decimals),
                money(r.interest, decimals),
                money(r.total, decimals),
                money(r.paid, decimals),
                styled(r.status) + (" (forbearance)" if r.in_forbearance else ""),
            ]
            for r in rows
        ]
        console.print(fitted_table(f"Schedule of loan {loan_id}", columns, cells, console.width))
        for g in grants:
            console.print(_holiday_line(g, decimals, symbol))
        if window is not None:
            note = _FORBEARANCE_NOTES[forbearance_state(window, today) or "ended"]
            console.print(f"{forbearance_text(window, today)}: {note}.")

    emit(state, document, render)


_FORBEARANCE_NOTES = {
    "running": "the delinquency clock is paused on those dates",
    "ahead": "the delinquency clock will pause on those dates",
    "ended": "the delinquency clock was paused on those dates",
}


def _holiday_line(grant: HolidayGrant, decimals: int, symbol: str) -> str:
    """What one payment holiday skipped, capitalised and added to the term."""
    skipped = (
        f"installment {grant.from_installment}"
        if grant.count == 1
        else f"installments {grant.from_installment} to {grant.through_installment}"
    )
    periods = "1 installment" if grant.count == 1 else f"{grant.count} installments"
    return (
        f"Payment holiday: {skipped} skipped, "
        f"{money(grant.capitalised_interest, decimals, symbol)} interest capitalised into the "
        f"principal, the term extended by {periods}."
    )


SCHEDULE_CSV_COLUMNS = (
    "number",
    "due_date",
    "due_date_local",
    "days",
    "principal",
    "interest",
    "total",
    "paid",
    "status",
    "in_forbearance",
)
LIST_CSV_COLUMNS = (
    "loan_id",
    "borrower",
    "schedule",
    "status",
    "token",
    "principal",
    "principal_outstanding",
    "apr",
    "installments",
    "installments_paid",
    "days_past_due",
    "bucket",
    "next_due_date",
)


def list_csv_row(s: LoanSnapshot) -> dict[str, Any]:
    """One loan as a row of ``loan list --csv``: exact amounts, ISO dates, words."""
    return {
        "loan_id": s.loan_id,
        "borrower": s.borrower,
        "schedule": s.kind.label,
        "status": s.status,
        "token": s.token,
        "principal": exact(s.principal, s.decimals),
        "principal_outstanding": exact(s.principal_outstanding, s.decimals),
        "apr": rate(s.apr_bps),
        "installments": s.installments_total,
        "installments_paid": s.installments_paid,
        "days_past_due": s.days_past_due,
        "bucket": BUCKET_LABELS[s.delinquency_bucket],
        "next_due_date": iso_date(s.next_due_timestamp)[:10] if s.next_due_timestamp else None,
    }


@loan.command("list")
@click.option("--borrower", type=ADDRESS, help="Only this borrower's loans.")
@click.option("--status", type=click.Choice(STATUS_LABELS), help="Only loans in this status.")
@click.option(
    "--bucket",
    type=click.Choice(BUCKET_LABELS),
    help="Only active loans this many days past due now (current, 1-30, 31-60, 61-90, 90+).",
)
@csv_option
@json_option
@click.pass_context
def loan_list(
    ctx: click.Context,
    borrower: ChecksumAddress | None,
    status: str | None,
    bucket: str | None,
    csv_path: Path | None,
) -> None:
    """All loans, optionally filtered by borrower, status and delinquency bucket."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    loans = servicer.loans(borrower, status)
    if bucket is not None:
        wanted = BUCKET_LABELS.index(bucket)
        loans = [s for s in loans if s.status == "active" and s.delinquency_bucket == wanted]
    document = {
        "count": len(loans),
        "decimals": servicer.token_decimals,
        "loans": [loan_document(s) for s in loans],
    }
    if csv_path is not None:
        write_csv(csv_path, LIST_CSV_COLUMNS, [list_csv_row(s) for s in loans])

    symbols = {
        t: servicer.with_token(Web3.to_checksum_address(t)).token_symbol
        for t in {s.token for s in loans}
    }
    # One token: its symbol heads the column; loans in several: each amount carries its own.
    (header, *_) = symbols.values() if len(symbols) == 1 else ("",)

    def render(console: Console) -> None:
        columns = [
            Column("id", "right"),
            Column("borrower", kind="id", drop=1),
            Column("schedule", drop=2),
            Column("status"),
            Column(f"outstanding\n{header}" if header else "outstanding", "right"),
            Column("dpd", "right"),
            Column("next due"),
        ]
        cells = [
            [
                str(s.loan_id),
                s.borrower,
                s.kind.label,
                styled(s.status),
                money(s.principal_outstanding, s.decimals, "" if header else symbols[s.token]),
                str(s.days_past_due),
                iso_date(s.next_due_timestamp)[:10] if s.next_due_timestamp else "",
            ]
            for s in loans
        ]
        console.print(fitted_table(f"{len(loans)} loans", columns, cells, console.width))

    emit(state, document, render)


@loan.command("default")
@click.argument("loan_id", type=int)
@account_option
@json_option
@click.pass_context
def loan_default(ctx: click.Context, loan_id: int) -> None:
    """Declare LOAN_ID in default (servicer role; once its days past due reach the threshold)."""
    state = state_of(ctx)
    servicer = state.servicer()
    receipt = servicer.declare_default(checked_loan_id(loan_id))
    after = servicer.loan(loan_id)
    document = {
        "loan_id": loan_id,
        **tx_document(receipt),
        "status": after.status,
        "days_past_due": after.days_past_due,
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Loan {loan_id} is now [red]defaulted[/red] at {after.days_past_due} days past due."
        ),
    )


@loan.command("assess")
@click.argument("loan_id", type=int)
@account_option
@json_option
@click.pass_context
def loan_assess(ctx: click.Context, loan_id: int) -> None:
    """Bring LOAN_ID's late charges and delinquency bucket current (anyone may call)."""
    state = state_of(ctx)
    servicer = state.servicer()
    receipt = servicer.assess(checked_loan_id(loan_id))
    after = servicer.loan(loan_id)
    document = {
        "loan_id": loan_id,
        **tx_document(receipt),
        "days_past_due": after.days_past_due,
        "delinquency_bucket": after.delinquency_bucket,
        "fees_owed": after.fees_owed,
        "penalty_owed": after.penalty_owed,
        "decimals": after.decimals,
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Loan {loan_id}: {after.days_past_due} days past due, bucket "
            f"{BUCKET_LABELS[after.delinquency_bucket]}."
        ),
    )
