"""How commands print: one JSON document with ``--json``, else rich tables on stdout; notes
and progress on stderr. Also the tables of a portfolio summary and of a demo run."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loanservicing.amounts import iso_date, money, share
from loanservicing.demo.records import EVENT_KEYS
from loanservicing.ledger.credit import CREDIT_DECIMALS
from loanservicing.ledger.delinquency import BUCKET_LABELS
from loanservicing.ledger.portfolio import PortfolioSummary
from loanservicing.monitoring.notices import NOTICE_KINDS

if TYPE_CHECKING:
    from loanservicing.cli.app import CliState
    from loanservicing.demo.portfolio import DemoReport

__all__ = [
    "Column",
    "dated",
    "emit",
    "fitted_table",
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


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    """A column of :func:`fitted_table`.

    ``kind`` says how its cells may give way when the table is too wide: ``fixed`` cells
    (amounts, dates, numbers) never do, only a long header wraps; ``words`` wrap at spaces;
    ``id`` cells (addresses, hashes) fold onto up to ``lines`` lines. A column with ``drop``
    above zero is left out when the table still does not fit, the highest ``drop`` first.
    """

    header: str
    justify: Literal["left", "right"] = "left"
    kind: Literal["fixed", "words", "id"] = "fixed"
    drop: int = 0
    style: str = ""
    lines: int = 2


def _width(text: str) -> int:
    return max((Text.from_markup(line).cell_len for line in text.split("\n")), default=0)


def _longest_word(text: str) -> int:
    return max((_width(word) for word in text.split()), default=0)


def fitted_table(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int,
    show_header: bool = True,
) -> Table:
    """A table whose every cell is shown whole within ``width`` columns: long headers and
    ``words`` cells wrap, ``id`` cells fold, and when that is not enough the least important
    columns are left out (named in the caption, with ``--json`` for everything)."""
    shown = list(range(len(columns)))

    def cells(i: int) -> list[str]:
        return [row[i] for row in rows]

    def natural(i: int) -> int:
        header = _width(columns[i].header) if show_header else 0
        return max([header, *(_width(c) for c in cells(i))])

    def minimum(i: int) -> int:
        column = columns[i]
        header = _longest_word(column.header) if show_header else 0
        if column.kind == "fixed":
            least = max((_width(c) for c in cells(i)), default=0)
        elif column.kind == "words":
            least = max((_longest_word(c) for c in cells(i)), default=0)
        else:
            least = -(-max((_width(c) for c in cells(i)), default=0) // column.lines)
        return max(header, least, 1)

    def frame(n: int) -> int:
        return 3 * n + 1  # padding of one either side, and the rules between and around

    while True:
        if sum(minimum(i) for i in shown) + frame(len(shown)) <= width:
            break
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    widths = {i: natural(i) for i in shown}
    excess = sum(widths.values()) + frame(len(shown)) - width
    for kind in ("id", "fixed", "words"):
        for i in sorted(shown, key=lambda i: minimum(i) - widths[i]):
            if excess <= 0 or columns[i].kind != kind:
                continue
            cut = min(excess, widths[i] - minimum(i))
            widths[i] -= cut
            excess -= cut
    left_out = [columns[i].header.replace("\n", " ") for i in range(len(columns)) if i not in shown]
    caption = (
        f"Left out at this width: {', '.join(left_out)} (a wider terminal or --json shows them)"
        if left_out
        else None
    )
    table = Table(
        title=title,
        title_justify="left",
        show_header=show_header,
        caption=caption,
        caption_justify="left",
    )
    for i in shown:
        column = columns[i]
        table.add_column(
            column.header,
            justify=column.justify,
            width=widths[i],
            overflow="fold" if column.kind == "id" else "ellipsis",
            style=column.style or None,
        )
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


def key_value_table(title: str, rows: list[tuple[str, str]]) -> Table:
    """Two columns, a label and its value; long values (addresses, hashes) fold, never cut."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


# --------------------------------------------------------------------------- portfolio


def render_summary(s: PortfolioSummary, console: Console, symbol: str) -> None:
    """Tables of a portfolio summary: status, buckets, figures (in ``symbol``, the token's)."""
    d = s.decimals
    width = console.width
    statuses = ("active", "defaulted", "closed", "total")
    counts = [*(str(s.by_status[k]) for k in statuses[:3]), str(s.loans)]
    columns = [Column(name, "right") for name in statuses]
    console.print(fitted_table("Loans by status", columns, [counts], width))
    columns = [Column(name, "right") for name in BUCKET_LABELS]
    buckets = [str(s.by_bucket[k]) for k in BUCKET_LABELS]
    console.print(fitted_table("Active loans by days past due", columns, [buckets], width))
    figures = [
        ("principal originated", money(s.principal_originated, d, symbol)),
        ("principal outstanding", money(s.principal_outstanding, d, symbol)),
        ("  of which defaulted", money(s.principal_defaulted, d, symbol)),
        ("collected", money(s.collected, d, symbol)),
        ("  interest", money(s.collected_interest, d, symbol)),
        ("  late fees and penalty", money(s.collected_fees, d, symbol)),
        ("PAR30", share(s.par30)),
    ]
    columns = [Column("", style="bold"), Column("", "right")]
    console.print(
        fitted_table("Figures", columns, [list(f) for f in figures], width, show_header=False)
    )


def render_report(report: DemoReport, console: Console, symbol: str) -> None:
    """The demo's closing summary: portfolio, events, notices, sharing, credit records."""
    s = report.summary

    console.print()
    console.print(
        f"[bold]Portfolio after {report.config.days} days[/bold] "
        f"({iso_date(report.start_timestamp)[:10]} → {iso_date(report.end_timestamp)[:10]}), "
        f"seed {report.config.seed}: {report.transactions} transactions in "
        f"{report.elapsed_seconds:.1f} s"
    )
    render_summary(s, console, symbol)
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
            f"claimable balance of {money(int(held['claimable']), d, symbol)}"
        )
        if held["claimed_to"]:
            line += (
                f", which the fund claimed to {held['claimed_to']} "
                f"({money(int(held['claimed']), d, symbol)})"
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
    columns = [
        Column("borrower", kind="id", lines=3),
        *(Column(name, "right") for name in ("on time", "late", "missed", "max dpd")),
        Column("defaults", "right"),
        Column("opened", "right", drop=2),
        Column("closed", "right", drop=1),
        Column(f"repaid\n{symbol}", "right"),
    ]
    rows = [
        [
            str(r["borrower"]),
            *(
                str(r[k])
                for k in (
                    "paid_on_time",
                    "paid_late",
                    "missed",
                    "max_days_past_due",
                    "defaults",
                    "loans_opened",
                    "loans_closed",
                )
            ),
            money(int(r["total_repaid"]), CREDIT_DECIMALS),
        ]
        for r in report.credit_records
    ]
    console.print(fitted_table("Credit records of a few borrowers", columns, rows, console.width))
