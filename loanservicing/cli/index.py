"""``index sync [--follow]`` and ``index verify``: build the event index (a SQLite file, or a
PostgreSQL database named by ``--database URL``) and check it against the chain.

The node is the global ``--rpc-url`` (also accepted after the command); the contracts and the
first block are the command's ``--ledger``, ``--registry`` and ``--from-block``, else the
deployment file's (``--deployment``, default ``deployments/<chain_id>.json``), else the ones
an existing database recorded. The root ``--json`` and the command's own ``--json`` both print
one JSON document.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import dataclass

import click

from loanservicing.chain.errors import RpcError
from loanservicing.chain.rpc import RpcClient
from loanservicing.cli.app import CliState, setup_logging, state_of
from loanservicing.cli.options import index_target_options
from loanservicing.cli.output import emit
from loanservicing.deployment.manifest import Deployment
from loanservicing.errors import LoanServicingError
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer, IndexerConfig, SyncReport
from loanservicing.indexing.verify import verify_index

__all__ = ["deployment_index_config", "deployment_indexer", "index_group"]

logger = logging.getLogger(__name__)
DEFAULT_CONFIRMATIONS_LIVE = 12


@dataclass(frozen=True)
class _Target:
    rpc_url: str
    ledger: str
    registry: str
    from_block: int


def _deployment(state: CliState) -> Deployment | None:
    """The deployment file's contracts, if there is one for this node. A file named with
    --deployment must be usable; the default file may be absent."""
    try:
        return state.deployment()
    except LoanServicingError as exc:
        if state.deployment_path is not None:
            raise
        logger.debug("No deployment for the index: %s", exc)
        return None


def _resolve(
    state: CliState,
    db: IndexDB,
    ledger: str | None,
    registry: str | None,
    from_block: int | None,
) -> _Target:
    if state.rpc_url is None:
        raise click.UsageError("No node given: pass --rpc-url or set LOANSERVICING_RPC_URL.")
    need_deployment = (ledger is None or registry is None) and db.meta("ledger") is None
    deployment = _deployment(state) if need_deployment or state.deployment_path else None
    ledger_address = ledger or (deployment.ledger.address if deployment else db.meta("ledger"))
    registry_address = registry or (
        deployment.credit_registry.address if deployment else db.meta("credit_registry")
    )
    if from_block is None and deployment is not None:
        from_block = deployment.block
    if from_block is None:
        stored_block = db.meta("from_block")
        from_block = int(stored_block) if stored_block is not None else 0
    if ledger_address is None or registry_address is None:
        raise click.UsageError(
            "No contracts given: pass --ledger and --registry (or run from a deployment)."
        )
    return _Target(state.rpc_url, ledger_address, registry_address, from_block)


def _is_dev_chain(rpc_url: str) -> bool:
    rpc = RpcClient(rpc_url, timeout=10)
    for method in ("anvil_nodeInfo", "hardhat_metadata"):
        try:
            rpc.call(method, [])
        except RpcError:
            continue
        except Exception:  # unreachable: the sync's retries report it
            return True
        return True
    return False


@click.group("index")
def index_group() -> None:
    """Index the ledger's and credit registry's events into SQLite, and check the index."""
    setup_logging(0)


@index_group.command("sync")
@index_target_options
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
    ledger: str | None,
    registry: str | None,
    from_block: int | None,
    follow: bool,
    confirmations: int | None,
    initial_range: int,
    max_range: int,
    poll_interval: float,
    give_up_after: float | None,
) -> None:
    """Index events up to the head (minus confirmations); with --follow, keep going."""
    state = state_of(ctx)
    with IndexDB(db_path) as db:
        target = _resolve(state, db, ledger, registry, from_block)
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
        report = _follow(indexer, state.json) if follow else indexer.sync()
        loans = db.loan_count()
        name = db.name
    document = {**report.as_dict(), "db": name, "loans": loans}
    emit(
        state,
        document,
        lambda c: c.print(
            f"Indexed blocks {report.start_block}-{report.end_block}: {report.logs} events in "
            f"{report.ranges} ranges, {report.reorgs} reorgs, {loans} loans in {name} "
            f"({report.seconds:.2f} s).",
            markup=False,
        ),
        one_line=True,
    )


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


@index_group.command("verify")
@index_target_options
@click.pass_context
def verify_command(
    ctx: click.Context,
    db_path: str,
    ledger: str | None,
    registry: str | None,
    from_block: int | None,
) -> None:
    """Compare the index with the ledger's and registry's views, loan by loan; exit 1 on any
    difference."""
    state = state_of(ctx)
    with IndexDB(db_path) as db:
        target = _resolve(state, db, ledger, registry, from_block)
        report = verify_index(db, target.rpc_url)
    if state.json:  # the values compared may be of any type: print them as text
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


def deployment_indexer(
    state: CliState, db: IndexDB, wait_for_node: bool = False
) -> tuple[Indexer, Deployment]:
    """An indexer of the deployment's contracts on this invocation's node (for the monitor
    and the reports); it waits for an unreachable node with ``wait_for_node``, else gives up
    after a minute."""
    deployment = state.deployment()
    return Indexer(deployment_index_config(state, deployment, wait_for_node), db), deployment


def deployment_index_config(
    state: CliState, deployment: Deployment, wait_for_node: bool = False
) -> IndexerConfig:
    """The indexer configuration of ``deployment``'s contracts on this invocation's node (as
    :func:`deployment_indexer` uses it; the demo's ``--serve`` too)."""
    return IndexerConfig(
        rpc_url=state.node_url(),
        ledger=deployment.ledger.address,
        registry=deployment.credit_registry.address,
        from_block=deployment.block,
        confirmations=0 if state.is_dev() else DEFAULT_CONFIRMATIONS_LIVE,
        max_unreachable_seconds=None if wait_for_node else 60.0,
    )
