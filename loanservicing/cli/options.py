"""Options and parameter types shared by the commands.

``--json`` and ``--account`` are accepted before the command name (on the root group) and
after it (on each command); both spellings set the same :class:`CliState`. The data-sharing
options (``--data-deployment``, ``--vault-dir``, ``--key-store``) are accepted on every
data-sharing group and command; the index target options name the index database and,
optionally, the node and contracts it indexes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
from web3 import Web3

from loanservicing.amounts import InvalidInput, parse_duration
from loanservicing.cli.app import state_of
from loanservicing.indexing.connection import parse_location
from loanservicing.indexing.errors import IndexDatabaseError

__all__ = [
    "ADDRESS",
    "DEFAULT_DB",
    "DURATION",
    "WEBHOOK_URL",
    "AddressType",
    "DataSettings",
    "DatabaseType",
    "DurationType",
    "HttpUrlType",
    "account_option",
    "data_options",
    "data_settings",
    "db_option",
    "index_target_options",
    "json_option",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "loanservicing-index.db"


# --------------------------------------------------------------------------- global ones


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


def _set_rpc_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        state_of(ctx).rpc_url = value


# --------------------------------------------------------------------------- types


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
    """``30d``, ``12h``, ``90min``, ``45s`` or plain seconds."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        try:
            return parse_duration(str(value))
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


DURATION = DurationType()


class HttpUrlType(click.ParamType):
    """An ``http://`` or ``https://`` URL with a host (a webhook's address)."""

    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(
                f"{text!r} is not an http:// or https:// URL with a host (such as "
                "https://hooks.example.com/loans).",
                param,
                ctx,
            )
        return text


WEBHOOK_URL = HttpUrlType()


# --------------------------------------------------------------------------- data sharing


@dataclass
class DataSettings:
    """Where the data-sharing commands find their deployment file, vault and key store."""

    data_deployment: Path | None = None
    vault_dir: Path | None = None
    key_store: Path | None = None


def data_settings(ctx: click.Context) -> DataSettings:
    root = ctx.find_root()
    settings = root.meta.get("loanservicing.data")
    if settings is None:
        settings = DataSettings()
        root.meta["loanservicing.data"] = settings
    return settings


def _setter(attr: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(data_settings(ctx), attr, value)

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


# --------------------------------------------------------------------------- the index


class DatabaseType(click.ParamType):
    """Where the event index lives: a SQLite file (a path or ``sqlite:///path``) or a
    PostgreSQL database (``postgresql://`` or ``postgres://``); the text, checked."""

    name = "database"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        try:
            parse_location(text)
        except IndexDatabaseError as exc:
            self.fail(str(exc), param, ctx)
        return text


def db_option(f: F) -> F:
    """``--db`` / ``--database FILE|URL``: the event index's SQLite file or PostgreSQL URL
    (env LOANSERVICING_DATABASE_URL, or the older LOANSERVICING_INDEX_DB)."""
    return click.option(
        "--db",
        "--database",
        "db_path",
        default=DEFAULT_DB,
        envvar=["LOANSERVICING_DATABASE_URL", "LOANSERVICING_INDEX_DB"],
        show_default=True,
        metavar="FILE|URL",
        type=DatabaseType(),
        help=(
            "The event index (notices are stored in it too): a SQLite file, sqlite:///path, "
            "or postgresql://[user@]host[:port]/database (env LOANSERVICING_DATABASE_URL)."
        ),
    )(f)


def index_target_options(f: F) -> F:
    """``--db``, and the node and contracts to index: ``--rpc-url`` (as the global option),
    ``--ledger``, ``--registry``, ``--from-block`` (default: the deployment's, else the
    database's); plus ``--json``."""
    options = [
        db_option,
        click.option(
            "--rpc-url",
            envvar="LOANSERVICING_RPC_URL",
            expose_value=False,
            callback=_set_rpc_url,
            help="JSON-RPC URL of the node (as the global --rpc-url).",
        ),
        click.option("--ledger", help="LoanLedger address (default: from the deployment)."),
        click.option("--registry", help="CreditRegistry address (default: from the deployment)."),
        click.option(
            "--from-block",
            type=click.IntRange(min=0),
            help="First block to index (default: the deployment block).",
        ),
        json_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f
