"""``vault put|get|erase|log``: the encrypted personal-data vault, its consent-checked reads,
its hash-chained access log and erasure."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from web3 import Web3

from loanservicing.cli.data import CLAIM_TYPE, DataSession, key_values, read_document
from loanservicing.cli.options import ADDRESS, account_option, data_options, json_option
from loanservicing.cli.output import Column, dated, fitted_table
from loanservicing.sharing.vault import sign_access_request

__all__ = ["vault"]


@click.group()
@data_options
def vault() -> None:
    """The encrypted personal-data vault: consent-checked reads, access log, erasure."""


@vault.command("put")
@click.argument("subject", type=ADDRESS)
@click.option("--category", type=CLAIM_TYPE, required=True)
@click.option("--document", type=click.Path(path_type=Path, dir_okay=False), required=True)
@json_option
@click.pass_context
def vault_put(ctx: click.Context, subject: str, category: str, document: Path) -> None:
    """Store DOCUMENT (JSON) as SUBJECT's CATEGORY document, encrypted (no attestation)."""
    session = DataSession(ctx)
    stored = session.vault(with_consents=False).store(subject, category, read_document(document))
    result = {
        "subject": subject,
        "category": category,
        "document_id": stored.document_id,
        "claim_hash": "0x" + stored.claim_hash.hex(),
    }
    session.emit(result, key_values("Document stored", list(result.items())))


@vault.command("get")
@click.argument("subject", type=ADDRESS)
@click.option("--category", type=CLAIM_TYPE, required=True)
@click.option("--access-tx", help="Regulators: the transaction that recorded the access.")
@click.option("--basis", help="Regulators: the legal basis, as stated in that record.")
@account_option
@json_option
@click.pass_context
def vault_get(
    ctx: click.Context, subject: str, category: str, access_tx: str | None, basis: str | None
) -> None:
    """Read SUBJECT's newest CATEGORY document as the account: refused (and logged) without
    the subject's on-chain consent or a matching regulator access record."""
    session = DataSession(ctx)
    reader = session.account()
    request = sign_access_request(
        reader, Web3.to_checksum_address(subject), category, session.now(), access_tx, basis
    )
    document = session.vault().read(request)
    result = {
        "subject": subject,
        "category": category,
        "reader": reader.address,
        "document": document,
    }
    session.emit(result, lambda c: c.print_json(json.dumps(document, ensure_ascii=False)))


@vault.command("erase")
@click.argument("subject", type=ADDRESS)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_context
def vault_erase(ctx: click.Context, subject: str, yes: bool) -> None:
    """Erase SUBJECT's personal data by destroying its data keys and claim salts. Nothing on
    chain changes; the documents can no longer be decrypted nor matched to their hashes."""
    session = DataSession(ctx)
    if not yes and not session.state.json:
        click.confirm(
            f"Destroy every data key and salt of {subject}? This cannot be undone",
            abort=True,
            err=True,
        )
    result = {"subject": subject, **session.vault(with_consents=False).erase(subject)}
    session.emit(result, key_values("Erased", list(result.items())))


@vault.command("log")
@click.argument("subject", type=ADDRESS)
@json_option
@click.pass_context
def vault_log(ctx: click.Context, subject: str) -> None:
    """SUBJECT's access-log entries and a check of the whole log's hash chain (exit 1 when it
    is broken)."""
    session = DataSession(ctx)
    store = session.vault(with_consents=False)
    check = store.verify_log()
    entries = [
        {
            "seq": e.seq,
            **dated("at", e.at),
            "chain_time": e.chain_time,
            "action": e.action,
            "actor": e.actor,
            "category": e.category,
            "decision": e.decision,
            "detail": e.detail,
            "entry_hash": e.entry_hash,
        }
        for e in store.log_entries(subject)
    ]
    result = {
        "subject": subject,
        "entries": entries,
        "chain_ok": check.ok,
        "entries_checked": check.entries,
        "problems": check.problems,
    }

    def render(c: Console) -> None:
        columns = [
            Column("seq", "right"),
            Column("at"),
            Column("action"),
            Column("actor", kind="id"),
            Column("category", drop=1),
            Column("decision", kind="words"),
        ]
        cells = [
            [
                str(e["seq"]),
                e["at_date"] or "",
                e["action"],
                e["actor"],
                e["category"] or "—",
                e["decision"],
            ]
            for e in entries
        ]
        c.print(fitted_table(f"Vault access log of {subject}", columns, cells, c.width))
        verdict = "intact" if check.ok else "BROKEN: " + " ".join(check.problems)
        c.print(f"Hash chain over {check.entries} entries: {verdict}")

    session.emit(result, render)
    if not check.ok:
        ctx.exit(1)
