"""``serve``: the web portal over the event index, which it keeps current itself (as ``index
sync --follow`` does) while it serves. The node and the deployment are the global
``--rpc-url`` and ``--deployment``."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from loanservicing.cli.app import state_of
from loanservicing.cli.data import DataSession
from loanservicing.cli.index import deployment_indexer
from loanservicing.cli.options import data_options, db_option
from loanservicing.indexing.database import IndexDB
from loanservicing.portal.assembly import data_sharing, portal_server
from loanservicing.portal.dev_sign_in import node_dev_signers

__all__ = ["serve"]

SECRET_ENV = "LOANSERVICING_PORTAL_SECRET"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _default_hosts(host: str) -> tuple[str, ...]:
    if host in ("0.0.0.0", "::", ""):
        raise click.UsageError(
            f"Listening on {host or 'every address'}, the portal cannot tell which host names "
            "browsers use; name them with --allowed-host (sign-in messages are bound to them)."
        )
    return ("127.0.0.1", "localhost") if host in _LOOPBACK else (host,)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port."
)
@db_option
@data_options
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name the portal answers to, as browsers reach it (repeatable; default: "
    "--host, and localhost with a loopback --host). Sign-in messages are bound to it.",
)
@click.option(
    "--session-hours",
    type=click.FloatRange(min=0.01),
    default=8.0,
    show_default=True,
    help="Hours a sign-in lasts.",
)
@click.option(
    "--dev-sign-in",
    is_flag=True,
    help="Also offer the node's dev accounts on the sign-in page, signed in by the portal "
    "with their public test keys (dev chains and loopback hosts only).",
)
@click.option(
    "--bundles-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the regulator's audit bundles are kept (default "
    ".loanservicing/bundles-<chain id>).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    db_path: str | Path,
    allowed_hosts: tuple[str, ...],
    session_hours: float,
    dev_sign_in: bool,
    bundles_dir: Path | None,
) -> None:
    """Serve the portal: the portfolio, collections queue and loan pages (every loan for the
    ledger's servicers, their own loans for lenders), and each borrower's own loans
    (Sign-In with Ethereum). With the data-sharing deployment (``data deploy``;
    --data-deployment and --vault-dir) also the regulator's pages and each borrower's
    attestations, consents and vault access log. Sessions are signed with
    LOANSERVICING_PORTAL_SECRET when set, else with a secret that ends with the process."""
    names = allowed_hosts or _default_hosts(host)
    state = state_of(ctx)
    servicer = state.servicer(write=False)
    indexer, _ = deployment_indexer(state, IndexDB(db_path), wait_for_node=True)
    data = None
    if not state.embedded:
        session = DataSession(ctx)
        if session.data_deployment_path().is_file():
            vault = session.vault_dir()
            data = data_sharing(
                servicer,
                session.data_deployment_path(),
                bundles_dir or Path(".loanservicing") / f"bundles-{session.chain_id}",
                vault if (vault / "vault.db").is_file() else None,
            )
    server = portal_server(
        servicer,
        indexer,
        host,
        port,
        session_secret=os.environ.get(SECRET_ENV),
        session_max_age=int(session_hours * 3600),
        allowed_hosts=names,
        dev_sign_in=node_dev_signers() if dev_sign_in else None,
        data=data,
    )
    click.echo(f"Serving the portal at {server.url} (index {db_path}); Ctrl-C stops.", err=True)
    if data is None:
        click.echo("No data-sharing deployment: no regulator pages.", err=True)
    if dev_sign_in:
        click.echo("Sign in with a wallet, or pick a dev account on the sign-in page.", err=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stopped, then re-raised Ctrl-C
        server.run()
    click.echo("Stopped the portal.", err=True)
