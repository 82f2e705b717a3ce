"""The ``policy`` group: a lender's origination requirements in the attestation policy
(``require`` as the lender, ``floor`` as a policy admin, ``show``). The ledger checks them at
every origination once ``data deploy --set-policy`` made the policy its origination policy."""

from __future__ import annotations

import click
from eth_typing import ChecksumAddress
from rich.console import Console

from loanservicing.cli.data import CLAIM_TYPE, DataSession, tx_hex
from loanservicing.cli.options import ADDRESS, account_option, data_options, json_option
from loanservicing.sharing.policy import Requirements

__all__ = ["policy"]


@click.group()
@data_options
def policy() -> None:
    """Set and show the attestations lenders require of borrowers."""


def _text(r: Requirements) -> str:
    if not r.claim_types:
        return "nothing"
    return f"{', '.join(r.claim_types)}, attested by {', '.join(r.attesters)}"


_TYPES = click.option(
    "--type", "claim_types", type=CLAIM_TYPE, multiple=True, help="A claim type to require."
)
_ATTESTERS = click.option(
    "--attester", "attesters", type=ADDRESS, multiple=True, help="An attester to trust."
)


@policy.command("require")
@_TYPES
@_ATTESTERS
@account_option
@json_option
@click.pass_context
def policy_require(
    ctx: click.Context, claim_types: tuple[str, ...], attesters: tuple[ChecksumAddress, ...]
) -> None:
    """As the lender (the signing account), require a valid attestation of every --type from
    one of the --attester addresses of each borrower; no --type lifts the requirements."""
    session = DataSession(ctx)
    lender = session.account().address
    client = session.policy()
    tx = client.require(lender, claim_types, attesters)
    now = client.requirements(lender)
    document = {"lender": lender, **now.to_json(), "tx_hash": tx_hex(tx)}
    session.emit(document, lambda c: c.print(f"Lender {lender} now requires {_text(now)}."))


@policy.command("floor")
@click.argument("lender", type=ADDRESS)
@_TYPES
@_ATTESTERS
@account_option
@json_option
@click.pass_context
def policy_floor(
    ctx: click.Context,
    lender: ChecksumAddress,
    claim_types: tuple[str, ...],
    attesters: tuple[ChecksumAddress, ...],
) -> None:
    """As a policy admin, set LENDER's floor: requirements the lender cannot lift."""
    session = DataSession(ctx)
    client = session.policy()
    tx = client.set_floor(session.account().address, lender, claim_types, attesters)
    now = client.floor(lender)
    document = {"lender": lender, **now.to_json(), "tx_hash": tx_hex(tx)}
    session.emit(document, lambda c: c.print(f"Lender {lender}'s floor: {_text(now)}."))


@policy.command("show")
@click.argument("lender", type=ADDRESS)
@json_option
@click.pass_context
def policy_show(ctx: click.Context, lender: ChecksumAddress) -> None:
    """What LENDER requires of borrowers, and the floor set for it."""
    session = DataSession(ctx)
    client = session.policy()
    own, floor = client.requirements(lender), client.floor(lender)
    document = {"lender": lender, "requirements": own.to_json(), "floor": floor.to_json()}

    def render(c: Console) -> None:
        c.print(f"Lender {lender} requires {_text(own)}; its floor: {_text(floor)}.")

    session.emit(document, render)
