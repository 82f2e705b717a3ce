"""``attester register`` and ``attest issue|show|verify|revoke``: attesters vouch for facts
about borrowers with salted hashes on chain; the documents stay in the vault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from web3 import Web3

from loanservicing.amounts import InvalidInput, parse_duration
from loanservicing.cli.data import (
    CLAIM_TYPE,
    DataSession,
    key_values,
    read_document,
    tx_hex,
)
from loanservicing.cli.options import ADDRESS, account_option, data_options, json_option
from loanservicing.cli.output import dated
from loanservicing.sharing.attestations import ATTESTER_KINDS, claim_type_id, claim_type_label
from loanservicing.sharing.errors import DataSharingError

__all__ = ["attest", "attester"]


@click.group()
@data_options
def attester() -> None:
    """Register attesters (employers, income verifiers, KYC providers, credit bureaus)."""


@attester.command("register")
@click.argument("address", type=ADDRESS)
@click.option("--kind", type=click.Choice(list(ATTESTER_KINDS)), required=True)
@account_option
@json_option
@click.pass_context
def attester_register(ctx: click.Context, address: str, kind: str) -> None:
    """Register ADDRESS as an attester of KIND (the account must be the registry's admin)."""
    session = DataSession(ctx)
    admin = session.account()
    tx = session.attestations().register_attester(
        admin.address, Web3.to_checksum_address(address), kind
    )
    document = {"attester": address, "kind": kind, "tx_hash": tx_hex(tx)}
    session.emit(document, key_values("Attester registered", list(document.items())))


@click.group()
@data_options
def attest() -> None:
    """Issue, verify and revoke attestations (salted hashes on chain, documents in the vault)."""


@attest.command("issue")
@click.option("--subject", type=ADDRESS, required=True, help="The borrower's address.")
@click.option("--type", "claim", type=CLAIM_TYPE, required=True, help="Claim type.")
@click.option(
    "--document",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="JSON document the claim is about (stored encrypted in the vault).",
)
@click.option("--valid-for", default="365d", show_default=True, help="Validity (30d, 12h...).")
@click.option(
    "--submitter",
    type=click.IntRange(min=0),
    default=None,
    help="Dev account that submits and pays gas (default: the attester).",
)
@account_option
@json_option
@click.pass_context
def attest_issue(
    ctx: click.Context,
    subject: str,
    claim: str,
    document: Path,
    valid_for: str,
    submitter: int | None,
) -> None:
    """Sign an attestation as the account (the attester), store the document in the vault
    and submit the signature on chain."""
    session = DataSession(ctx)
    content = read_document(document)
    try:
        seconds = parse_duration(valid_for, "validity")
    except InvalidInput as exc:
        raise DataSharingError(str(exc)) from None
    signer = session.account()
    relayer = signer if submitter is None else session.account(submitter)
    client = session.attestations()
    registered = client.registry.functions.attester(signer.address).call()
    if not registered[1]:
        raise DataSharingError(f"{signer.address} is not a registered attester.")
    vault = session.vault()
    stored = vault.store(subject, claim, content)
    signed = client.sign(
        signer,
        Web3.to_checksum_address(subject),
        claim_type_id(claim),
        stored.claim_hash,
        session.now() + seconds,
    )
    attestation_id, tx = client.submit(signed, relayer.address)
    vault.link_attestation(stored.document_id, attestation_id)
    result = {
        "attestation_id": attestation_id,
        "claim_hash": "0x" + stored.claim_hash.hex(),
        "tx_hash": tx_hex(tx),
        "attester": signer.address,
        "subject": subject,
        "type": claim,
        **dated("valid_until", signed.valid_until),
        "document_id": stored.document_id,
    }
    session.emit(result, key_values(f"Attestation {attestation_id}", list(result.items())))


def _record_document(session: DataSession, attestation_id: int) -> dict[str, Any]:
    record = session.attestations().get(attestation_id)
    return {
        "attestation_id": attestation_id,
        "attester": record.attester,
        "subject": record.subject,
        "type": claim_type_label(record.claim_type),
        "claim_hash": "0x" + record.claim_hash.hex(),
        **dated("issued_at", record.issued_at),
        **dated("valid_until", record.valid_until),
        "revoked": record.revoked,
        **dated("revoked_at", record.revoked_at or None),
        "valid_now": bool(
            session.contracts().attestation_registry.functions.isValid(attestation_id).call()
        ),
    }


@attest.command("show")
@click.argument("attestation_id", type=click.IntRange(min=1))
@json_option
@click.pass_context
def attest_show(ctx: click.Context, attestation_id: int) -> None:
    """Show attestation ID as stored on chain."""
    session = DataSession(ctx)
    result = _record_document(session, attestation_id)
    session.emit(result, key_values(f"Attestation {attestation_id}", list(result.items())))


@attest.command("verify")
@click.argument("attestation_id", type=click.IntRange(min=1))
@click.option("--document", type=click.Path(path_type=Path, dir_okay=False), required=True)
@json_option
@click.pass_context
def attest_verify(ctx: click.Context, attestation_id: int, document: Path) -> None:
    """Check that DOCUMENT is what attestation ID vouches for: the salted hash matches, the
    signature is the attester's, not revoked, not expired. Exit 1 when it is not valid."""
    session = DataSession(ctx)
    content = read_document(document)
    count = session.attestations().count()
    if attestation_id > count:
        raise DataSharingError(
            f"There is no attestation {attestation_id}; the registry holds {count}."
        )
    vault = session.vault(with_consents=False)
    document_id = vault.document_for_attestation(attestation_id)
    salt = vault.salt(document_id) if document_id else None
    if document_id is None:
        verification_dict = {
            "valid": False,
            "reason": "The vault holds no document for this attestation.",
        }
    else:
        verification = session.attestations().verify(attestation_id, content, salt)
        verification_dict = {"valid": verification.valid, "reason": verification.reason}
    result = {"attestation_id": attestation_id, **verification_dict}
    session.emit(result, key_values(f"Attestation {attestation_id}", list(result.items())))
    if not result["valid"]:
        ctx.exit(1)


@attest.command("revoke")
@click.argument("attestation_id", type=click.IntRange(min=1))
@account_option
@json_option
@click.pass_context
def attest_revoke(ctx: click.Context, attestation_id: int) -> None:
    """Revoke attestation ID (the account must be its attester)."""
    session = DataSession(ctx)
    signer = session.account()
    tx = session.attestations().revoke(attestation_id, signer.address)
    result = {"attestation_id": attestation_id, "revoked": True, "tx_hash": tx_hex(tx)}
    session.emit(result, key_values(f"Attestation {attestation_id} revoked", list(result.items())))
