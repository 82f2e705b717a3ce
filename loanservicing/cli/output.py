"""How commands print: one JSON document with ``--json``, else rich tables on stdout; notes
and progress on stderr. Also the tables of a portfolio summary and of a demo run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from loanservicing.amounts import format_amount, format_money, iso_date
from loanservicing.demo.records import EVENT_KEYS
from loanservicing.ledger.delinquency import BUCKET_LABELS
from loanservicing.ledger.portfolio import PortfolioSummary
from loanservicing.monitoring.notices import NOTICE_KINDS

if TYPE_CHECKING:
    from loanservicing.cli.app import CliState
    from loanservicing.demo.portfolio import DemoReport

__all__ = [
    "dated",
    "emit",
    "key_value_table",
    "note",
    "render_report",
    "render_summary",
    "stderr_console",
    "stdout_console",
]


def stdout_console() -> Console:
    return Console(soft_wrap=True, highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def note(state: CliState, message: str) -> None:
    """A diagnostic line on stderr (never on stdout, so --json output stays one document)."""
    if not state.json:
        stderr_console().print(f"[dim]{message}[/dim]")


def emit(
    state: CliState,
    document: dict[str, Any],
    render: Callable[[Console], None],
    one_line: bool = False,
) -> None:
    """Print ``document`` as JSON with --json (on one line with ``one_line``), else call
    ``render`` on a stdout console."""
    if state.json:
        indent = None if one_line else 2
        click.echo(json.dumps(document, indent=indent, default=_json_default))
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


# --------------------------------------------------------------------------- portfolio


def render_summary(s: PortfolioSummary, console: Console, symbol: str = "tUSDC") -> None:
    """Tables of a portfolio summary: status, buckets, figures (whole tokens)."""
    d = s.decimals

    def money(units: int) -> str:
        return f"{format_money(units, d)} {symbol}"

    status = Table(title="Loans by status", title_justify="left")
    for name in ("active", "defaulted", "closed", "total"):
        status.add_column(name, justify="right")
    status.add_row(*(str(s.by_status[k]) for k in ("active", "defaulted", "closed")), str(s.loans))
    console.print(status)
    buckets = Table(title="Active loans by days past due", title_justify="left")
    for name in BUCKET_LABELS:
        buckets.add_column(name, justify="right")
    buckets.add_row(*(str(s.by_bucket[k]) for k in BUCKET_LABELS))
    console.print(buckets)
    figures = Table(title="Figures", title_justify="left", show_header=False)
    figures.add_column(style="bold")
    figures.add_column(justify="right")
    for label, value in (
        ("principal originated", money(s.principal_originated)),
        ("principal outstanding", money(s.principal_outstanding)),
        ("  of which defaulted", money(s.principal_defaulted)),
        ("collected", money(s.collected)),
        ("  interest", money(s.collected_interest)),
        ("  late fees and penalty", money(s.collected_fees)),
        ("PAR30", f"{s.par30:.2%}"),
    ):
        figures.add_row(label, value)
    console.print(figures)


def render_report(report: DemoReport, console: Console) -> None:
    """The demo's closing summary: portfolio, events, notices, sharing, credit records."""
    s = report.summary

    console.print()
    console.print(
        f"[bold]Portfolio after {report.config.days} days[/bold] "
        f"({iso_date(report.start_timestamp)[:10]} → {iso_date(report.end_timestamp)[:10]}), "
        f"seed {report.config.seed}: {report.transactions} transactions in "
        f"{report.elapsed_seconds:.1f} s"
    )
    render_summary(s, console)
    events = Table(title="What happened", title_justify="left", show_header=False)
    events.add_column(style="bold")
    events.add_column(justify="right")
    for key in EVENT_KEYS[1:]:  # after "originated", said below
        events.add_row(key.replace("_", " "), str(report.counts[key]))
    console.print(events)
    console.print(
        f"Every loan was originated on terms its borrower signed (EIP-712, nonce and deadline, "
        f"checked by the ledger): {report.counts['borrower_signed']} of "
        f"{report.counts['originated']}."
    )
    held = report.held
    if held:
        d = int(held["decimals"])
        line = (
            f"From day {held['blocked_on_day']} the token's issuer blocked the fund "
            f"{held['lender']}: the ledger held {held['repayments_held']} of its repayments, a "
            f"claimable balance of {format_amount(int(held['claimable']), d)} tUSDC"
        )
        if held["claimed_to"]:
            line += (
                f", which the fund claimed to {held['claimed_to']} "
                f"({format_amount(int(held['claimed']), d)} tUSDC)"
            )
        console.print(line + ".")
    if report.notices:
        notices = Table(
            title="Monitor notices",
            title_justify="left",
            show_header=False,
        )
        notices.add_column(style="bold")
        notices.add_column(justify="right")
        for kind in NOTICE_KINDS:
            notices.add_row(kind.replace("_", " "), str(report.notices.get(kind, 0)))
        notices.add_row("total", str(sum(report.notices.values())))
        console.print(notices)
        for line in report.notice_examples:
            console.print(f"  [dim]{line}[/dim]")
    if report.shared:
        console.print("[bold]What was shared with whom[/bold] (personal data stayed off chain)")
        for line in report.shared:
            console.print(f"  {line}")
    credit = Table(title="Credit records of a few borrowers", title_justify="left")
    for name in ("borrower", "on time", "late", "missed", "max dpd", "defaults", "opened",
                 "closed", "repaid"):  # fmt: skip
        credit.add_column(name, justify="right" if name != "borrower" else "left")
    for r in report.credit_records:
        credit.add_row(
            f"{r['borrower'][:8]}…{r['borrower'][-4:]}",
            str(r["paid_on_time"]),
            str(r["paid_late"]),
            str(r["missed"]),
            str(r["max_days_past_due"]),
            str(r["defaults"]),
            str(r["loans_opened"]),
            str(r["loans_closed"]),
            f"{int(r['total_repaid']) // 10**18:,}",
        )
    console.print(credit)
