"""The root of the ``loanservicing`` command: the group, the state of one invocation and the
error handling every command shares.

Every command takes ``--json`` and then prints exactly one JSON document on stdout (progress
and diagnostics go to stderr); otherwise it prints a rich table or panel. Errors are one
sentence on stderr (with ``--json``: one JSON object there), exit code 2 for usage errors and 1
for every other refusal, never a traceback. The commands live in the sibling
modules and are attached to :data:`cli` in :mod:`loanservicing.cli` (the one registration
point).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import click
from web3 import Web3
from web3.exceptions import Web3Exception

from loanservicing.chain.accounts import (
    PRIVATE_KEY_ENV,
    Signer,
)
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import AnvilNode, connect, is_dev_chain
from loanservicing.cli.output import note
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.errors import DeploymentMismatch
from loanservicing.deployment.manifest import (
    Deployment,
    default_path,
)
from loanservicing.errors import LoanServicingError
from loanservicing.servicing.servicer import Servicer
from loanservicing.servicing.session import choose_signer, load_deployment

__all__ = ["CliState", "CommandFailed", "ServicingGroup", "cli", "setup_logging", "state_of"]

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
        """True when no node was named: the commands run on a temporary Anvil."""
        return self.rpc_url is None

    def connect(self) -> Web3:
        if self.w3 is None:
            w3, node = connect(self.rpc_url)
            self.w3, self.node = w3, node
            if node is not None:
                self._closers.append(node.stop)
                note(self, f"Started a temporary Anvil at {node.rpc_url} (stopped on exit).")
        return self.w3

    def node_url(self) -> str:
        """The JSON-RPC URL of the node this invocation uses (the temporary one included)."""
        if self.rpc_url is not None:
            return self.rpc_url
        return str(getattr(self.connect().provider, "endpoint_uri", ""))

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
        return choose_signer(
            self.connect(),
            account=self.account,
            private_key_env=self.private_key_env,
            keystore=self.keystore,
            prompt=lambda text: str(click.prompt(text, hide_input=True, err=True)),
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
        return load_deployment(w3, path, self.artifacts())

    def servicer(self, write: bool = True) -> Servicer:
        w3 = self.connect()
        deployment = self.deployment()
        signer = self.signer() if write else None
        return Servicer(w3, deployment, self.artifacts(), signer)


def state_of(ctx: click.Context) -> CliState:
    return ctx.ensure_object(CliState)


# --------------------------------------------------------------------------- logging


def setup_logging(verbose: int) -> None:
    """``-v``: info, ``-vv``: debug, on stderr; without it warnings still reach stderr."""
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )
    elif not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")


# --------------------------------------------------------------------------- errors


class CommandFailed(click.ClickException):
    """A command's failure as one sentence on stderr (``Error: ...``) or, with ``--json``, one
    JSON object ``{"error": kind, "message": sentence[, "revert": {"name", "args"}]}`` (and
    what the error details, such as a refused book's ``rows``); exit
    2 for usage errors (click's convention), 1 for everything else."""

    def __init__(
        self,
        kind: str,
        message: str,
        as_json: bool,
        revert: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.as_json = as_json
        self.revert = revert
        self.details = details or {}
        self.exit_code = 2 if kind == "usage" else 1

    def show(self, file: IO[Any] | None = None) -> None:
        if not self.as_json:
            super().show(file)
            return
        document: dict[str, Any] = {"error": self.kind, "message": self.message}
        if self.revert is not None:
            document["revert"] = self.revert
        document.update(self.details)  # such as the rows of a refused loan book
        click.echo(json.dumps(document, default=_json_value), err=True)


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class ServicingGroup(click.Group):
    """A group that turns every error into :class:`CommandFailed`: one sentence (or one JSON
    object), never a traceback (``-vv`` shows where an unexpected one came from)."""

    def invoke(self, ctx: click.Context) -> Any:
        raw = [*ctx.protected_args, *ctx.args]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except CommandFailed:
            raise
        except click.UsageError as exc:
            # A usage error or a value that cannot be used: one sentence, not the usage text.
            raise self._failed(ctx, raw, "usage", exc.format_message()) from None
        except click.ClickException as exc:
            raise self._failed(ctx, raw, "refused", exc.format_message()) from None
        except TransactionReverted as exc:
            revert = None
            if exc.revert is not None:
                revert = {"name": exc.revert.name, "args": exc.revert.args}
            raise self._failed(ctx, raw, "revert", str(exc), revert) from None
        except LoanServicingError as exc:
            details = getattr(exc, "details", None)
            raise self._failed(ctx, raw, "refused", str(exc), details=details) from None
        except (Web3Exception, OSError) as exc:
            message = f"The node failed to answer: {_one_line(exc)}."
            raise self._failed(ctx, raw, "node", message) from None
        except Exception as exc:
            if logger.isEnabledFor(logging.DEBUG):
                raise
            message = (
                f"Unexpected error ({type(exc).__name__}: {_one_line(exc)}); run again with "
                "-vv to see where it came from, and report it."
            )
            raise self._failed(ctx, raw, "internal", message) from None
        finally:
            if ctx.parent is None:
                state_of(ctx).close()

    @staticmethod
    def _failed(
        ctx: click.Context,
        raw: list[str],
        kind: str,
        message: str,
        revert: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> CommandFailed:
        as_json = state_of(ctx).json or "--json" in raw
        return CommandFailed(kind, message, as_json, revert, details)


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
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document and nothing else on stdout."
)
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
    as_json: bool,
) -> None:
    """Loan servicing on an EVM chain: deploy the ledger, originate and repay loans, inspect
    schedules, delinquency and credit records.

    Accounts: --private-key-env NAME or --keystore FILE sign with that key; on a dev chain
    (Anvil, Hardhat) --account N signs with dev account N; else LOANSERVICING_PRIVATE_KEY
    when set; else, on a dev chain, dev account 0. Transactions are signed locally; keys are
    never printed.
    """
    state = state_of(ctx)
    state.rpc_url = rpc_url
    if account is not None:
        state.account = account
    state.private_key_env = private_key_env
    state.keystore = keystore
    state.deployment_path = deployment_path
    if as_json:
        state.json = True
    if verbose:
        setup_logging(verbose)
