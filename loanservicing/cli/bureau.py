"""``report metro2``: the month's Metro 2 file for a credit bureau (header, one base segment
per account, trailer), from the event index, with each borrower's identity read through the
personal-data vault as the bureau.

The data-sharing options (``--data-deployment``, ``--vault-dir``, ``--key-store``) are
accepted after ``report`` and after ``metro2``. The vault's reads are signed by the bureau's
key: ``--private-key-env NAME``, or on a dev chain the dev account whose address ``--bureau``
is (``--account N`` names it explicitly).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.cli.data import DataSession
from loanservicing.cli.index import deployment_indexer
from loanservicing.cli.options import ADDRESS, account_option, data_options, db_option, json_option
from loanservicing.cli.output import Column, fitted_table
from loanservicing.indexing.connection import parse_location
from loanservicing.indexing.database import IndexDB
from loanservicing.monitoring.errors import BureauReportError
from loanservicing.monitoring.loan_history import loan_histories
from loanservicing.monitoring.metro2 import Reporter, metro2_file, reporting_month
from loanservicing.monitoring.metro2_identity import (
    IDENTITY_CATEGORY,
    LEFT_OUT_REASONS,
    read_identities,
)
from loanservicing.monitoring.repayment_history import repayments_of
from loanservicing.sharing.attestations import ATTESTER_KINDS
from loanservicing.sharing.errors import DataSharingError
from loanservicing.sharing.vault import sign_access_request

__all__ = ["report_metro2"]

_DEV_ACCOUNTS = 10


def _bureau_account(session: DataSession, bureau: str) -> LocalAccount:
    """The key that signs the vault reads: it must be the bureau's."""
    state = session.state
    if state.account is None and state.private_key_env is None and state.is_dev():
        for index in range(_DEV_ACCOUNTS):
            if dev_signer(index).address == bureau:
                return session.account(index)
    account = session.account()
    if account.address != bureau:
        raise DataSharingError(
            f"The vault reads are signed by the bureau, but the key given is {account.address}'s"
            f", not {bureau}'s: pass --private-key-env NAME with the bureau's key."
        )
    return account


def _check_bureau(session: DataSession, bureau: str) -> None:
    registry = session.contracts().attestation_registry
    kind, active, _registered = registry.functions.attester(bureau).call()
    if int(kind) != ATTESTER_KINDS["credit-bureau"] or not active:
        raise DataSharingError(
            f"{bureau} is not a registered credit bureau on the attestation registry "
            f"{registry.address}; register it with `attester register {bureau} --kind "
            "credit-bureau`."
        )


@click.command("metro2")
@click.option("--month", "month_text", required=True, help="The month to furnish: YYYY-MM.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    required=True,
    help="The Metro 2 file to write (426-character records, one a line).",
)
@click.option(
    "--bureau",
    type=ADDRESS,
    required=True,
    help="The credit bureau: a registered credit-bureau attester the borrowers consent to.",
)
@click.option(
    "--furnisher-id",
    default=None,
    help="Identification number the bureau assigned (default: the ledger address's first 20 "
    "hex digits).",
)
@click.option("--reporter-name", default="LOANSERVICING", show_default=True)
@data_options
@db_option
@account_option
@json_option
@click.pass_context
def report_metro2(
    ctx: click.Context,
    month_text: str,
    out: Path,
    bureau: str,
    furnisher_id: str | None,
    reporter_name: str,
    db_path: str,
) -> None:
    """Write the Metro 2 file of MONTH's accounts (figures at the month's last day) into OUT:
    borrowers whose identity the bureau may not read through the vault (no consent, erased)
    are left out and counted (syncs the index first)."""
    session = DataSession(ctx)
    state = session.state
    now = session.now()
    year, month = reporting_month(month_text, now)
    location = parse_location(db_path)
    if location.kind == "sqlite" and not Path(location.target).is_file():
        raise BureauReportError(
            f"No event index at {location}: build it with `loanservicing index sync --db "
            f"{location}` first."
        )
    bureau = Web3.to_checksum_address(bureau)
    _check_bureau(session, bureau)
    reader = _bureau_account(session, bureau)
    deployment = state.deployment()
    token = deployment.token.address
    with IndexDB(db_path) as db:
        indexer, _ = deployment_indexer(state, db)
        indexer.sync()
        decimals = db.token_decimals().get(token, 0)
        loans = {i: s for i, s in db.loans().items() if s.token.lower() == token.lower()}
        histories = loan_histories(db, loans)
        repayments = repayments_of(db, loans)
    borrowers = {s.borrower for s in loans.values()}
    issued_at = session.now()
    identities = read_identities(
        session.vault(),
        lambda subject: sign_access_request(
            reader, Web3.to_checksum_address(subject), IDENTITY_CATEGORY, issued_at
        ),
        borrowers,
    )
    reporter = Reporter(
        identification_number=furnisher_id or deployment.ledger.address[2:22].upper(),
        name=reporter_name,
    )
    created = dt.datetime.fromtimestamp(now, dt.UTC).date()
    furnished = metro2_file(
        histories, repayments, identities, year, month, decimals, reporter, created
    )
    out.write_text(furnished.text(), encoding="ascii")
    document = {
        "out": str(out),
        "bureau": bureau,
        "decimals": decimals,
        "amount_unit": "whole currency units: token amounts divided by 10**decimals, rounded "
        "down (Metro 2 amounts have no decimals)",
        **furnished.summary(),
    }

    def render(c: Console) -> None:
        summary = document
        c.print(
            f"Metro 2 file for {summary['month']} in {out}: {summary['accounts_written']} "
            f"accounts written ({summary['records']} records, header and trailer included)."
        )
        columns = [Column("account status"), Column("accounts", "right")]
        rows = [[code, str(n)] for code, n in summary["by_status"].items()]
        c.print(fitted_table("Accounts by status", columns, rows, c.width))
        c.print(
            f"Current balance {summary['current_balance']:,}, amount past due "
            f"{summary['amount_past_due']:,} (whole currency units, cents dropped)."
        )
        if furnished.left_out:
            c.print(
                f"{summary['accounts_left_out']} accounts of {summary['borrowers_left_out']} "
                "borrowers left out:"
            )
            for reason, n in summary["left_out_by_reason"].items():
                c.print(f"  - {n}: {LEFT_OUT_REASONS.get(reason, reason)}", markup=False)
        else:
            c.print("No account left out.")

    session.emit(document, render)
