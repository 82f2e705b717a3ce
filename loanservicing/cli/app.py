"""The ``loanservicing`` command: a lender's and servicer's tool for the ledger.

Every command takes ``--json`` and then prints exactly one JSON document on stdout (progress
and diagnostics go to stderr); otherwise it prints a rich table or panel. Errors are one
sentence on stderr and exit code 1, with no traceback. Loan commands live in
:mod:`loanservicing.cli.loans`; this module holds the group, the shared state and options, and
the node, deployment, chain and faucet commands.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_typing import ChecksumAddress
from rich.console import Console
from rich.table import Table
from web3 import Web3
from web3.exceptions import Web3Exception

from loanservicing.amounts import InvalidInput, iso_date, parse_amount, parse_duration
from loanservicing.chain.accounts import (
    PRIVATE_KEY_ENV,
    Signer,
    TransactionSender,
    dev_signer,
    signer_from_env,
    signer_from_keystore,
)
from loanservicing.chain.node import AnvilNode, _probe_chain_id, connect, find_anvil, is_dev_chain
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.deploy import deploy_system, revert_decoder
from loanservicing.deployment.errors import DeploymentMismatch
from loanservicing.deployment.manifest import (
    Deployment,
    default_path,
    read_deployment,
    verify_deployment,
    write_deployment,
)
from loanservicing.errors import LoanServicingError
from loanservicing.servicing.errors import DevChainOnly
from loanservicing.servicing.servicer import Servicer

__all__ = ["AddressType", "CliState", "cli", "emit", "main"]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- state


@dataclass
class CliState:
    """What the global options said, plus the connection opened for this invocation."""

    rpc_url: str | None = None
    account: int | None = None
    private_key_env: str | None = None
    keystore: Path | None = None
    deployment_path: Path | None = None
    json: bool = False
    w3: Web3 | None = None
    node: AnvilNode | None = None
    _artifacts: dict[str, ContractArtifact] | None = None
    _dev: bool | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def embedded(self) -> bool:
        return self.rpc_url is None

    def connect(self) -> Web3:
        if self.w3 is None:
            w3, node = connect(self.rpc_url)
            self.w3, self.node = w3, node
            if node is not None:
                self._closers.append(node.stop)
                note(self, f"Started a temporary Anvil at {node.rpc_url} (stopped on exit).")
        return self.w3

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def is_dev(self) -> bool:
        if self._dev is None:
            self._dev = is_dev_chain(self.connect())
        return self._dev

    def artifacts(self) -> dict[str, ContractArtifact]:
        if self._artifacts is None:
            self._artifacts = compile_contracts()
        return self._artifacts

    def signer(self) -> Signer:
        """The account this invocation signs with (see the group's help)."""
        if self.private_key_env is not None:
            return signer_from_env(self.private_key_env)
        if self.keystore is not None:
            return signer_from_keystore(
                self.keystore,
                prompt=lambda text: str(click.prompt(text, hide_input=True, err=True)),
            )
        if self.is_dev():
            return dev_signer(self.account or 0)
        if self.account is not None:
            raise LoanServicingError(
                "--account selects Anvil's dev accounts, which exist only on dev chains; use "
                "--private-key-env NAME or --keystore FILE on this node."
            )
        if os.environ.get(PRIVATE_KEY_ENV):
            return signer_from_env(PRIVATE_KEY_ENV)
        raise LoanServicingError(
            f"This node is not a dev chain, so name an account: set {PRIVATE_KEY_ENV}, or pass "
            f"--private-key-env NAME or --keystore FILE."
        )

    def deployment_file(self, chain_id: int) -> Path:
        return self.deployment_path or default_path(chain_id)

    def deployment(self) -> Deployment:
        w3 = self.connect()
        chain_id = int(w3.eth.chain_id)
        path = self.deployment_file(chain_id)
        if self.embedded and self.deployment_path is None:
            raise DeploymentMismatch(
                "Without --rpc-url this command runs on a new, empty Anvil that has no "
                "deployment; start a node with `loanservicing node`, deploy to it and pass "
                "--rpc-url (or run `loanservicing demo`)."
            )
        deployment = read_deployment(path)
        verify_deployment(w3, deployment, self.artifacts(), path)
        return deployment

    def servicer(self, write: bool = True) -> Servicer:
        w3 = self.connect()
        deployment = self.deployment()
        signer = self.signer() if write else None
        return Servicer(w3, deployment, self.artifacts(), signer)


def state_of(ctx: click.Context) -> CliState:
    return ctx.ensure_object(CliState)


# --------------------------------------------------------------------------- output


def stdout_console() -> Console:
    return Console(soft_wrap=True, highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def note(state: CliState, message: str) -> None:
    """A diagnostic line on stderr (never on stdout, so --json output stays one document)."""
    if not state.json:
        stderr_console().print(f"[dim]{message}[/dim]")


def emit(state: CliState, document: dict[str, Any], render: Callable[[Console], None]) -> None:
    """Print ``document`` as JSON with --json, else call ``render`` on a stdout console."""
    if state.json:
        click.echo(json.dumps(document, indent=2, default=_json_default))
    else:
        render(stdout_console())


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dated(prefix: str, timestamp: int | None) -> dict[str, Any]:
    """``{prefix_date: ISO, prefix_timestamp: int}`` (both None for no date)."""
    return {
        f"{prefix}_date": iso_date(timestamp) if timestamp else None,
        f"{prefix}_timestamp": timestamp,
    }


def key_value_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    return table


# --------------------------------------------------------------------------- options


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        state_of(ctx).json = True


def json_option(f: F) -> F:
    return click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print one JSON document and nothing else on stdout.",
    )(f)


def _set_account(ctx: click.Context, _param: click.Parameter, value: int | None) -> None:
    if value is not None:
        state_of(ctx).account = value


def account_option(f: F) -> F:
    return click.option(
        "--account",
        type=click.IntRange(min=0),
        expose_value=False,
        callback=_set_account,
        help="Anvil dev account index to sign with (dev chains; default 0).",
    )(f)


class AddressType(click.ParamType):
    """A checksummed Ethereum address."""

    name = "ADDRESS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if not Web3.is_address(text):
            self.fail(f"{text!r} is not an Ethereum address (0x and 40 hex digits).", param, ctx)
        if not Web3.is_checksum_address(text):
            self.fail(
                f"{text} is not checksummed; write it as {Web3.to_checksum_address(text)} "
                f"(mixed case protects against typos).",
                param,
                ctx,
            )
        return Web3.to_checksum_address(text)


ADDRESS = AddressType()


class DurationType(click.ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        try:
            return parse_duration(str(value))
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


DURATION = DurationType()


# --------------------------------------------------------------------------- errors


class ServicingGroup(click.Group):
    """A group that turns the package's errors into one sentence on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.BadParameter as exc:
            # A value that cannot be used: one sentence, not the usage text.
            raise click.ClickException(exc.format_message()) from None
        except LoanServicingError as exc:
            raise click.ClickException(str(exc)) from None
        except (Web3Exception, OSError) as exc:
            raise click.ClickException(f"The node failed to answer: {_one_line(exc)}.") from None
        finally:
            if ctx.parent is None:
                state_of(ctx).close()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


# --------------------------------------------------------------------------- the group


@click.group(cls=ServicingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--rpc-url",
    envvar="LOANSERVICING_RPC_URL",
    help="JSON-RPC URL of the node (env LOANSERVICING_RPC_URL); default: a temporary Anvil.",
)
@click.option(
    "--account",
    type=click.IntRange(min=0),
    default=None,
    help="Anvil dev account index to sign with (dev chains only; default 0).",
)
@click.option(
    "--private-key-env",
    metavar="NAME",
    help=f"Environment variable holding the signing key (default {PRIVATE_KEY_ENV} "
    "off dev chains).",
)
@click.option(
    "--keystore",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Encrypted keystore file to sign with; password from LOANSERVICING_KEYSTORE_PASSWORD "
    "or a prompt.",
)
@click.option(
    "--deployment",
    "deployment_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Deployment file to use (default deployments/<chain_id>.json).",
)
@click.option("-v", "--verbose", count=True, help="Log diagnostics to stderr (-vv: debug).")
@json_option
@click.version_option(package_name="loanservicing")
@click.pass_context
def cli(
    ctx: click.Context,
    rpc_url: str | None,
    account: int | None,
    private_key_env: str | None,
    keystore: Path | None,
    deployment_path: Path | None,
    verbose: int,
) -> None:
    """Loan servicing on an EVM chain: deploy the ledger, originate and repay loans, inspect
    schedules, delinquency and credit records.

    Accounts: on a dev chain (Anvil, Hardhat) --account N signs with dev account N (default
    0). Elsewhere set LOANSERVICING_PRIVATE_KEY, or pass --private-key-env NAME or --keystore
    FILE. Transactions are signed locally; keys are never printed.
    """
    state = state_of(ctx)
    state.rpc_url = rpc_url
    if account is not None:
        state.account = account
    state.private_key_env = private_key_env
    state.keystore = keystore
    state.deployment_path = deployment_path
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )


# --------------------------------------------------------------------------- node


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8545, show_default=True)
@click.option("--chain-id", type=click.IntRange(min=1), default=31337, show_default=True)
@json_option
@click.pass_context
def node(ctx: click.Context, port: int, chain_id: int) -> None:
    """Run Anvil in the foreground on 127.0.0.1:PORT until Ctrl-C."""
    state = state_of(ctx)
    command = [str(find_anvil()), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--chain-id", str(chain_id)]
    if state.json:
        command.append("--silent")
    url = f"http://127.0.0.1:{port}"
    with _foreground(command) as process:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise LoanServicingError(
                    f"Anvil exited with code {process.returncode}; is port {port} already in use?"
                )
            try:
                _probe_chain_id(url, timeout=1.0)
                break
            except (OSError, ValueError, KeyError):
                if time.monotonic() > deadline:
                    raise LoanServicingError(
                        f"Anvil did not answer on {url} within 20 s."
                    ) from None
                time.sleep(0.05)
        # Ctrl-C may come as soon as the address is out: from then on it means "stop".
        with suppress(KeyboardInterrupt):
            if state.json:
                click.echo(json.dumps({"rpc_url": url, "chain_id": chain_id, "pid": process.pid}))
                sys.stdout.flush()
            else:
                stderr_console().print(
                    f"[bold]Anvil is running at {url}[/bold]; use --rpc-url {url}. Ctrl-C stops it."
                )
            process.wait()


@contextmanager
def _foreground(command: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    stdout = subprocess.DEVNULL if "--silent" in command else None
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --------------------------------------------------------------------------- deploy


@cli.command()
@click.option("--fresh", is_flag=True, help="Deploy anew even if a matching deployment exists.")
@click.option(
    "--token",
    "token_address",
    type=ADDRESS,
    help="Existing ERC-20 to lend in (required off dev chains; default: a new TestStablecoin).",
)
@click.option(
    "--token-decimals",
    type=click.IntRange(0, 18),
    default=6,
    show_default=True,
    help="Decimals of the TestStablecoin deployed on dev chains.",
)
@account_option
@json_option
@click.pass_context
def deploy(
    ctx: click.Context, fresh: bool, token_address: ChecksumAddress | None, token_decimals: int
) -> None:
    """Deploy the credit registry, the ledger and (dev chains) a test stablecoin.

    Writes deployments/<chain_id>.json; re-running reuses a deployment whose code still
    matches, --fresh deploys again. Without --rpc-url the temporary chain vanishes on exit, so
    no file is written unless --deployment names one.
    """
    state = state_of(ctx)
    w3 = state.connect()
    chain_id = int(w3.eth.chain_id)
    path = state.deployment_file(chain_id)
    write_file = not state.embedded or state.deployment_path is not None
    reused = False
    deployment: Deployment | None = None
    if not fresh and write_file and path.exists():
        deployment = read_deployment(path)
        verify_deployment(w3, deployment, state.artifacts(), path)
        reused = True
    if deployment is None:
        if token_address is None and not state.is_dev():
            raise LoanServicingError(
                "This node is not a dev chain: pass --token ADDRESS, the ERC-20 to lend in."
            )
        signer = state.signer()
        sender = TransactionSender(w3, signer, revert_decoder(state.artifacts()))
        note(state, f"Deploying from {signer.address} to chain {chain_id}...")
        deployment = deploy_system(sender, state.artifacts(), token_address, token_decimals)
        if write_file:
            write_deployment(path, deployment)
    document = {
        "chain_id": deployment.chain_id,
        "ledger": deployment.ledger.address,
        "credit_registry": deployment.credit_registry.address,
        "token": deployment.token.address,
        "block": deployment.block,
        "deployer": deployment.deployer,
        "reused": reused,
        "deployment_file": str(path) if write_file else None,
    }

    def render(console: Console) -> None:
        verb = "Reusing" if reused else "Deployed"
        console.print(
            key_value_table(
                f"{verb} loanservicing on chain {deployment.chain_id}",
                [
                    ("ledger", deployment.ledger.address),
                    ("credit registry", deployment.credit_registry.address),
                    ("token", deployment.token.address),
                    ("block", str(deployment.block)),
                    ("file", str(path) if write_file else "(none: temporary chain)"),
                ],
            )
        )

    emit(state, document, render)


# --------------------------------------------------------------------------- chain


@cli.group()
def chain() -> None:
    """Dev-chain clock: read it or move it forward."""


def _dev_only(state: CliState, what: str) -> Web3:
    w3 = state.connect()
    if not state.is_dev():
        raise DevChainOnly(f"`{what}` works only on a dev chain (Anvil, Hardhat).")
    return w3


def _time_document(w3: Web3) -> dict[str, Any]:
    block = w3.eth.get_block("latest")
    timestamp = int(block["timestamp"])
    return {"block": int(block["number"]), "date": iso_date(timestamp), "timestamp": timestamp}


@chain.command("time")
@json_option
@click.pass_context
def chain_time_command(ctx: click.Context) -> None:
    """Show the time of the latest block."""
    state = state_of(ctx)
    document = _time_document(_dev_only(state, "chain time"))
    emit(
        state,
        document,
        lambda c: c.print(
            f"{document['date']} (block {document['block']}, {document['timestamp']})"
        ),
    )


@chain.command("advance")
@click.argument("duration", type=DURATION)
@json_option
@click.pass_context
def chain_advance(ctx: click.Context, duration: int) -> None:
    """Move the chain clock forward by DURATION (30d, 12h, 90m, 45s or seconds)."""
    state = state_of(ctx)
    w3 = _dev_only(state, "chain advance")
    if duration <= 0:
        raise InvalidInput("The duration must be positive.")
    from loanservicing.chain.node import increase_time

    increase_time(w3, duration)
    document = {"advanced_seconds": duration, **_time_document(w3)}
    emit(
        state,
        document,
        lambda c: c.print(f"Advanced {duration} s; the chain time is now {document['date']}."),
    )


# --------------------------------------------------------------------------- faucet


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("address", type=ADDRESS)
@click.argument("amount")
@json_option
@click.pass_context
def faucet(ctx: click.Context, address: ChecksumAddress, amount: str) -> None:
    """Mint AMOUNT test tokens (and 100 ether for gas) to ADDRESS on a dev chain."""
    state = state_of(ctx)
    _dev_only(state, "faucet")
    servicer = state.servicer(write=False)
    units = parse_amount(amount, servicer.token_decimals)
    servicer.faucet(address, units)
    balance = servicer.balance(address)
    document = {
        "address": address,
        "amount": units,
        "decimals": servicer.token_decimals,
        "balance": balance,
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Minted {servicer.show(units)} to {address}; it holds {servicer.show(balance)}."
        ),
    )


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="loanservicing")


def _register() -> None:
    """Attach the commands of the submodules to ``cli`` (they import this module)."""
    import importlib

    for module in (
        "loanservicing.cli.loans",
        "loanservicing.demo.portfolio",
        "loanservicing.cli.monitor",
    ):
        importlib.import_module(module)
    from loanservicing.cli.data import register as register_data
    from loanservicing.cli.index import index_group

    register_data(cli)
    cli.add_command(index_group)


_register()

if __name__ == "__main__":
    # Run the imported module's group: the submodules registered their commands on it, not
    # on this __main__ copy.
    from loanservicing.cli.app import main as _main

    _main()
