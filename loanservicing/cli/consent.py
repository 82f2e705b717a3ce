"""``consent grant|revoke|list|regulator-access``: borrowers' consent to viewers, by data
category, and the regulators' access records."""

from __future__ import annotations

import click
from rich.console import Console
from web3 import Web3

from loanservicing.cli.data import DataSession, expiry_of, key_values, tx_hex
from loanservicing.cli.options import ADDRESS, account_option, data_options, json_option
from loanservicing.cli.output import Column, dated, fitted_table
from loanservicing.sharing.attestations import CLAIM_CATEGORIES
from loanservicing.sharing.consent import category_names, legal_basis_hash, parse_categories

__all__ = ["consent"]


@click.group()
@data_options
def consent() -> None:
    """Borrowers' consent to viewers, by data category; regulator access records."""


def _categories(text: str) -> int:
    return parse_categories(text)


@consent.command("grant")
@click.option("--viewer", type=ADDRESS, required=True)
@click.option(
    "--categories",
    required=True,
    help=f"Comma-separated, of: {','.join(CLAIM_CATEGORIES)}.",
)
@click.option(
    "--until",
    "until_text",
    required=True,
    help="Expiry: ISO 8601 date or date-time (UTC), unix seconds, or 90d from now.",
)
@account_option
@json_option
@click.pass_context
def consent_grant(ctx: click.Context, viewer: str, categories: str, until_text: str) -> None:
    """Let VIEWER read the account's (the borrower's) data in CATEGORIES until the expiry."""
    session = DataSession(ctx)
    mask = _categories(categories)
    until = expiry_of(session, until_text)
    borrower = session.account()
    tx = session.consents().grant(borrower.address, Web3.to_checksum_address(viewer), mask, until)
    result = {
        "borrower": borrower.address,
        "viewer": viewer,
        "categories": category_names(mask),
        **dated("until", until),
        "tx_hash": tx_hex(tx),
    }
    session.emit(result, key_values("Consent granted", list(result.items())))


@consent.command("revoke")
@click.option("--viewer", type=ADDRESS, required=True)
@account_option
@json_option
@click.pass_context
def consent_revoke(ctx: click.Context, viewer: str) -> None:
    """Withdraw every category the account (the borrower) granted to VIEWER."""
    session = DataSession(ctx)
    borrower = session.account()
    tx = session.consents().revoke(borrower.address, Web3.to_checksum_address(viewer))
    result = {"borrower": borrower.address, "viewer": viewer, "tx_hash": tx_hex(tx)}
    session.emit(result, key_values("Consent revoked", list(result.items())))


@consent.command("list")
@click.argument("borrower", type=ADDRESS)
@json_option
@click.pass_context
def consent_list(ctx: click.Context, borrower: str) -> None:
    """Every viewer BORROWER ever granted to, with the grant in force now."""
    session = DataSession(ctx)
    now = session.now()
    grants = [
        {
            "viewer": g.viewer,
            "categories": category_names(g.categories),
            **dated("granted", g.granted_at or None),
            **dated("until", g.expires_at or None),
            "active": g.categories != 0 and now <= g.expires_at,
        }
        for g in session.consents().grants(Web3.to_checksum_address(borrower))
    ]
    result = {"borrower": borrower, "grants": grants}

    def render(c: Console) -> None:
        columns = [
            Column("viewer", kind="id"),
            Column("categories", kind="words"),
            Column("until"),
            Column("active"),
        ]
        cells = [
            [
                g["viewer"],
                ", ".join(g["categories"]) or "—",
                g["until_date"] or "—",
                "yes" if g["active"] else "no",
            ]
            for g in grants
        ]
        c.print(fitted_table(f"Consents of {borrower}", columns, cells, c.width))

    session.emit(result, render)


@consent.command("regulator-access")
@click.argument("borrower", type=ADDRESS)
@click.option("--categories", required=True)
@click.option("--basis", required=True, help="The legal basis, stated in words.")
@account_option
@json_option
@click.pass_context
def consent_regulator_access(
    ctx: click.Context, borrower: str, categories: str, basis: str
) -> None:
    """Record on chain that the account (a regulator) accesses BORROWER's CATEGORIES under
    BASIS; pass the printed tx hash to `vault get --access-tx` with the same --basis."""
    session = DataSession(ctx)
    regulator = session.account()
    access = session.consents().record_regulator_access(
        regulator.address, Web3.to_checksum_address(borrower), _categories(categories), basis
    )
    result = {
        "access_id": access.access_id,
        "regulator": access.regulator,
        "borrower": access.borrower,
        "categories": category_names(access.categories),
        "legal_basis_hash": "0x" + legal_basis_hash(basis).hex(),
        "tx_hash": access.tx_hash.to_0x_hex(),
    }
    session.emit(result, key_values("Regulator access recorded", list(result.items())))
