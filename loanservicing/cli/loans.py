"""Loan commands: ``loan create|sign-terms|originate|show|schedule|list|default|assess|
restructure|claim|allow-token``, ``repay``, ``payoff``, ``credit show`` and ``portfolio``.

A loan needs its borrower's signature over the terms: ``loan create`` signs for a borrower that
is a dev account of the node; any other borrower signs with ``loan sign-terms --lender ...
--out FILE`` (as itself: ``--account``, ``--private-key-env`` or ``--keystore``) and the lender
originates with ``loan originate --signed-terms FILE``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_typing import ChecksumAddress
from rich.console import Console
from rich.table import Table
from web3 import Web3
from web3.types import TxReceipt

from loanservicing.amounts import (
    InvalidInput,
    format_amount,
    iso_date,
    parse_amount,
    parse_date,
    parse_percent_bps,
)
from loanservicing.cli.app import CliState, state_of
from loanservicing.cli.options import ADDRESS, DURATION, account_option, json_option
from loanservicing.cli.output import dated, emit, key_value_table, render_summary
from loanservicing.ledger.credit import CREDIT_DECIMALS, CreditRecord
from loanservicing.ledger.delinquency import BUCKET_LABELS, STATUS_LABELS
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.ledger.state import LoanSnapshot
from loanservicing.servicing.borrower_signature import SignedTerms
from loanservicing.servicing.errors import SignatureFileError
from loanservicing.servicing.portfolio import claimable_by_lender, summarize
from loanservicing.servicing.schedule_view import schedule
from loanservicing.servicing.servicer import (
    LoanTerms,
    Origination,
    Payoff,
    RestructureProposal,
    Servicer,
)

__all__ = ["credit", "loan", "payoff", "portfolio", "repay"]

F = TypeVar("F", bound=Callable[..., Any])

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


def terms_options(f: F) -> F:
    """The options that describe a loan's terms (``loan create`` and ``loan sign-terms``)."""
    options = [
        click.option("--principal", required=True, help="Amount lent, in tokens (e.g. 10000.50)."),
        click.option("--apr", required=True, help="Yearly interest rate in percent (e.g. 12)."),
        click.option("--installments", type=click.IntRange(1, 480), required=True),
        click.option(
            "--period", type=DURATION, required=True, help="Installment period, e.g. 30d."
        ),
        click.option(
            "--schedule",
            default="annuity",
            show_default=True,
            help="annuity, equal-principal or bullet.",
        ),
        click.option("--grace", type=DURATION, default="5d", show_default=True),
        click.option(
            "--late-fee-bps", type=click.IntRange(0, 2500), default=500, show_default=True
        ),
        click.option(
            "--penalty-apr", default="6", show_default=True, help="Penalty rate in percent."
        ),
        click.option("--default-after", type=DURATION, default="90d", show_default=True),
        click.option("--first-due", help="First due date (ISO 8601 UTC or unix seconds)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def loan_terms(servicer: Servicer, borrower: ChecksumAddress, options: dict[str, Any]) -> LoanTerms:
    """The terms the options of :func:`terms_options` describe, lent to ``borrower``."""
    apr_bps = parse_percent_bps(options["apr"], "interest rate")
    penalty_bps = parse_percent_bps(options["penalty_apr"], "penalty rate")
    default_after = int(options["default_after"])
    if default_after % DAY or default_after == 0:
        raise InvalidInput("--default-after must be a whole number of days, such as 90d.")
    first_due = options["first_due"]
    first_due_ts = parse_date(first_due, "first due date") if first_due else None
    try:
        kind = ScheduleKind.from_label(options["schedule"])
    except ValueError:
        raise InvalidInput(
            f"Unknown schedule kind {options['schedule']!r}; use annuity, equal-principal or "
            "bullet."
        ) from None
    return LoanTerms(
        borrower=borrower,
        principal=parse_amount(options["principal"], servicer.token_decimals, "principal"),
        apr_bps=apr_bps,
        installments=int(options["installments"]),
        period_seconds=int(options["period"]),
        kind=kind,
        grace_seconds=int(options["grace"]),
        late_fee_bps=int(options["late_fee_bps"]),
        penalty_apr_bps=penalty_bps,
        default_after_days=default_after // DAY,
        first_due_timestamp=first_due_ts,
    )


def _originated(state: CliState, servicer: Servicer, result: Origination, principal: int) -> None:
    document = {
        "loan_id": result.loan_id,
        "tx_hash": result.tx_hash,
        "gas_used": result.gas_used,
        "borrower": result.borrower,
        "borrower_nonce": result.nonce,
        "borrower_signed": True,
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Originated loan [bold]{result.loan_id}[/bold]: {servicer.show(principal)} to "
            f"{result.borrower}, on terms the borrower signed (nonce {result.nonce}) "
            f"({result.tx_hash}, {result.gas_used} gas)."
        ),
    )


@loan.command("create")
@click.option("--borrower", type=ADDRESS, required=True, help="Borrower's checksummed address.")
@terms_options
@click.option("--no-approve", is_flag=True, help="Fail instead of approving the principal.")
@account_option
@json_option
@click.pass_context
def loan_create(
    ctx: click.Context, /, borrower: ChecksumAddress, no_approve: bool, **options: Any
) -> None:
    """Originate a loan; the signing account is the lender and pays out the principal.

    The borrower must be a dev account of the node, whose signature over the terms the lender
    makes with its dev key; any other borrower signs the terms itself (`loan sign-terms`) and
    the lender runs `loan originate --signed-terms FILE`.
    """
    state = state_of(ctx)
    servicer = state.servicer()
    terms = loan_terms(servicer, borrower, options)
    result = servicer.originate(terms, approve=not no_approve)
    _originated(state, servicer, result, terms.principal)


@loan.command("sign-terms")
@click.option("--lender", type=ADDRESS, required=True, help="The lender who will originate.")
@terms_options
@click.option(
    "--valid-for",
    type=DURATION,
    default="1d",
    show_default=True,
    help="How long the lender may use the signature.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="File to write the signed terms to (JSON, for the lender).",
)
@account_option
@json_option
@click.pass_context
def loan_sign_terms(
    ctx: click.Context, /, lender: ChecksumAddress, valid_for: int, out: Path, **options: Any
) -> None:
    """Sign, as the borrower, the terms LENDER offers, into a file for the lender.

    The signing account is the borrower. The signature (EIP-712, with the borrower's next
    nonce) is good for one origination by that lender until --valid-for from now; the
    origination is simulated first, so terms the ledger would refuse are not signed.
    """
    state = state_of(ctx)
    servicer = state.servicer()
    terms = loan_terms(servicer, servicer.account, options)
    signed = servicer.sign_offer(terms, lender, valid_for)
    try:
        out.write_text(signed.to_json() + "\n", encoding="utf-8")
    except OSError as exc:
        raise SignatureFileError(f"The file {out} cannot be written ({exc.strerror}).") from None
    document = {
        "file": str(out),
        "borrower": signed.borrower,
        "lender": signed.lender,
        "ledger": signed.ledger,
        "chain_id": signed.chain_id,
        "nonce": signed.nonce,
        **dated("deadline", signed.deadline),
        "digest": "0x" + signed.digest().hex(),
        "decimals": servicer.token_decimals,
        "terms": signed.terms_document(),
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Signed {servicer.show(terms.principal)} from {lender} as borrower "
            f"{signed.borrower} (nonce {signed.nonce}, valid until "
            f"{iso_date(signed.deadline)}) into {out}."
        ),
    )


@loan.command("originate")
@click.option(
    "--signed-terms",
    "signed_terms",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The file the borrower signed with `loan sign-terms`.",
)
@click.option("--no-approve", is_flag=True, help="Fail instead of approving the principal.")
@account_option
@json_option
@click.pass_context
def loan_originate(ctx: click.Context, signed_terms: Path, no_approve: bool) -> None:
    """Originate the loan a borrower signed; the signing account is the lender.

    The file must name this deployment's ledger and token and the signing account as lender,
    carry the borrower's next nonce and an unexpired deadline, and hold the borrower's
    signature over exactly those terms; the origination is simulated before anything is sent.
    """
    state = state_of(ctx)
    try:
        text = signed_terms.read_text(encoding="utf-8")
    except OSError as exc:
        raise SignatureFileError(
            f"The signed-terms file {signed_terms} cannot be read ({exc.strerror})."
        ) from None
    signed = SignedTerms.from_json(text)
    servicer = state.servicer()
    result = servicer.originate_signed(signed, approve=not no_approve)
    _originated(state, servicer, result, signed.principal)


@loan.command("show")
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def loan_show(ctx: click.Context, loan_id: int) -> None:
    """Status, delinquency, what is due next on loan LOAN_ID and what closes it, and what
    the ledger holds for its lender (repayments whose transfer to the lender failed)."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    current, quote = servicer.loan_with_payoff(_loan_id(loan_id))
    claimable = servicer.claimable(
        Web3.to_checksum_address(current.lender), Web3.to_checksum_address(current.token)
    )
    d = current.decimals
    document = {
        **loan_document(current),
        "accrued_interest": quote.accrued_interest,
        "interest_rebate": quote.interest_rebate,
        "lender_claimable": claimable,
    }

    def render(console: Console) -> None:
        next_due = (
            f"{_money(current.next_due_amount, d)} by {iso_date(current.next_due_timestamp)}"
            if current.next_due_timestamp
            else _money(current.next_due_amount, d)
        )
        rows = [
            ("status", _styled(current.status)),
            ("borrower", current.borrower),
            ("lender", current.lender),
            ("principal", _money(current.principal, d)),
            ("outstanding", _money(current.principal_outstanding, d)),
            ("rate", f"{current.apr_bps / 100:g} % a year"),
            ("installments", f"{current.installments_paid} of {current.installments_total} paid"),
            ("days past due", str(current.days_past_due)),
            ("bucket", BUCKET_LABELS[current.delinquency_bucket]),
            ("past due", _money(current.past_due, d)),
            ("next due", next_due),
            ("payoff", _payoff_line(quote)),
        ]
        if claimable:
            rows.append(("held for the lender", f"{_money(claimable, d)} (`loan claim`)"))
        console.print(key_value_table(f"Loan {loan_id} ({current.kind.label})", rows))

    emit(state, document, render)


def _payoff_line(quote: Payoff) -> str:
    """The payoff with the running period's interest to the day (or its rebate)."""
    d = quote.decimals
    text = _money(quote.amount, d)
    if quote.accrued_interest:
        text += f" (with {_money(quote.accrued_interest, d)} interest accrued to the day)"
    elif quote.interest_rebate:
        text += f" (less {_money(quote.interest_rebate, d)} interest paid ahead)"
    return text


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


def _proposal_text(p: RestructureProposal) -> str:
    return (
        f"{p.installments} installments of {p.period_seconds // DAY:g} days at "
        f"{p.apr_bps / 100:g} %, to accept by {iso_date(p.deadline)}"
    )


@loan_restructure.command("show")
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def restructure_show(ctx: click.Context, loan_id: int) -> None:
    """The latest restructuring proposal for LOAN_ID (the terms `accept` accepts)."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    proposal = servicer.restructure_proposal(_loan_id(loan_id))
    document = {"loan_id": loan_id, "proposal": proposal.to_json() if proposal else None}
    emit(
        state,
        document,
        lambda c: c.print(
            f"Loan {loan_id}: "
            + (f"proposed {_proposal_text(proposal)}." if proposal else "no proposal was made.")
        ),
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
    proposal, receipt = servicer.accept_restructure(_loan_id(loan_id), proposal)
    after = servicer.loan(loan_id)
    document = {
        "loan_id": loan_id,
        **_tx(receipt),
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
    receipt = servicer.withdraw_restructure(_loan_id(loan_id))
    document = {"loan_id": loan_id, **_tx(receipt), "withdrawn": True}
    emit(
        state,
        document,
        lambda c: c.print(f"Withdrew the restructuring proposal of loan {loan_id}."),
    )


# --------------------------------------------------------------------------- claims, tokens


@loan.command("claim")
@click.option("--to", "to", type=ADDRESS, help="Recipient (default: the signing account).")
@click.option("--token", "token", type=ADDRESS, help="Token (default: the deployment's).")
@account_option
@json_option
@click.pass_context
def loan_claim(
    ctx: click.Context, to: ChecksumAddress | None, token: ChecksumAddress | None
) -> None:
    """Claim, as a lender, the repayments the ledger held because their transfer to you failed
    (a token blocklist, for example); --to pays them to another address."""
    state = state_of(ctx)
    servicer = state.servicer()
    result = servicer.claim(to, token)
    document = {
        "lender": result.lender,
        "token": result.token,
        "to": result.to,
        "amount": result.amount,
        "decimals": result.decimals,
        "tx_hash": result.tx_hash,
        "gas_used": result.gas_used,
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Claimed {_money(result.amount, result.decimals)} held for {result.lender} "
            f"to {result.to} ({result.tx_hash})."
        ),
    )


@loan.command("allow-token")
@click.argument("token", type=ADDRESS)
@click.option("--disallow", is_flag=True, help="Stop new loans in TOKEN instead.")
@account_option
@json_option
@click.pass_context
def loan_allow_token(ctx: click.Context, token: ChecksumAddress, disallow: bool) -> None:
    """Allow new loans in the ERC-20 TOKEN (the ledger's admin; existing loans unaffected)."""
    state = state_of(ctx)
    servicer = state.servicer()
    result = servicer.allow_token(token, not disallow)
    document = {
        "token": result.token,
        "token_id": result.token_id,
        "decimals": result.decimals,
        "allowed": result.allowed,
        "tx_hash": result.tx_hash,
    }
    verb = "allows" if result.allowed else "no longer allows"
    emit(
        state,
        document,
        lambda c: c.print(f"The ledger {verb} new loans in {result.token} ({result.tx_hash})."),
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
        "held_for_lender": result.held,
        "lender_claimable": result.lender_claimable,
    }
    d = result.decimals

    def render(console: Console) -> None:
        rows = [
            ("paid", _money(result.total, d)),
            ("fees", _money(result.fees, d)),
            ("penalty", _money(result.penalty, d)),
            ("interest", _money(result.interest, d)),
            ("principal", _money(result.principal, d)),
            ("outstanding", _money(result.principal_outstanding, d)),
            ("status", _styled(result.status)),
            ("transaction", result.tx_hash),
        ]
        if result.held:
            rows.append(
                (
                    "held for the lender",
                    f"{_money(result.held, d)}: the transfer to the lender failed, so the ledger "
                    f"holds it ({_money(result.lender_claimable, d)} claimable in all)",
                )
            )
        console.print(key_value_table(f"Repayment on loan {loan_id}", rows))

    emit(state, document, render)


@click.command()
@click.argument("loan_id", type=int)
@json_option
@click.pass_context
def payoff(ctx: click.Context, loan_id: int) -> None:
    """The amount that closes LOAN_ID now, and how it splits.

    The running period's interest counts to the day: what was earned by the whole days
    elapsed, less what was paid towards it; interest paid ahead of that is credited back.
    """
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
        "accrued_interest": quote.accrued_interest,
        "interest_rebate": quote.interest_rebate,
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
                    ("interest accrued to the day", _money(quote.accrued_interest, d)),
                    ("interest paid ahead, credited", _money(quote.interest_rebate, d)),
                    ("current principal", _money(quote.current_principal, d)),
                    ("remaining principal", _money(quote.remaining_principal, d)),
                    ("(current installment's interest)", _money(quote.current_interest, d)),
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
    """The borrower's totals (as before) plus each reporting ledger's figures."""
    return {
        **servicer.credit_record(borrower).to_json(),
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
    ledger's own figures (total repaid in 18-decimal units)."""
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    document = credit_document(servicer, borrower)
    reporters = document["reporters"]

    def cell(figures: dict[str, Any], key: str) -> str:
        value = int(figures[key])
        return format_amount(value, CREDIT_DECIMALS) if key == "total_repaid" else str(value)

    def render(console: Console) -> None:
        table = Table(title=f"Credit record of {borrower}", title_justify="left")
        table.add_column("", style="bold")
        table.add_column("total", justify="right")
        for r in reporters:
            table.add_column(f"ledger {r['reporter'][:8]}…", justify="right")
        for key, label in _CREDIT_ROWS:
            table.add_row(label, cell(document, key), *(cell(r, key) for r in reporters))
        console.print(table)
        if not reporters:
            console.print("[dim]No ledger has reported about this borrower.[/dim]")

    emit(state, document, render)


# --------------------------------------------------------------------------- portfolio


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
