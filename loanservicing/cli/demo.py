"""``demo``: the portfolio simulation of :mod:`loanservicing.demo.portfolio`, with a rich
progress bar on stderr and the summary tables (or one JSON document) on stdout."""

from __future__ import annotations

import json
from collections import Counter

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from loanservicing.amounts import iso_date
from loanservicing.cli.app import state_of
from loanservicing.cli.options import json_option
from loanservicing.cli.output import render_report
from loanservicing.demo.portfolio import DemoConfig, PortfolioDemo, Reporter, SilentReporter

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
@json_option
@click.pass_context
def demo(ctx: click.Context, seed: int, loans: int, borrowers: int, months: int) -> None:
    """Run a lending portfolio for months on a local chain and summarise it.

    Deploys the system, originates LOANS loans to BORROWERS borrowers across the three
    schedule kinds, simulates MONTHS months day by day (on-time, late, partial and stopped
    payments, assessments, defaults, a restructuring, an early payoff), then prints the
    portfolio summary and a few credit records. Uses a temporary Anvil unless --rpc-url names
    a dev chain.
    """
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
