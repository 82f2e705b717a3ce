"""Command groups for multi-party credit data sharing: ``attester``, ``attest``, ``consent``,
``vault`` and ``report audit`` / ``report audit-verify`` (plus ``data deploy``).

They share the main CLI's state (``--rpc-url``, ``--account``, ``--private-key-env``,
``--deployment``, ``--json``) and add their own options: ``--data-deployment FILE`` (default
``deployments/data-<chain_id>.json``), ``--vault-dir DIR`` (default
``.loanservicing/vault-<chain_id>``, env LOANSERVICING_VAULT_DIR) and ``--key-store FILE``
(default ``<vault-dir>/keys/keys.db``; put it on another volume in production).

Mount them on the main command with ``register(cli)``; or run them standalone:
``python -m loanservicing.cli.data --rpc-url URL attest issue ...``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder

from loanservicing.amounts import InvalidInput, parse_date, parse_duration
from loanservicing.chain.node import chain_time
from loanservicing.cli.app import (
    ADDRESS,
    CliState,
    ServicingGroup,
    account_option,
    dated,
    emit,
    json_option,
    key_value_table,
    state_of,
)
from loanservicing.demo.data_sharing import DEV_MNEMONIC, personal_values, run_data_sharing
from loanservicing.deployment.deploy import revert_decoder
from loanservicing.deployment.deploy_data import (
    DataContracts,
    deploy_data_contracts,
    deployment_path,
    load_data_deployment,
    write_data_deployment,
)
from loanservicing.sharing.attestations import (
    ATTESTER_KINDS,
    CLAIM_CATEGORIES,
    AttestationClient,
    claim_type_id,
    claim_type_label,
)
from loanservicing.sharing.audit import AuditSources, export_bundle, verify_bundle
from loanservicing.sharing.consent import (
    ConsentClient,
    category_names,
    legal_basis_hash,
    parse_categories,
)
from loanservicing.sharing.errors import DataSharingError
from loanservicing.sharing.privacy_scan import scan_chain
from loanservicing.sharing.vault import Vault, sign_access_request

__all__ = ["data_cli", "main", "register"]

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- settings


@dataclass
class DataSettings:
    data_deployment: Path | None = None
    vault_dir: Path | None = None
    key_store: Path | None = None


def _settings(ctx: click.Context) -> DataSettings:
    settings = ctx.find_root().meta.get("loanservicing.data")
    if settings is None:
        settings = DataSettings()
        ctx.find_root().meta["loanservicing.data"] = settings
    return settings


def _setter(attr: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(_settings(ctx), attr, value)

    return callback


def data_options(f: F) -> F:
    """``--data-deployment``, ``--vault-dir`` and ``--key-store``, accepted on every group."""
    f = click.option(
        "--key-store",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=_setter("key_store"),
        help="Key store SQLite file (default <vault-dir>/keys/keys.db).",
    )(f)
    f = click.option(
        "--vault-dir",
        type=click.Path(path_type=Path, file_okay=False),
        envvar="LOANSERVICING_VAULT_DIR",
        expose_value=False,
        callback=_setter("vault_dir"),
        help="Vault directory (env LOANSERVICING_VAULT_DIR; default .loanservicing/vault-<chain>).",
    )(f)
    return click.option(
        "--data-deployment",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=_setter("data_deployment"),
        help="Data-sharing deployment file (default deployments/data-<chain_id>.json).",
    )(f)


# --------------------------------------------------------------------------- session


class DataSession:
    """The connection, contracts, clients and vault for one invocation."""

    def __init__(self, ctx: click.Context) -> None:
        self.ctx = ctx
        self.state: CliState = state_of(ctx)
        self.settings = _settings(ctx)
        if self.state.embedded:
            raise DataSharingError(
                "The data-sharing commands need a running node with the contracts deployed: "
                "pass --rpc-url (or set LOANSERVICING_RPC_URL)."
            )
        self.w3 = self.state.connect()
        self.chain_id = int(self.w3.eth.chain_id)
        self.artifacts = self.state.artifacts()
        self.decoder = revert_decoder(self.artifacts)
        self._contracts: DataContracts | None = None
        self._signing: set[str] = set()

    # -- accounts ----------------------------------------------------------------
    def account(self, index: int | None = None) -> LocalAccount:
        """The local account named by --private-key-env, or dev account ``index`` (default:
        --account, else 0) on a dev chain; transactions from it are signed locally."""
        if self.state.keystore is not None:
            raise DataSharingError(
                "The data-sharing commands sign typed data with the key itself; use "
                "--private-key-env NAME (or a dev --account) instead of --keystore."
            )
        if index is None and self.state.private_key_env is not None:
            key = os.environ.get(self.state.private_key_env, "").strip()
            if not key:
                raise DataSharingError(
                    f"The environment variable {self.state.private_key_env} holds no key."
                )
            try:
                account: LocalAccount = Account.from_key(key)
            except (ValueError, TypeError):
                raise DataSharingError(
                    f"The environment variable {self.state.private_key_env} does not hold a "
                    "valid private key."
                ) from None
        else:
            if not self.state.is_dev():
                raise DataSharingError(
                    "Dev accounts exist only on dev chains; pass --private-key-env NAME here."
                )
            Account.enable_unaudited_hdwallet_features()
            chosen = index if index is not None else (self.state.account or 0)
            account = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{chosen}")
        if account.address not in self._signing:
            self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
            self._signing.add(account.address)
        return account

    # -- contracts -----------------------------------------------------------------
    def contracts(self) -> DataContracts:
        if self._contracts is None:
            path = self.settings.data_deployment or deployment_path(self.chain_id)
            if not path.is_file():
                raise DataSharingError(
                    f"No data-sharing deployment file at {path}; run `data deploy` first or "
                    "pass --data-deployment FILE."
                )
            self._contracts = load_data_deployment(path, self.w3, self.artifacts)
        return self._contracts

    def attestations(self) -> AttestationClient:
        return AttestationClient(self.w3, self.contracts().attestation_registry, self.decoder)

    def consents(self) -> ConsentClient:
        return ConsentClient(self.w3, self.contracts().consent_registry, self.decoder)

    def vault(self, with_consents: bool = True) -> Vault:
        directory = self.settings.vault_dir or Path(".loanservicing") / f"vault-{self.chain_id}"
        key_store = self.settings.key_store or directory / "keys" / "keys.db"
        return Vault(directory / "vault.db", key_store, self.consents() if with_consents else None)

    def ledger_sources(self, ledger: str | None, registry: str | None) -> tuple[Contract, Contract]:
        if ledger is None or registry is None:
            deployment = self.state.deployment()
            ledger = ledger or deployment.ledger.address
            registry = registry or deployment.credit_registry.address
        return (
            self.w3.eth.contract(
                address=Web3.to_checksum_address(ledger), abi=self.artifacts["LoanLedger"].abi
            ),
            self.w3.eth.contract(
                address=Web3.to_checksum_address(registry), abi=self.artifacts["CreditRegistry"].abi
            ),
        )

    def now(self) -> int:
        return chain_time(self.w3)

    def emit(self, document: dict[str, Any], render: Callable[[Console], None]) -> None:
        emit(self.state, document, render)


def _read_document(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except OSError as exc:
        raise DataSharingError(f"Cannot read the document {path}: {exc.strerror}.") from None
    except ValueError as exc:
        raise DataSharingError(f"The document {path} is not valid JSON: {exc}.") from None


def _until(session: DataSession, text: str) -> int:
    """``90d`` (from now on chain) or an ISO 8601 date / unix seconds."""
    try:
        if text.strip()[-1:].lower() in ("d", "h", "m", "s") and not text.strip()[:4].isdigit():
            return session.now() + parse_duration(text, "expiry")
        return parse_date(text, "expiry")
    except InvalidInput as exc:
        raise DataSharingError(str(exc)) from None


def _table(title: str, rows: list[tuple[str, Any]]) -> Callable[[Console], None]:
    return lambda c: c.print(key_value_table(title, [(k, str(v)) for k, v in rows]))


def _tx(receipt_hash: Any) -> str:
    return Web3.to_hex(receipt_hash)


CLAIM_TYPE = click.Choice(list(CLAIM_CATEGORIES))


# --------------------------------------------------------------------------- data deploy


@click.group(cls=ServicingGroup)
@data_options
def data() -> None:
    """Deploy the data-sharing contracts."""


@data.command("deploy")
@click.option(
    "--regulator",
    "regulators",
    type=ADDRESS,
    multiple=True,
    help="Grant the regulator role to ADDRESS (repeatable).",
)
@click.option(
    "--set-policy",
    is_flag=True,
    help="Make the attestation policy the ledger's origination policy.",
)
@click.option("--ledger", type=ADDRESS, help="Ledger address (default: the deployment file's).")
@account_option
@json_option
@click.pass_context
def data_deploy(
    ctx: click.Context, regulators: tuple[str, ...], set_policy: bool, ledger: str | None
) -> None:
    """Deploy the attestation registry, consent registry and attestation policy (the account
    becomes their admin) and write the data deployment file."""
    session = DataSession(ctx)
    admin = session.account()
    ledger_contract = None
    if set_policy:
        address = ledger or session.state.deployment().ledger.address
        ledger_contract = session.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=session.artifacts["LoanLedger"].abi
        )
    contracts = deploy_data_contracts(
        session.w3,
        session.artifacts,
        admin.address,
        [Web3.to_checksum_address(r) for r in regulators],
        ledger_contract,
        set_policy,
    )
    path = session.settings.data_deployment or deployment_path(session.chain_id)
    write_data_deployment(path, session.chain_id, contracts)
    document = {
        "chain_id": session.chain_id,
        **contracts.addresses(),
        "block": contracts.block,
        "file": str(path),
        "policy_set": set_policy,
    }
    session.emit(document, _table("Data-sharing contracts", list(document.items())))


@data.command("scenario")
@click.option("--ledger", type=ADDRESS, help="Ledger address (default: the deployment file's).")
@click.option("--token", type=ADDRESS, help="Token owned by dev account 0 (default: the file's).")
@click.option(
    "--enforce-policy/--no-enforce-policy",
    default=True,
    show_default=True,
    help="Make the ledger require attestations for dev account 0's loans.",
)
@json_option
@click.pass_context
def data_scenario(
    ctx: click.Context, ledger: str | None, token: str | None, enforce_policy: bool
) -> None:
    """Dev chains: deploy fresh data-sharing contracts and run the sample scenario (three
    borrowers attested by an employer and an ERC-1271 KYC wallet, consents to the lender,
    a refused read, a regulator read, loans and repayments, one erasure); writes the data
    deployment file so the other commands work on it."""
    session = DataSession(ctx)
    if not session.state.is_dev():
        raise DataSharingError("The scenario uses Anvil's dev accounts: run it on a dev chain.")
    if ledger is None or token is None:
        deployment = session.state.deployment()
        ledger = ledger or deployment.ledger.address
        token = token or deployment.token.address
    w3, a = session.w3, session.artifacts
    directory = session.settings.vault_dir or Path(".loanservicing") / f"vault-{session.chain_id}"
    summary = run_data_sharing(
        w3,
        a,
        w3.eth.contract(address=Web3.to_checksum_address(ledger), abi=a["LoanLedger"].abi),
        w3.eth.contract(address=Web3.to_checksum_address(token), abi=a["TestStablecoin"].abi),
        directory,
        enforce_policy=enforce_policy,
        key_store=session.settings.key_store,
    )
    path = session.settings.data_deployment or deployment_path(session.chain_id)
    write_data_deployment(path, session.chain_id, summary.contracts)
    shared = summary.shared_with_whom()
    result = {
        **summary.contracts.addresses(),
        "attestations": len(summary.attestations),
        "loans": summary.loans,
        "erased": summary.erased,
        "shared": shared,
    }

    def render(c: Console) -> None:
        c.print("What was shared with whom:")
        for line in shared:
            c.print(f"  - {line}", markup=False)

    session.emit(result, render)


# --------------------------------------------------------------------------- attester


@click.group(cls=ServicingGroup)
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
    document = {"attester": address, "kind": kind, "tx_hash": _tx(tx)}
    session.emit(document, _table("Attester registered", list(document.items())))


# --------------------------------------------------------------------------- attest


@click.group(cls=ServicingGroup)
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
    content = _read_document(document)
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
        "tx_hash": _tx(tx),
        "attester": signer.address,
        "subject": subject,
        "type": claim,
        **dated("valid_until", signed.valid_until),
        "document_id": stored.document_id,
    }
    session.emit(result, _table(f"Attestation {attestation_id}", list(result.items())))


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
    session.emit(result, _table(f"Attestation {attestation_id}", list(result.items())))


@attest.command("verify")
@click.argument("attestation_id", type=click.IntRange(min=1))
@click.option("--document", type=click.Path(path_type=Path, dir_okay=False), required=True)
@json_option
@click.pass_context
def attest_verify(ctx: click.Context, attestation_id: int, document: Path) -> None:
    """Check that DOCUMENT is what attestation ID vouches for: the salted hash matches, the
    signature is the attester's, not revoked, not expired. Exit 1 when it is not valid."""
    session = DataSession(ctx)
    content = _read_document(document)
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
    session.emit(result, _table(f"Attestation {attestation_id}", list(result.items())))
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
    result = {"attestation_id": attestation_id, "revoked": True, "tx_hash": _tx(tx)}
    session.emit(result, _table(f"Attestation {attestation_id} revoked", list(result.items())))


# --------------------------------------------------------------------------- consent


@click.group(cls=ServicingGroup)
@data_options
def consent() -> None:
    """Borrowers' consent to viewers, by data category; regulator access records."""


def _categories(text: str) -> int:
    return parse_categories(text)


@consent.command("grant")
@click.option("--viewer", type=ADDRESS, required=True)
@click.option("--categories", required=True, help="identity,employment,income,repayment-history")
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
    until = _until(session, until_text)
    borrower = session.account()
    tx = session.consents().grant(borrower.address, Web3.to_checksum_address(viewer), mask, until)
    result = {
        "borrower": borrower.address,
        "viewer": viewer,
        "categories": category_names(mask),
        **dated("until", until),
        "tx_hash": _tx(tx),
    }
    session.emit(result, _table("Consent granted", list(result.items())))


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
    result = {"borrower": borrower.address, "viewer": viewer, "tx_hash": _tx(tx)}
    session.emit(result, _table("Consent revoked", list(result.items())))


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
        table = Table(title=f"Consents of {borrower}", title_justify="left")
        for column in ("viewer", "categories", "until", "active"):
            table.add_column(column)
        for g in grants:
            table.add_row(
                g["viewer"],
                ", ".join(g["categories"]) or "-",
                g["until_date"] or "-",
                "yes" if g["active"] else "no",
            )
        c.print(table)

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
    session.emit(result, _table("Regulator access recorded", list(result.items())))


# --------------------------------------------------------------------------- vault


@click.group(cls=ServicingGroup)
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
    stored = session.vault(with_consents=False).store(subject, category, _read_document(document))
    result = {
        "subject": subject,
        "category": category,
        "document_id": stored.document_id,
        "claim_hash": "0x" + stored.claim_hash.hex(),
    }
    session.emit(result, _table("Document stored", list(result.items())))


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
    session.emit(result, _table("Erased", list(result.items())))


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
        table = Table(title=f"Vault access log of {subject}", title_justify="left")
        for column in ("seq", "at", "action", "actor", "category", "decision"):
            table.add_column(column)
        for e in entries:
            table.add_row(
                str(e["seq"]),
                e["at_date"] or "",
                e["action"],
                e["actor"],
                e["category"],
                e["decision"],
            )
        c.print(table)
        verdict = "intact" if check.ok else "BROKEN: " + " ".join(check.problems)
        c.print(f"Hash chain over {check.entries} entries: {verdict}")

    session.emit(result, render)
    if not check.ok:
        ctx.exit(1)


# --------------------------------------------------------------------------- report


@click.group(cls=ServicingGroup)
@data_options
def report() -> None:
    """Regulator reports."""


@click.command("audit")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option(
    "--from-block",
    type=click.IntRange(min=0),
    default=None,
    help="First block (default: the data deployment's block, else 0).",
)
@click.option("--to-block", type=click.IntRange(min=0), default=None, help="Default: latest.")
@click.option("--ledger", type=ADDRESS, help="Ledger address (default: the deployment file's).")
@click.option("--credit-registry", type=ADDRESS, help="Default: the deployment file's.")
@data_options
@json_option
@click.pass_context
def report_audit(
    ctx: click.Context,
    out: Path,
    from_block: int | None,
    to_block: int | None,
    ledger: str | None,
    credit_registry: str | None,
) -> None:
    """Write the regulator's audit bundle (CSV + manifest, no personal data) into OUT."""
    session = DataSession(ctx)
    ledger_contract, registry_contract = session.ledger_sources(ledger, credit_registry)
    contracts = session.contracts()
    sources = AuditSources(
        ledger_contract,
        registry_contract,
        contracts.attestation_registry,
        contracts.consent_registry,
    )
    manifest = export_bundle(session.w3, sources, out, from_block or 0, to_block)
    result = {
        "out": str(out),
        **{k: manifest[k] for k in ("chain_id", "from_block", "to_block", "block_hash")},
        "files": {n: f["rows"] for n, f in manifest["files"].items()},
    }

    def render(c: Console) -> None:
        table = Table(
            title=f"Audit bundle in {out} (blocks {manifest['from_block']}.."
            f"{manifest['to_block']})",
            title_justify="left",
        )
        table.add_column("file")
        table.add_column("rows", justify="right")
        for name, rows in result["files"].items():
            table.add_row(name, str(rows))
        c.print(table)

    session.emit(result, render)


@click.command("audit-verify")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@json_option
@click.pass_context
def report_audit_verify(ctx: click.Context, directory: Path) -> None:
    """Re-check every row and the manifest of the bundle in DIRECTORY against the chain; name
    each mismatch and exit 1 on any."""
    session = DataSession(ctx)
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf8"))
        addresses = manifest["contracts"]
    except (OSError, ValueError, KeyError) as exc:
        raise DataSharingError(f"The bundle's manifest cannot be read: {exc}.") from None
    a = session.artifacts

    def bind(name: str, artifact: str) -> Contract | None:
        address = addresses.get(name)
        if address is None:
            return None
        return session.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=a[artifact].abi
        )

    ledger, registry = bind("ledger", "LoanLedger"), bind("credit_registry", "CreditRegistry")
    if ledger is None or registry is None:
        raise DataSharingError("The bundle's manifest names no ledger or credit registry.")
    sources = AuditSources(
        ledger,
        registry,
        bind("attestation_registry", "AttestationRegistry"),
        bind("consent_registry", "ConsentRegistry"),
    )
    outcome = verify_bundle(session.w3, directory, sources)
    result = {
        "directory": str(directory),
        "ok": outcome.ok,
        "files_checked": outcome.files_checked,
        "rows_checked": outcome.rows_checked,
        "mismatches": outcome.mismatches,
    }

    def render(c: Console) -> None:
        if outcome.ok:
            c.print(
                f"The bundle matches the chain: {outcome.files_checked} files, "
                f"{outcome.rows_checked} rows checked."
            )
        else:
            c.print(f"{len(outcome.mismatches)} mismatches:")
            for line in outcome.mismatches:
                c.print(f"  - {line}", markup=False)

    session.emit(result, render)
    if not outcome.ok:
        ctx.exit(1)


@click.command("privacy-scan")
@click.option("--value", "values", multiple=True, help="A personal value to look for.")
@click.option(
    "--values-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A file with one personal value per line.",
)
@click.option(
    "--sample-people",
    is_flag=True,
    help="Also look for every value of the data-sharing scenario's sample people.",
)
@click.option("--from-block", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--to-block", type=click.IntRange(min=0), default=None, help="Default: latest.")
@data_options
@json_option
@click.pass_context
def report_privacy_scan(
    ctx: click.Context,
    values: tuple[str, ...],
    values_file: Path | None,
    sample_people: bool,
    from_block: int,
    to_block: int | None,
) -> None:
    """Search every transaction's calldata and every log of the chain for personal values
    (as UTF-8 and as hex text, case-insensitive); exit 1 when any is found."""
    session = DataSession(ctx)
    wanted = list(values)
    if values_file is not None:
        wanted += [line.strip() for line in values_file.read_text(encoding="utf8").splitlines()]
    if sample_people:
        wanted += personal_values()
    wanted = [v for v in wanted if v]
    if not wanted:
        raise DataSharingError(
            "Name the values to look for: --value, --values-file or --sample-people."
        )
    scan = scan_chain(session.w3, wanted, from_block, to_block)
    result = {
        "values": len(set(wanted)),
        "blocks": scan.blocks,
        "transactions": scan.transactions,
        "logs": scan.logs,
        "bytes_scanned": scan.bytes_scanned,
        "findings": [asdict(f) for f in scan.findings],
    }

    def render(c: Console) -> None:
        c.print(
            f"Scanned {scan.blocks} blocks, {scan.transactions} transactions and "
            f"{scan.logs} logs for {result['values']} values."
        )
        for f in scan.findings:
            c.print(
                f"  FOUND {f.value!r} ({f.form}) in the {f.where} of tx {f.tx_hash} "
                f"(block {f.block_number})",
                markup=False,
            )
        if not scan.findings:
            c.print("None of the values appears on chain.")

    session.emit(result, render)
    if scan.findings:
        ctx.exit(1)


report.add_command(report_audit)
report.add_command(report_audit_verify)
report.add_command(report_privacy_scan)


# --------------------------------------------------------------------------- mounting

GROUPS: tuple[click.Group, ...] = (data, attester, attest, consent, vault)


def register(cli: click.Group) -> None:
    """Mount the groups on the main command; ``audit`` and ``audit-verify`` join an existing
    ``report`` group, or this module's ``report`` group is mounted."""
    for group in GROUPS:
        cli.add_command(group)
    existing = cli.commands.get("report")
    if isinstance(existing, click.Group) and existing is not report:
        existing.add_command(report_audit)
        existing.add_command(report_audit_verify)
        existing.add_command(report_privacy_scan)
    else:
        cli.add_command(report)


@click.group(cls=ServicingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", envvar="LOANSERVICING_RPC_URL", help="JSON-RPC URL of the node.")
@click.option(
    "--account", type=click.IntRange(min=0), default=None, help="Dev account index (dev chains)."
)
@click.option("--private-key-env", metavar="NAME", help="Env variable holding the signing key.")
@click.option(
    "--deployment",
    "deployment_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Servicing deployment file (default deployments/<chain_id>.json).",
)
@data_options
@json_option
@click.pass_context
def data_cli(
    ctx: click.Context,
    rpc_url: str | None,
    account: int | None,
    private_key_env: str | None,
    deployment_path: Path | None,
) -> None:
    """Credit data sharing without personal data on chain: attestations, consent, the vault
    and the regulator's audit bundle."""
    state = state_of(ctx)
    state.rpc_url = rpc_url
    if account is not None:
        state.account = account
    state.private_key_env = private_key_env
    state.deployment_path = deployment_path


for _group in (*GROUPS, report):
    data_cli.add_command(_group)


def main() -> None:
    data_cli(prog_name="loanservicing-data")


if __name__ == "__main__":
    main()
