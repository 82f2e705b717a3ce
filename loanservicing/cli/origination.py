"""Signed origination and the token allowlist: ``loan sign-terms`` (the borrower signs the
terms a lender offers, into a file), ``loan originate --signed-terms FILE`` (the lender
originates them) and ``loan allow-token``; the terms options ``loan create`` shares.

A loan needs its borrower's signature over the terms: ``loan create`` signs for a borrower that
is a dev account of the node; any other borrower signs with ``loan sign-terms --lender ...
--out FILE`` (as itself: ``--account``, ``--private-key-env`` or ``--keystore``) and the lender
originates with ``loan originate --signed-terms FILE``. ``loan create --dry-run`` and ``loan
quote`` print the schedule and cost of the terms once the ledger accepted them in a simulation,
and send nothing. The commands are attached to the ``loan`` group in :mod:`loanservicing.cli`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_typing import ChecksumAddress
from rich.console import Console

from loanservicing.amounts import (
    InvalidInput,
    iso_date,
    money,
    parse_amount,
    parse_date,
    parse_percent_bps,
    rate,
)
from loanservicing.cli.app import CliState, state_of
from loanservicing.cli.options import ADDRESS, DURATION, account_option, json_option
from loanservicing.cli.output import Column, dated, emit, fitted_table, key_value_table
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.calendar import DayCount, Frequency
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.borrower_signature import SignedTerms
from loanservicing.servicing.errors import SignatureFileError
from loanservicing.servicing.servicer import LoanTerms, Origination, Servicer
from loanservicing.servicing.statement import LoanQuote, quote_origination

__all__ = [
    "date_in_offset",
    "emit_origination",
    "loan_allow_token",
    "loan_create",
    "loan_originate",
    "loan_quote",
    "loan_sign_terms",
    "loan_terms",
    "quote_document",
    "terms_options",
]

F = TypeVar("F", bound=Callable[..., Any])


def terms_options(f: F) -> F:
    """The options that describe a loan's terms (``loan create`` and ``loan sign-terms``)."""
    options = [
        click.option("--principal", required=True, help="Amount lent, in tokens (e.g. 10000.50)."),
        click.option("--apr", required=True, help="Yearly interest rate in percent (e.g. 12)."),
        click.option("--installments", type=click.IntRange(1, 480), required=True),
        click.option(
            "--frequency",
            help="How often installments fall due: monthly, quarterly, semi-annual, annual "
            "(calendar months, 30/360), weekly, daily or every:14d, every:2w, every:2m.",
        ),
        click.option("--period", type=DURATION, help="Installment period in whole days, e.g. 30d."),
        click.option(
            "--day-count",
            help="30/360 (calendar months), act/365 or act/360 (periods of days); default: "
            "30/360 with months, act/365 with days.",
        ),
        click.option(
            "--interest-only",
            type=click.IntRange(0, 479),
            default=0,
            show_default=True,
            help="The first N installments are interest only.",
        ),
        click.option(
            "--utc-offset",
            default="+00:00",
            show_default=True,
            help="The loan's UTC offset: its due dates are dates there.",
        ),
        click.option(
            "--rounding",
            default="0.01",
            show_default=True,
            help="Installments are whole multiples of this amount (0: not rounded).",
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
        click.option(
            "--token",
            type=ADDRESS,
            help="The ERC-20 lent (the ledger must allow it); default: the deployment's token.",
        ),
        click.option(
            "--first-due",
            help="First due date (2027-01-31, in the loan's offset; or ISO 8601 UTC or unix "
            "seconds): from tomorrow to two periods away.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def terms_servicer(state: CliState, options: dict[str, Any]) -> Servicer:
    """The signing servicer, working in the token ``--token`` names (else the deployment's)."""
    servicer = state.servicer()
    token = options.get("token")
    return servicer.with_token(token) if token else servicer


def loan_terms(servicer: Servicer, borrower: ChecksumAddress, options: dict[str, Any]) -> LoanTerms:
    """The terms the options of :func:`terms_options` describe, lent to ``borrower``."""
    apr_bps = parse_percent_bps(options["apr"], "interest rate")
    penalty_bps = parse_percent_bps(options["penalty_apr"], "penalty rate")
    default_after = int(options["default_after"])
    if default_after % DAY or default_after == 0:
        raise InvalidInput("--default-after must be a whole number of days, such as 90d.")
    frequency = _frequency(options)
    try:
        offset = cal.parse_utc_offset(str(options["utc_offset"]))
    except ValueError as exc:
        raise InvalidInput(f"{exc}.") from None
    first_due = options["first_due"]
    first_due_ts = date_in_offset(first_due, offset, "first due date") if first_due else None
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
        period_seconds=frequency.period_seconds,
        kind=kind,
        grace_seconds=int(options["grace"]),
        late_fee_bps=int(options["late_fee_bps"]),
        penalty_apr_bps=penalty_bps,
        default_after_days=default_after // DAY,
        first_due_timestamp=first_due_ts,
        months=frequency.months,
        day_count=_day_count(options.get("day_count"), frequency),
        utc_offset_minutes=offset,
        interest_only=int(options["interest_only"]),
        rounding_exp=_rounding_exp(str(options["rounding"]), servicer.token_decimals),
    )


def _frequency(options: dict[str, Any]) -> Frequency:
    """The installment frequency: ``--frequency`` or ``--period`` (whole days), one of them."""
    text, period = options.get("frequency"), options.get("period")
    if (text is None) == (period is None):
        raise InvalidInput("Give the installment frequency: --frequency monthly, or --period 30d.")
    if text is not None:
        try:
            return Frequency.parse(str(text))
        except ValueError as exc:
            raise InvalidInput(f"{exc}.") from None
    seconds = int(str(period))
    if seconds % DAY:
        raise InvalidInput("--period must be a whole number of days, such as 30d.")
    return Frequency(days=seconds // DAY)


def _day_count(text: str | None, frequency: Frequency) -> DayCount:
    if text is None:
        return DayCount.THIRTY_360 if frequency.months else DayCount.ACTUAL_365
    try:
        return DayCount.from_label(text)
    except ValueError as exc:
        raise InvalidInput(f"{exc}.") from None


def date_in_offset(text: str, offset_minutes: int, what: str) -> int:
    """A date alone (2027-01-31) is the last second of that date in a UTC offset of
    ``offset_minutes``; anything else as :func:`parse_date`."""
    try:
        date = dt.date.fromisoformat(text.strip())
    except ValueError:
        return parse_date(text, what)
    return cal.day_end(cal.day_of_date(date), offset_minutes * 60)


def _rounding_exp(text: str, decimals: int) -> int:
    """``0.01`` (cents) as the exponent of its size in the token's smallest units."""
    if text.strip() in ("0", "none"):
        return 0
    units = parse_amount(text, decimals, "rounding unit")
    digits = str(units)
    if units <= 0 or digits.rstrip("0") != "1":
        raise InvalidInput(
            f"The rounding unit {text} is not a power of ten of the token's units (0.01, 1)."
        )
    return len(digits) - 1


def emit_origination(
    state: CliState, servicer: Servicer, result: Origination, principal: int
) -> None:
    """Print (or emit as JSON) an origination of ``principal`` (``loan create`` and
    ``loan originate``)."""
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


@click.command("sign-terms")
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
    servicer = terms_servicer(state, options)
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


@click.command("originate")
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
    emit_origination(state, servicer, result, signed.principal)


@click.command("allow-token")
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


@click.command("create")
@click.option("--borrower", type=ADDRESS, required=True, help="Borrower's checksummed address.")
@terms_options
@click.option("--no-approve", is_flag=True, help="Fail instead of approving the principal.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check everything and print the schedule, APR and cost; send nothing.",
)
@account_option
@json_option
@click.pass_context
def loan_create(
    ctx: click.Context,
    /,
    borrower: ChecksumAddress,
    no_approve: bool,
    dry_run: bool,
    **options: Any,
) -> None:
    """Originate a loan; the signing account is the lender and pays out the principal.

    The borrower must be a dev account of the node, whose signature over the terms the lender
    makes with its dev key; any other borrower signs the terms itself (`loan sign-terms`) and
    the lender runs `loan originate --signed-terms FILE`. With --dry-run every check runs (the
    ledger's own, by simulation) and the schedule is printed, as `loan quote` prints it; nothing
    is signed for sending and nothing is sent.
    """
    state = state_of(ctx)
    servicer = terms_servicer(state, options)
    terms = loan_terms(servicer, borrower, options)
    if dry_run:
        quoted = quote_origination(servicer, terms, as_create=True, approve=not no_approve)
        emit_quote(state, servicer, quoted)
        return
    result = servicer.originate(terms, approve=not no_approve)
    emit_origination(state, servicer, result, terms.principal)


@click.command("quote")
@click.option("--borrower", type=ADDRESS, required=True, help="Borrower's checksummed address.")
@terms_options
@json_option
@click.pass_context
def loan_quote(ctx: click.Context, /, borrower: ChecksumAddress, **options: Any) -> None:
    """The schedule, APR, total interest and total cost of a loan on these terms; sends nothing.

    The terms are those of `loan create` (the lender is the signing account); the ledger checks
    them first in a simulation of the origination, so terms it would refuse are refused here
    with the same sentence. The schedule is the one `loan schedule` shows once the loan is
    originated today.
    """
    state = state_of(ctx)
    servicer = terms_servicer(state, options)
    terms = loan_terms(servicer, borrower, options)
    emit_quote(state, servicer, quote_origination(servicer, terms))


def quote_document(quoted: LoanQuote) -> dict[str, Any]:
    """The JSON of ``loan quote`` and ``loan create --dry-run`` (amounts in smallest units;
    each installment with the keys of ``loan schedule``'s)."""
    terms = quoted.terms
    frequency = Frequency(days=terms.period_seconds // DAY, months=terms.months)
    return {
        "dry_run": True,
        "borrower": terms.borrower,
        "lender": quoted.lender,
        "decimals": quoted.decimals,
        "principal": terms.principal,
        "apr_bps": quoted.apr_bps,
        "schedule": terms.kind.label,
        "frequency": frequency.label,
        "day_count": terms.day_count.label,
        "utc_offset": cal.format_utc_offset(terms.utc_offset_minutes),
        "installments_total": len(quoted.installments),
        **dated("first_due", quoted.first_due_timestamp),
        "total_principal": quoted.total_principal,
        "total_interest": quoted.total_interest,
        "total_cost": quoted.total_cost,
        "borrower_signs_locally": quoted.borrower_signs_locally,
        **dated("as_of", quoted.as_of_timestamp),
        "installments": [
            {
                "number": i.number,
                **dated("due", i.due_timestamp),
                "due_date_local": i.due_date,
                "days": i.days,
                "principal": i.principal,
                "interest": i.interest,
                "total": i.total,
            }
            for i in quoted.installments
        ],
    }


def emit_quote(state: CliState, servicer: Servicer, quoted: LoanQuote) -> None:
    """Print (or emit as JSON) a quote (``loan quote`` and ``loan create --dry-run``)."""
    document = quote_document(quoted)
    d, symbol = quoted.decimals, servicer.token_symbol

    def render(console: Console) -> None:
        terms = quoted.terms
        console.print(
            key_value_table(
                f"Quote: {money(terms.principal, d, symbol)} to {terms.borrower}",
                [
                    ("lender", quoted.lender),
                    ("APR", f"{rate(quoted.apr_bps)} a year, {document['day_count']}"),
                    ("schedule", f"{terms.kind.label}, {len(quoted.installments)} installments"),
                    ("due", f"{document['frequency']}, dates in UTC{document['utc_offset']}"),
                    ("first due", quoted.installments[0].due_date),
                    ("total interest", money(quoted.total_interest, d, symbol)),
                    ("total cost", money(quoted.total_cost, d, symbol)),
                ],
            )
        )
        columns = [
            Column("#", "right"),
            Column("due"),
            Column("days", "right", drop=1),
            *(Column(f"{name}\n{symbol}", "right") for name in ("principal", "interest",
                                                                 "total")),
        ]  # fmt: skip
        cells = [
            [
                str(i.number),
                i.due_date,
                str(i.days),
                money(i.principal, d),
                money(i.interest, d),
                money(i.total, d),
            ]
            for i in quoted.installments
        ]
        console.print(fitted_table("Schedule", columns, cells, console.width))
        console.print(
            "The ledger accepted these terms in a simulation; nothing was signed for sending "
            "and nothing was sent."
        )

    emit(state, document, render)
