"""``demo``: the portfolio simulation of :mod:`loanservicing.demo.portfolio`, with a rich
progress bar on stderr and the summary tables (or one JSON document) on stdout; with
``--serve``, the portal over the demo's portfolio afterwards (its own index, one monitor tick,
the dev-chain sign-in) until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from loanservicing.amounts import iso_date
from loanservicing.chain.accounts import Signer, dev_signer
from loanservicing.cli.app import CliState, state_of
from loanservicing.cli.index import deployment_index_config
from loanservicing.cli.options import DatabaseType, json_option
from loanservicing.cli.output import render_report
from loanservicing.cli.serve import SECRET_ENV
from loanservicing.demo.data_sharing import REGULATOR_ACCOUNT
from loanservicing.demo.portfolio import DemoConfig, PortfolioDemo, Reporter, SilentReporter
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer
from loanservicing.monitoring.monitor import Monitor
from loanservicing.monitoring.service import MonitorService
from loanservicing.portal.assembly import portal_server
from loanservicing.portal.data_sharing import PortalDataSharing

__all__ = ["RichReporter", "demo"]

TONE_STYLE = {"good": "green", "warning": "yellow", "bad": "red"}


class RichReporter:
    """Progress bar and notable events on a (stderr) console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None

    def phase(self, text: str) -> None:
        self.console.print(f"[cyan]▸[/cyan] {text}")

    def event(self, text: str, tone: str = "") -> None:
        style = TONE_STYLE.get(tone)
        self.progress.console.print(f"  [{style}]{text}[/{style}]" if style else f"  {text}")

    def day(self, day: int, total: int, now: int, counts: Counter[str]) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("", total=total, stats="")
        stats = (
            f"paid {counts['repayments']} late {counts['late_payments']} "
            f"partial {counts['partial_payments']} defaulted {counts['defaults']} "
            f"closed {counts['closed']}"
        )
        self.progress.update(
            self.task,
            completed=day,
            description=f"{iso_date(now)[:10]} day {day:>3}/{total}",
            stats=stats,
        )

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


@click.command()
@click.option("--seed", type=int, default=7, show_default=True, help="Makes the run reproducible.")
@click.option("--loans", type=click.IntRange(1, 2000), default=60, show_default=True)
@click.option("--borrowers", type=click.IntRange(1, 500), default=12, show_default=True)
@click.option("--months", type=click.IntRange(1, 60), default=6, show_default=True)
@click.option(
    "--serve",
    is_flag=True,
    help="Afterwards, serve the portal over the demo's portfolio (dev-chain sign-in) until Ctrl-C.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="The portal's port on 127.0.0.1 with --serve (default 8000).",
)
@click.option(
    "--db",
    "db_path",
    type=DatabaseType(),
    default=None,
    metavar="FILE|URL",
    help="The portal's event index with --serve (default: a temporary file).",
)
@json_option
@click.pass_context
def demo(
    ctx: click.Context,
    seed: int,
    loans: int,
    borrowers: int,
    months: int,
    serve: bool,
    port: int | None,
    db_path: str | None,
) -> None:
    """Run a lending portfolio for months on a local chain and summarise it.

    Deploys the system, originates LOANS loans to BORROWERS borrowers across the three
    schedule kinds, simulates MONTHS months day by day (on-time, late, partial and stopped
    payments, assessments, defaults, a restructuring, an early payoff), then prints the
    portfolio summary and a few credit records. Uses a temporary Anvil unless --rpc-url names
    a dev chain. With --serve the portfolio stays browsable in the portal afterwards (the
    chain kept alive) until Ctrl-C: sign in there as the lender, the fund or a borrower.
    """
    if not serve and (port is not None or db_path is not None):
        raise click.UsageError("--port and --db go with --serve.")
    port = 8000 if port is None else port
    if serve:
        _check_port_free(port)  # before the run, not after it
    state = state_of(ctx)
    config = DemoConfig(seed=seed, loans=loans, months=months, borrowers=borrowers)
    reporter: Reporter = (
        SilentReporter() if state.json else RichReporter(Console(stderr=True, highlight=False))
    )
    w3 = state.connect()
    simulation = PortfolioDemo(w3, config, reporter, artifacts=state.artifacts())
    report = simulation.run()
    if state.json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        render_report(report, Console(highlight=False), simulation.servicer.token_symbol)
    if serve:
        _serve(state, simulation, port, db_path)


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise click.ClickException(
                f"The port {port} on 127.0.0.1 is in use; pick another with --port."
            ) from None


def _sign_in_accounts(simulation: PortfolioDemo) -> list[Signer]:
    """The demo's accounts the dev sign-in offers: the lender (servicing staff), the fund (a
    lender of its own loans) and the borrowers."""
    lender = simulation.servicer._require_sender().signer
    return [
        Signer(lender.local_account(), "the lender (servicer)"),
        Signer(simulation.fund.signer.local_account(), "the fund (a second lender)"),
        *(Signer(b.signer.local_account(), f"borrower {b.index}") for b in simulation.borrowers),
        *(
            [Signer(dev_signer(REGULATOR_ACCOUNT).local_account(), "the regulator")]
            if simulation.shared_contracts is not None
            else []
        ),
    ]


def _serve(state: CliState, simulation: PortfolioDemo, port: int, db_path: str | None) -> None:
    """Index the demo's deployment, raise the notices of one monitor tick, then serve the
    portal over that index until Ctrl-C or SIGTERM."""
    servicer = simulation.servicer
    accounts = _sign_in_accounts(simulation)
    with tempfile.TemporaryDirectory(prefix="loanservicing-demo-") as folder:
        location = db_path or str(Path(folder) / "index.db")
        config = deployment_index_config(state, servicer.deployment, wait_for_node=True)
        indexer = Indexer(config, IndexDB(location))
        tick = MonitorService(indexer, Monitor(indexer.db)).tick().tick
        data = None
        if simulation.shared_contracts is not None:  # the regulator's pages, without a vault
            data = PortalDataSharing(
                servicer.w3, simulation.shared_contracts, servicer.decoder, Path(folder) / "audit"
            )
        server = portal_server(
            servicer,
            indexer,
            "127.0.0.1",
            port,
            session_secret=os.environ.get(SECRET_ENV),
            dev_sign_in=accounts,
            data=data,
        )
        lender, fund, borrower = accounts[0], accounts[1], accounts[2]
        click.echo(
            f"Serving the demo's portfolio at {server.url} (index {location}, "
            f"{len(tick.raised)} notices raised; chain {config.rpc_url}); Ctrl-C stops.\n"
            f'Sign in at {server.url}/sign-in: under "Dev chain sign-in" pick the lender '
            f"{lender.address} (every loan), the fund {fund.address} (its own loans) or a "
            f"borrower such as {borrower.address}"
            + ("" if data is None else f", or the regulator {accounts[-1].address}")
            + "; or sign in with a wallet on chain "
            f"{servicer.w3.eth.chain_id}.",
            err=True,
        )
        server.run()
    click.echo("Stopped the portal.", err=True)
