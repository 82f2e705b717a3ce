"""Loan commands: ``loan create|show|schedule|list|default|assess|restructure``, ``repay``,
``payoff``, ``credit show`` and ``portfolio``."""

from __future__ import annotations

from typing import Any

import click
from eth_typing import ChecksumAddress
from rich.console import Console
from rich.table import Table
from web3.types import TxReceipt

from loanservicing.amounts import (
    InvalidInput,
    format_amount,
    iso_date,
    parse_amount,
    parse_date,
    parse_percent_bps,
)
from loanservicing.cli.app import state_of
from loanservicing.cli.options import ADDRESS, DURATION, account_option, json_option
from loanservicing.cli.output import dated, emit, key_value_table, render_summary
from loanservicing.ledger.delinquency import BUCKET_LABELS, STATUS_LABELS
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.ledger.state import LoanSnapshot
from loanservicing.servicing.portfolio import summarize
from loanservicing.servicing.schedule_view import schedule
from loanservicing.servicing.servicer import LoanTerms, Servicer

__all__ = ["credit", "loan", "payoff", "portfolio", "repay"]

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
}


def _loan_id(value: int) -> int:
    if value <= 0:
        raise InvalidInput(f"Loan ids start at 1; {value} is not one.")
    return value


def _tx(receipt: TxReceipt) -> dict[str, Any]:
    return {"tx_hash": receipt["transactionHash"].to_0x_hex(), "gas_used": int(receipt["gasUsed"])}


def _styled(label: str) -> str:
    style = STATUS_STYLE.get(label, "")
    return f"[{style}]{label}[/{style}]" if style else label


def _money(units: int | None, decimals: int) -> str:
    return "" if units is None else format_amount(units, decimals)


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


# --------------------------------------------------------------------------- loan


@click.group()
def loan() -> None:
    """Originate and inspect loans, restructure them, declare defaults."""


@loan.command("create")
@click.option("--borrower", type=ADDRESS, required=True, help="Borrower's checksummed address.")
@click.option("--principal", required=True, help="Amount lent, in tokens (e.g. 10000.50).")
@click.option("--apr", required=True, help="Yearly interest rate in percent (e.g. 12 or 7.25).")
@click.option("--installments", type=click.IntRange(1, 480), required=True)
@click.option("--period", type=DURATION, required=True, help="Installment period, e.g. 30d.")
@click.option(
    "--schedule",
    default="annuity",
    show_default=True,
    help="annuity, equal-principal or bullet.",
)
@click.option("--grace", type=DURATION, default="5d", show_default=True)
@click.option("--late-fee-bps", type=click.IntRange(0, 2500), default=500, show_default=True)
@click.option("--penalty-apr", default="6", show_default=True, help="Penalty rate in percent.")
@click.option("--default-after", type=DURATION, default="90d", show_default=True)
@click.option("--first-due", help="First due date (ISO 8601 UTC or unix seconds).")
@click.option("--no-approve", is_flag=True, help="Fail instead of approving the principal.")
@account_option
@json_option
@click.pass_context
def loan_create(
    ctx: click.Context,
    borrower: ChecksumAddress,
    principal: str,
    apr: str,
    installments: int,
    period: int,
    schedule: str,
    grace: int,
    late_fee_bps: int,
    penalty_apr: str,
    default_after: int,
    first_due: str | None,
    no_approve: bool,
) -> None:
    """Originate a loan; the signing account is the lender and pays out the principal."""
    state = state_of(ctx)
    apr_bps = parse_percent_bps(apr, "interest rate")
    penalty_bps = parse_percent_bps(penalty_apr, "penalty rate")
    if default_after % DAY or default_after == 0:
        raise InvalidInput("--default-after must be a whole number of days, such as 90d.")
    first_due_ts = parse_date(first_due, "first due date") if first_due else None
    try:
        kind = ScheduleKind.from_label(schedule)
    except ValueError:
        raise InvalidInput(
            f"Unknown schedule kind {schedule!r}; use annuity, equal-principal or bullet."
        ) from None
    servicer = state.servicer()
    terms = LoanTerms(
        borrower=borrower,
        principal=parse_amount(principal, servicer.token_decimals, "principal"),
        apr_bps=apr_bps,
        installments=installments,
        period_seconds=period,
        kind=kind,
        grace_seconds=grace,
        late_fee_bps=late_fee_bps,
        penalty_apr_bps=penalty_bps,
        default_after_days=default_after // DAY,
        first_due_timestamp=first_due_ts,
    )
    result = servicer.originate(terms, approve=not no_approve)
    document = {"loan_id": result.loan_id, "tx_hash": result.tx_hash, "gas_used": result.gas_used}
    emit(
        state,
        document,
        lambda c: c.print(
            f"Originated loan [bold]{result.loan_id}[/bold]: {servicer.show(terms.principal)} "
            f"to {borrower} ({result.tx_hash}, {result.gas_used} gas)."
        ),
    )


@loan.command("show")
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def loan_show(ctx: click.Context, loan_id: int) -> None:
    """Status, delinquency and what is due next on loan LOAN_ID."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    current = servicer.loan(_loan_id(loan_id))
    d = current.decimals

    def render(console: Console) -> None:
        next_due = (
            f"{_money(current.next_due_amount, d)} by {iso_date(current.next_due_timestamp)}"
            if current.next_due_timestamp
            else _money(current.next_due_amount, d)
        )
        console.print(
            key_value_table(
                f"Loan {loan_id} ({current.kind.label})",
                [
                    ("status", _styled(current.status)),
                    ("borrower", current.borrower),
                    ("lender", current.lender),
                    ("principal", _money(current.principal, d)),
                    ("outstanding", _money(current.principal_outstanding, d)),
                    ("rate", f"{current.apr_bps / 100:g} % a year"),
                    (
                        "installments",
                        f"{current.installments_paid} of {current.installments_total} paid",
                    ),
                    ("days past due", str(current.days_past_due)),
                    ("bucket", BUCKET_LABELS[current.delinquency_bucket]),
                    ("past due", _money(current.past_due, d)),
                    ("next due", next_due),
                    ("payoff", _money(current.payoff, d)),
                ],
            )
        )

    emit(state, loan_document(current), render)


@loan.command("schedule")
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def loan_schedule(ctx: click.Context, loan_id: int) -> None:
    """Every installment of LOAN_ID with what was paid and its status.

    Installments replaced by a prepayment or restructuring are listed as settled, by number.
    """
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    view = servicer.loan_view(_loan_id(loan_id))
    decimals = int(view["decimals"])
    rows = schedule(servicer, loan_id)
    document = {
        "loan_id": loan_id,
        "decimals": decimals,
        "installments": [
            {
                "number": r.number,
                **dated("due", r.due_timestamp),
                "principal": r.principal,
                "interest": r.interest,
                "total": r.total,
                "paid": r.paid,
                "status": r.status,
            }
            for r in rows
        ],
    }

    def render(console: Console) -> None:
        table = Table(title=f"Schedule of loan {loan_id}", title_justify="left")
        for name in ("#", "due", "principal", "interest", "total", "paid", "status"):
            table.add_column(name, justify="right" if name not in ("due", "status") else "left")
        for r in rows:
            table.add_row(
                str(r.number),
                iso_date(r.due_timestamp)[:10] if r.due_timestamp else "",
                _money(r.principal, decimals),
                _money(r.interest, decimals),
                _money(r.total, decimals),
                _money(r.paid, decimals),
                _styled(r.status),
            )
        console.print(table)

    emit(state, document, render)


@loan.command("list")
@click.option("--borrower", type=ADDRESS, help="Only this borrower's loans.")
@click.option("--status", type=click.Choice(STATUS_LABELS), help="Only loans in this status.")
@click.option(
    "--bucket",
    type=click.Choice(BUCKET_LABELS),
    help="Only active loans this many days past due now (current, 1-30, 31-60, 61-90, 90+).",
)
@json_option
@click.pass_context
def loan_list(
    ctx: click.Context, borrower: ChecksumAddress | None, status: str | None, bucket: str | None
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

    def render(console: Console) -> None:
        table = Table(title=f"{len(loans)} loans", title_justify="left")
        for name in ("id", "borrower", "schedule", "status", "outstanding", "dpd", "next due"):
            table.add_column(name)
        for s in loans:
            table.add_row(
                str(s.loan_id),
                s.borrower,
                s.kind.label,
                _styled(s.status),
                _money(s.principal_outstanding, s.decimals),
                str(s.days_past_due),
                iso_date(s.next_due_timestamp)[:10] if s.next_due_timestamp else "",
            )
        console.print(table)

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
    receipt = servicer.declare_default(_loan_id(loan_id))
    after = servicer.loan(loan_id)
    document = {
        "loan_id": loan_id,
        **_tx(receipt),
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
    receipt = servicer.assess(_loan_id(loan_id))
    after = servicer.loan(loan_id)
    document = {
        "loan_id": loan_id,
        **_tx(receipt),
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


@loan.group("restructure")
def loan_restructure() -> None:
    """Propose new terms (servicer) and accept them (borrower)."""


@loan_restructure.command("propose")
@click.argument("loan_id", type=int)
@click.option("--apr", required=True, help="New yearly rate in percent.")
@click.option("--installments", type=click.IntRange(1, 480), required=True)
@click.option("--period", type=DURATION, required=True)
@click.option("--valid-for", type=DURATION, default="7d", show_default=True)
@account_option
@json_option
@click.pass_context
def restructure_propose(
    ctx: click.Context, loan_id: int, apr: str, installments: int, period: int, valid_for: int
) -> None:
    """Offer LOAN_ID's borrower new terms for the rest of the loan."""
    state = state_of(ctx)
    apr_bps = parse_percent_bps(apr, "interest rate")
    servicer = state.servicer()
    deadline = servicer.now() + valid_for
    receipt = servicer.propose_restructure(
        _loan_id(loan_id), apr_bps, installments, period, deadline
    )
    document = {
        "loan_id": loan_id,
        **_tx(receipt),
        "apr_bps": apr_bps,
        "installments": installments,
        "period_seconds": period,
        **dated("deadline", deadline),
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Proposed {installments} installments at {apr_bps / 100:g} % for loan {loan_id}; "
            f"the borrower may accept until {iso_date(deadline)}."
        ),
    )


@loan_restructure.command("accept")
@click.argument("loan_id", type=int)
@account_option
@json_option
@click.pass_context
def restructure_accept(ctx: click.Context, loan_id: int) -> None:
    """Accept the pending proposal for LOAN_ID (sign as the borrower)."""
    state = state_of(ctx)
    servicer = state.servicer()
    receipt = servicer.accept_restructure(_loan_id(loan_id))
    after = servicer.loan(loan_id)
    document = {"loan_id": loan_id, **_tx(receipt), **loan_document(after)}
    emit(
        state,
        document,
        lambda c: c.print(
            f"Loan {loan_id} restructured: {after.installments_total - after.base_index} "
            f"installments from now, next due {iso_date(after.next_due_timestamp or 0)}."
        ),
    )


# --------------------------------------------------------------------------- repay, payoff


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
    servicer = state.servicer()
    view = servicer.loan_view(_loan_id(loan_id))
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
    }
    d = result.decimals

    def render(console: Console) -> None:
        console.print(
            key_value_table(
                f"Repayment on loan {loan_id}",
                [
                    ("paid", _money(result.total, d)),
                    ("fees", _money(result.fees, d)),
                    ("penalty", _money(result.penalty, d)),
                    ("interest", _money(result.interest, d)),
                    ("principal", _money(result.principal, d)),
                    ("outstanding", _money(result.principal_outstanding, d)),
                    ("status", _styled(result.status)),
                    ("transaction", result.tx_hash),
                ],
            )
        )

    emit(state, document, render)


@click.command()
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def payoff(ctx: click.Context, loan_id: int) -> None:
    """The amount that closes LOAN_ID now, and how it splits."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    quote = servicer.payoff(_loan_id(loan_id))
    d = quote.decimals
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
        **dated("as_of", quote.as_of_timestamp),
    }

    def render(console: Console) -> None:
        console.print(
            key_value_table(
                f"Payoff of loan {loan_id}: {servicer.show(quote.amount)}",
                [
                    ("late fees", _money(quote.fees, d)),
                    ("penalty", _money(quote.penalty, d)),
                    ("past-due interest", _money(quote.interest, d)),
                    ("past-due principal", _money(quote.principal, d)),
                    ("current interest", _money(quote.current_interest, d)),
                    ("current principal", _money(quote.current_principal, d)),
                    ("remaining principal", _money(quote.remaining_principal, d)),
                    ("as of", iso_date(quote.as_of_timestamp)),
                ],
            )
        )

    emit(state, document, render)


# --------------------------------------------------------------------------- credit


@click.group()
def credit() -> None:
    """Borrowers' credit records in the shared registry."""


def credit_document(servicer: Servicer, borrower: ChecksumAddress) -> dict[str, Any]:
    return servicer.credit_record(borrower).to_json()


@credit.command("show")
@click.argument("borrower", type=ADDRESS)
@json_option
@click.pass_context
def credit_show(ctx: click.Context, borrower: ChecksumAddress) -> None:
    """The credit record of BORROWER (total repaid in 18-decimal units)."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    document = credit_document(servicer, borrower)
    rows = [(k.replace("_", " "), str(v)) for k, v in document.items() if k != "borrower"]
    rows = [
        (k, format_amount(int(v), 18) if k == "total repaid" else v)
        for k, v in rows
        if k != "decimals"
    ]
    emit(state, document, lambda c: c.print(key_value_table(f"Credit record of {borrower}", rows)))


# --------------------------------------------------------------------------- portfolio


@click.command()
@json_option
@click.pass_context
def portfolio(ctx: click.Context) -> None:
    """Summary of every loan: status, delinquency buckets, outstanding, collected, PAR30."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    summary = summarize(servicer)
    emit(
        state,
        summary.to_json(),
        lambda c: render_summary(summary, c, servicer.token_symbol),
    )
