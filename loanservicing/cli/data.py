"""The data-sharing session every data command uses, and ``data deploy|scenario``.

The data-sharing commands (``data``, ``attester``, ``attest``, ``consent``, ``vault`` and
``report audit|audit-verify|privacy-scan``) share the main CLI's state (``--rpc-url``,
``--account``, ``--private-key-env``, ``--deployment``, ``--json``) and add their own
options: ``--data-deployment FILE`` (default ``deployments/data-<chain_id>.json``),
``--vault-dir DIR`` (default ``.loanservicing/vault-<chain_id>``, env LOANSERVICING_VAULT_DIR)
and ``--key-store FILE`` (default ``<vault-dir>/keys/keys.db``; put it on another volume in
production).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from web3 import Web3
from web3.contract import Contract
from web3.middleware import SignAndSendRawMiddlewareBuilder

from loanservicing.amounts import InvalidInput, parse_date, parse_duration
from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer, signer_from_env
from loanservicing.chain.node import chain_time
from loanservicing.cli.app import CliState, state_of
from loanservicing.cli.options import (
    ADDRESS,
    account_option,
    data_options,
    data_settings,
    json_option,
)
from loanservicing.cli.output import emit, key_value_table
from loanservicing.demo.data_sharing import run_data_sharing
from loanservicing.deployment.bindings import (
    DataContracts,
    bind,
    load_data_deployment,
    revert_decoder,
)
from loanservicing.deployment.deploy import deploy_data_sharing
from loanservicing.deployment.manifest import data_path, write_data_deployment
from loanservicing.sharing.attestations import CLAIM_CATEGORIES, AttestationClient
from loanservicing.sharing.consent import ConsentClient
from loanservicing.sharing.errors import DataSharingError
from loanservicing.sharing.policy import PolicyClient
from loanservicing.sharing.vault import Vault

__all__ = ["CLAIM_TYPE", "DataSession", "data"]


# --------------------------------------------------------------------------- session


class DataSession:
    """The connection, contracts, clients and vault for one invocation."""

    def __init__(self, ctx: click.Context) -> None:
        self.ctx = ctx
        self.state: CliState = state_of(ctx)
        self.settings = data_settings(ctx)
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
    def signer(self, index: int | None = None) -> Signer:
        """The account named by --private-key-env, or dev account ``index`` (default:
        --account, else 0) on a dev chain."""
        if self.state.keystore is not None:
            raise DataSharingError(
                "The data-sharing commands sign typed data with the key itself; use "
                "--private-key-env NAME (or a dev --account) instead of --keystore."
            )
        signer: Signer
        if index is None and self.state.private_key_env is not None:
            signer = signer_from_env(self.state.private_key_env)
        else:
            if not self.state.is_dev():
                raise DataSharingError(
                    "Dev accounts exist only on dev chains; pass --private-key-env NAME here."
                )
            signer = dev_signer(index if index is not None else (self.state.account or 0))
        return signer

    def account(self, index: int | None = None) -> LocalAccount:
        """:meth:`signer`'s key, for signing typed data; transactions from it through
        ``self.w3`` are signed locally."""
        account = self.signer(index).local_account()
        if account.address not in self._signing:
            self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
            self._signing.add(account.address)
        return account

    # -- contracts -----------------------------------------------------------------
    def contracts(self) -> DataContracts:
        if self._contracts is None:
            path = self.data_deployment_path()
            if not path.is_file():
                raise DataSharingError(
                    f"No data-sharing deployment file at {path}; run `data deploy` first or "
                    "pass --data-deployment FILE."
                )
            self._contracts = load_data_deployment(path, self.w3, self.artifacts)
        return self._contracts

    def data_deployment_path(self) -> Path:
        return self.settings.data_deployment or data_path(self.chain_id)

    def attestations(self) -> AttestationClient:
        return AttestationClient(self.w3, self.contracts().attestation_registry, self.decoder)

    def consents(self) -> ConsentClient:
        return ConsentClient(self.w3, self.contracts().consent_registry, self.decoder)

    def policy(self) -> PolicyClient:
        return PolicyClient(self.w3, self.contracts().policy, self.decoder)

    def vault_dir(self) -> Path:
        return self.settings.vault_dir or Path(".loanservicing") / f"vault-{self.chain_id}"

    def vault(self, with_consents: bool = True) -> Vault:
        directory = self.vault_dir()
        key_store = self.settings.key_store or directory / "keys" / "keys.db"
        return Vault(directory / "vault.db", key_store, self.consents() if with_consents else None)

    def contract(self, address: str, artifact: str) -> Contract:
        """The compiled ``artifact`` at an address given on the command line or in a file."""
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=self.artifacts[artifact].abi
        )

    def ledger_sources(self, ledger: str | None, registry: str | None) -> tuple[Contract, Contract]:
        """The ledger and credit registry at the given addresses, else the deployment's."""
        if ledger is None or registry is None:
            bound = bind(self.w3, self.state.deployment(), self.artifacts)
            return (
                self.contract(ledger, "LoanLedger") if ledger else bound.ledger,
                self.contract(registry, "CreditRegistry") if registry else bound.credit_registry,
            )
        return self.contract(ledger, "LoanLedger"), self.contract(registry, "CreditRegistry")

    def now(self) -> int:
        return chain_time(self.w3)

    def emit(self, document: dict[str, Any], render: Callable[[Console], None]) -> None:
        emit(self.state, document, render)


def read_document(path: Path) -> Any:
    """The JSON document at ``path`` (one sentence when it cannot be read)."""
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except OSError as exc:
        raise DataSharingError(f"Cannot read the document {path}: {exc.strerror}.") from None
    except ValueError as exc:
        raise DataSharingError(f"The document {path} is not valid JSON: {exc}.") from None


def expiry_of(session: DataSession, text: str) -> int:
    """``90d`` (from now on chain) or an ISO 8601 date / unix seconds."""
    try:
        cleaned = text.strip()
        if re.fullmatch(r"\d+[A-Za-z]+", cleaned):  # 90d, 12h, 90min (not a date)
            return session.now() + parse_duration(text, "expiry")
        return parse_date(text, "expiry")
    except InvalidInput as exc:
        raise DataSharingError(str(exc)) from None


def key_values(title: str, rows: list[tuple[str, Any]]) -> Callable[[Console], None]:
    """A key-value table of ``rows`` as a person reads it, for ``emit``: names in words,
    yes/no, dates (a ``*_timestamp`` beside its ``*_date`` is left to the JSON), lists and
    mappings written out, a dash for nothing."""
    keys = {k for k, _ in rows}
    shown = [
        (k.replace("_", " "), readable(v))
        for k, v in rows
        if not (k.endswith("_timestamp") and k.removesuffix("_timestamp") + "_date" in keys)
    ]
    return lambda c: c.print(key_value_table(title, shown))


def readable(value: Any) -> str:
    """One value of a data-sharing document in words (``True`` is yes, None a dash)."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(readable(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')}: {readable(v)}" for k, v in value.items())
    return str(value)


def tx_hex(receipt_hash: Any) -> str:
    return Web3.to_hex(receipt_hash)


CLAIM_TYPE = click.Choice(list(CLAIM_CATEGORIES))


# --------------------------------------------------------------------------- data deploy


@click.group()
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
    sender = TransactionSender(session.w3, session.signer(), session.decoder)
    ledger_address = None
    if set_policy:
        ledger_address = Web3.to_checksum_address(
            ledger or session.state.deployment().ledger.address
        )
    deployed = deploy_data_sharing(
        sender,
        session.artifacts,
        [Web3.to_checksum_address(r) for r in regulators],
        ledger_address,
        set_policy,
    )
    path = session.data_deployment_path()
    write_data_deployment(path, deployed)
    document = {
        "chain_id": session.chain_id,
        **deployed.addresses(),
        "block": deployed.block,
        "file": str(path),
        "policy_set": set_policy,
    }
    session.emit(document, key_values("Data-sharing contracts", list(document.items())))


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
        bound = bind(session.w3, session.state.deployment(), session.artifacts)
        ledger_contract = session.contract(ledger, "LoanLedger") if ledger else bound.ledger
        token_contract = session.contract(token, "TestStablecoin") if token else bound.token
    else:
        ledger_contract = session.contract(ledger, "LoanLedger")
        token_contract = session.contract(token, "TestStablecoin")
    summary = run_data_sharing(
        session.w3,
        session.artifacts,
        ledger_contract,
        token_contract,
        session.vault_dir(),
        enforce_policy=enforce_policy,
        key_store=session.settings.key_store,
    )
    write_data_deployment(
        session.data_deployment_path(), summary.contracts.manifest(session.chain_id)
    )
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
