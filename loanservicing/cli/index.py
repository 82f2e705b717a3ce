"""``loanservicing index``: build the event index (``sync [--follow]``) and check it (``verify``).

Register it on the main CLI with ``cli.add_command(index_group)``. The commands take the node
and the deployment from the click context object when the main CLI provides one (attributes
``rpc_url`` and ``deployment`` with ``ledger.address``, ``credit_registry.address`` and
``block``), and otherwise from their own options, so they also run standalone:
``python -m loanservicing.cli.index sync --rpc-url URL --ledger ADDR --registry ADDR``. Once a
database exists, its recorded contracts are the defaults.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from loanservicing.errors import LoanServicingError
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.errors import RpcError
from loanservicing.indexing.indexer import Indexer, IndexerConfig, JsonRpc, SyncReport, verify_index

__all__ = ["index_group"]

DEFAULT_DB = "loanservicing-index.db"
logger = logging.getLogger(__name__)
DEFAULT_CONFIRMATIONS_LIVE = 12


@dataclass(frozen=True)
class _Target:
    rpc_url: str
    ledger: str
    registry: str
    from_block: int


def _from_context(ctx: click.Context, need_deployment: bool) -> dict[str, Any]:
    """What the main CLI's context object knows (duck-typed; absent attributes are fine)."""
    obj = ctx.find_root().obj
    found: dict[str, Any] = {}
    if obj is None:
        return found
    rpc_url = getattr(obj, "rpc_url", None)
    if rpc_url is None:
        w3 = getattr(obj, "w3", None)
        rpc_url = getattr(getattr(w3, "provider", None), "endpoint_uri", None)
    if rpc_url is None:
        return found  # no node named: a deployment could only be on a temporary Anvil
    found["rpc_url"] = str(rpc_url)
    deployment = getattr(obj, "deployment", None) if need_deployment else None
    if callable(deployment):
        try:
            deployment = deployment()
        except LoanServicingError as exc:
            logger.debug("No deployment from the CLI context: %s", exc)
            deployment = None
    if deployment is not None:
        for key, attr in (("ledger", "ledger"), ("registry", "credit_registry")):
            entry = getattr(deployment, attr, None)
            address = getattr(entry, "address", entry)
            if address is not None:
                found[key] = str(address)
        block = getattr(deployment, "block", None)
        if block is not None:
            found["from_block"] = int(block)
    return found


def _resolve(
    ctx: click.Context,
    db: IndexDB,
    rpc_url: str | None,
    ledger: str | None,
    registry: str | None,
    from_block: int | None,
) -> _Target:
    stored_block = db.meta("from_block")
    need_deployment = (ledger is None or registry is None) and db.meta("ledger") is None
    context = _from_context(ctx, need_deployment)
    rpc = rpc_url or context.get("rpc_url")
    ledger_address = ledger or context.get("ledger") or db.meta("ledger")
    registry_address = registry or context.get("registry") or db.meta("credit_registry")
    if from_block is None:
        from_block = context.get("from_block")
    if from_block is None:
        from_block = int(stored_block) if stored_block is not None else 0
    if rpc is None:
        raise click.UsageError("No node given: pass --rpc-url or set LOANSERVICING_RPC_URL.")
    if ledger_address is None or registry_address is None:
        raise click.UsageError(
            "No contracts given: pass --ledger and --registry (or run from a deployment)."
        )
    return _Target(rpc, ledger_address, registry_address, from_block)


def _is_dev_chain(rpc_url: str) -> bool:
    rpc = JsonRpc(rpc_url, timeout=10)
    for method in ("anvil_nodeInfo", "hardhat_metadata"):
        try:
            rpc.call(method, [])
        except RpcError:
            continue
        except Exception:  # unreachable: the sync's retries report it
            return True
        return True
    return False


def _setup_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")


def _target_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--db",
            "db_path",
            default=DEFAULT_DB,
            envvar="LOANSERVICING_INDEX_DB",
            show_default=True,
            help="SQLite file of the index.",
        ),
        click.option("--rpc-url", envvar="LOANSERVICING_RPC_URL", help="JSON-RPC URL of the node."),
        click.option("--ledger", help="LoanLedger address (default: from the deployment)."),
        click.option("--registry", help="CreditRegistry address (default: from the deployment)."),
        click.option(
            "--from-block",
            type=click.IntRange(min=0),
            help="First block to index (default: the deployment block).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group("index")
def index_group() -> None:
    """Index the ledger's and credit registry's events into SQLite, and check the index."""
    _setup_logging()


@index_group.command("sync")
@_target_options
@click.option("--follow", is_flag=True, help="Keep indexing new blocks until interrupted.")
@click.option(
    "--confirmations",
    type=click.IntRange(min=0),
    help="Blocks to wait before indexing one (default: 0 on dev chains, else 12).",
)
@click.option(
    "--range",
    "initial_range",
    type=click.IntRange(min=1),
    default=2_000,
    show_default=True,
    help="First eth_getLogs range, in blocks (it adapts).",
)
@click.option(
    "--max-range",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Largest eth_getLogs range, in blocks.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    default=0.2,
    show_default=True,
    help="Seconds between head polls with --follow.",
)
@click.option(
    "--give-up-after",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds an unreachable node is retried before giving up "
    "(default: 60 without --follow, never with it).",
)
@click.pass_context
def sync_command(
    ctx: click.Context,
    db_path: str,
    rpc_url: str | None,
    ledger: str | None,
    registry: str | None,
    from_block: int | None,
    as_json: bool,
    follow: bool,
    confirmations: int | None,
    initial_range: int,
    max_range: int,
    poll_interval: float,
    give_up_after: float | None,
) -> None:
    """Index events up to the head (minus confirmations); with --follow, keep going."""
    try:
        with IndexDB(db_path) as db:
            target = _resolve(ctx, db, rpc_url, ledger, registry, from_block)
            if confirmations is None:
                dev = _is_dev_chain(target.rpc_url)
                confirmations = 0 if dev else DEFAULT_CONFIRMATIONS_LIVE
            config = IndexerConfig(
                rpc_url=target.rpc_url,
                ledger=target.ledger,
                registry=target.registry,
                from_block=target.from_block,
                confirmations=confirmations,
                initial_range=min(initial_range, max_range),
                max_range=max_range,
                poll_interval=poll_interval,
                max_unreachable_seconds=(
                    give_up_after if give_up_after is not None else None if follow else 60.0
                ),
            )
            indexer = Indexer(config, db)
            report = _follow(indexer, as_json) if follow else indexer.sync()
            _echo_report(report, db_path, db.loan_count(), as_json)
    except LoanServicingError as exc:
        raise click.ClickException(str(exc)) from None


def _follow(indexer: Indexer, as_json: bool) -> SyncReport:
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    if not as_json:
        indexer.on_commit.append(
            lambda first, last: click.echo(f"indexed blocks {first}-{last}", err=True)
        )
    try:
        return indexer.follow(stop)
    except KeyboardInterrupt:
        stop.set()
        start, _ = indexer.checkpoint()
        return SyncReport(start_block=start, end_block=start)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _echo_report(report: SyncReport, db_path: str, loans: int, as_json: bool) -> None:
    document = {**report.as_dict(), "db": db_path, "loans": loans}
    if as_json:
        click.echo(json.dumps(document))
        return
    click.echo(
        f"Indexed blocks {report.start_block}-{report.end_block}: {report.logs} events in "
        f"{report.ranges} ranges, {report.reorgs} reorgs, {loans} loans in {db_path} "
        f"({report.seconds:.2f} s)."
    )


@index_group.command("verify")
@_target_options
@click.pass_context
def verify_command(
    ctx: click.Context,
    db_path: str,
    rpc_url: str | None,
    ledger: str | None,
    registry: str | None,
    from_block: int | None,
    as_json: bool,
) -> None:
    """Compare the index with the ledger's and registry's views, loan by loan; exit 1 on any
    difference."""
    try:
        with IndexDB(db_path) as db:
            target = _resolve(ctx, db, rpc_url, ledger, registry, from_block)
            report = verify_index(db, target.rpc_url)
    except LoanServicingError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), default=str))
    else:
        for difference in report.differences:
            click.echo(difference.sentence())
        verdict = (
            "no difference"
            if not report.differences
            else (f"{len(report.differences)} difference(s)")
        )
        click.echo(
            f"Checked {report.loans} loans and {report.borrowers} credit records at block "
            f"{report.block}: {verdict}."
        )
    if report.differences:
        ctx.exit(1)


if __name__ == "__main__":
    index_group()
