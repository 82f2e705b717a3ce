"""The portfolio analytics as tables and charts: the roll-rate matrix, the vintage curves and
the IFRS 9 staging, from the reports the CLI prints (``report roll-rates|vintages|ifrs9``:
:mod:`loanservicing.monitoring.roll_rates` and :mod:`loanservicing.monitoring.ifrs9`), over the
loans a signed-in account may see, in the deployment's token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

from loanservicing.amounts import money, share
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.state import LoanState
from loanservicing.monitoring.ifrs9 import Ifrs9Report, ifrs9_report
from loanservicing.monitoring.loan_history import loan_histories
from loanservicing.monitoring.roll_rates import (
    FROM_BUCKETS,
    TO_BUCKETS,
    RollMatrix,
    VintageCurve,
    roll_rate_window,
    roll_rates,
    vintages,
)
from loanservicing.portal.charts import Bars, Line, bar_chart, heat_map, line_chart
from loanservicing.portal.tables import Table

__all__ = ["Analytics", "analytics"]


@dataclass(frozen=True)
class Analytics:
    """The tables by name (each also a CSV download) and the charts drawn from them."""

    tables: dict[str, Table]
    charts: dict[str, Markup]
    roll_period: str
    """``2027-02 → 2027-03``: the month ends of the matrix shown; empty when none yet."""


def _month(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m")


def analytics(
    db: IndexDB, now: int, token: str, symbol: str, shown: Callable[[LoanState], bool]
) -> Analytics:
    """The analytics of the loans ``shown`` in ``token`` at the index's time ``now``."""
    ids = [i for i, s in db.loans().items() if shown(s)]
    histories = list(loan_histories(db, ids).values())
    decimals = db.token_decimals()
    d = decimals.get(token, 18)
    window = roll_rate_window(histories, now, token)
    matrices = roll_rates(histories, *window, token, decimals) if window else []
    curves = vintages(histories, now, token, decimals)
    staged = ifrs9_report(histories, now, token, d)
    latest = matrices[-1] if matrices else None
    tables = {
        t.name: t
        for t in (
            _roll_table(latest),
            _roll_history(matrices, d, symbol),
            *_vintage_tables(curves, d, symbol),
            _stage_table(staged, symbol),
            _staged_loans(staged, symbol),
        )
    }
    charts = {
        "roll-rates": _roll_chart(latest),
        "vintages": _vintage_chart(curves),
        "ifrs9": _stage_chart(staged, tables["ifrs9"]),
    }
    period = f"{_month(latest.start)} → {_month(latest.end)}" if latest else ""
    return Analytics(tables, charts, period)


# ------------------------------------------------------------------------- roll rates
def _held(m: RollMatrix, a: str) -> bool:
    return any(m.principal[a].values())


def _roll_table(m: RollMatrix | None) -> Table:
    rows = [] if m is None else [a for a in FROM_BUCKETS if _held(m, a)]
    title = "Roll rates" if m is None else f"Roll rates {_month(m.start)} → {_month(m.end)}"
    return Table(
        "roll-rates",
        title,
        ["from \\ to", *TO_BUCKETS],
        [[a, *(share(m.share(a, b)) for b in TO_BUCKETS)] for a in rows] if m else [],
        numeric=frozenset(range(1, len(TO_BUCKETS) + 1)),
    )


def _roll_chart(m: RollMatrix | None) -> Markup:
    rows = [] if m is None else [a for a in FROM_BUCKETS if _held(m, a)]
    title = "Roll-rate matrix" if m is None else f"Roll rates {_month(m.start)} → {_month(m.end)}"
    shares = [[m.share(a, b) for b in TO_BUCKETS] for a in rows] if m else []
    return heat_map("roll-rates", title, rows, TO_BUCKETS, shares)


def _roll_history(matrices: Sequence[RollMatrix], decimals: int, symbol: str) -> Table:
    return Table(
        "roll-rate-history",
        "Every roll of the last twelve months",
        ["from month", "to month", "from bucket", "to bucket", f"principal {symbol}", "share"],
        [
            [
                _month(m.start),
                _month(m.end),
                a,
                b,
                money(m.principal[a][b], decimals),
                share(m.share(a, b)),
            ]
            for m in matrices
            for a in FROM_BUCKETS
            for b in TO_BUCKETS
            if m.principal[a][b]
        ],
        numeric=frozenset({4, 5}),
    )


# --------------------------------------------------------------------------- vintages
def _vintage_tables(
    curves: Sequence[VintageCurve], decimals: int, symbol: str
) -> tuple[Table, Table]:
    longest = max((len(c.ever_30_plus) for c in curves), default=0)
    columns = ["vintage", "loans", f"principal {symbol}", *(f"M{k}" for k in range(1, longest + 1))]

    def table(name: str, title: str, rates: Callable[[VintageCurve], list[Decimal]]) -> Table:
        return Table(
            name,
            title,
            columns,
            [
                [
                    c.month,
                    str(c.loans),
                    money(c.principal, decimals),
                    *(share(r) for r in rates(c)),
                    *[""] * (longest - len(rates(c))),
                ]
                for c in curves
            ],
            numeric=frozenset(range(1, len(columns))),
        )

    return (
        table(
            "vintages",
            "Vintages: share of principal ever more than 30 days past due",
            VintageCurve.ever_30_plus_rates,
        ),
        table("vintage-defaults", "Vintages: share of principal defaulted",
              VintageCurve.default_rates),
    )  # fmt: skip


def _vintage_chart(curves: Sequence[VintageCurve]) -> Markup:
    lines = []
    for n, c in enumerate(curves):
        lines.append(Line(f"{c.month} 30+", c.ever_30_plus_rates(), colour=n))
        lines.append(Line(f"{c.month} default", c.default_rates(), dashed=True, colour=n))
    return line_chart(
        "vintages",
        "Vintage curves: cumulative 30+ days past due (solid) and defaulted (dashed)",
        "months on book",
        lines,
    )


# ----------------------------------------------------------------------------- IFRS 9
def _stage_table(r: Ifrs9Report, symbol: str) -> Table:
    d, totals = r.decimals, r.totals()
    rows = [
        [
            str(stage),
            str(t["loans"]),
            money(t["ead"], d),
            share(r.pd[stage]),
            share(r.lgd),
            money(t["ecl"], d),
        ]
        for stage, t in totals.items()
    ]
    rows.append(
        [
            "total",
            str(len(r.loans)),
            money(sum(t["ead"] for t in totals.values()), d),
            "",
            "",
            money(sum(t["ecl"] for t in totals.values()), d),
        ]
    )
    return Table(
        "ifrs9",
        "IFRS 9 staging and expected credit loss",
        ["stage", "loans", f"EAD {symbol}", "PD", "LGD", f"ECL {symbol}"],
        rows,
        numeric=frozenset({1, 2, 3, 4, 5}),
    )


def _staged_loans(r: Ifrs9Report, symbol: str) -> Table:
    return Table(
        "ifrs9-loans",
        "IFRS 9: each loan's stage",
        [
            "loan",
            "borrower",
            "stage",
            "reason",
            "days past due",
            f"EAD {symbol}",
            "PD",
            f"ECL {symbol}",
        ],
        [
            [
                str(s.loan_id),
                s.borrower,
                str(s.stage),
                s.reason,
                str(s.days_past_due),
                money(s.ead, r.decimals),
                share(s.pd),
                money(s.ecl, r.decimals),
            ]
            for s in r.loans
        ],
        numeric=frozenset({0, 2, 4, 5, 6, 7}),
    )


def _stage_chart(r: Ifrs9Report, table: Table) -> Markup:
    totals = r.totals()
    groups = [Bars(f"stage {k}", [t["ead"], t["ecl"]]) for k, t in totals.items()]
    texts = [cell for row in table.rows[:3] for cell in (row[2], row[5])]
    return bar_chart("ifrs9", "IFRS 9: EAD and ECL by stage", ["EAD", "ECL"], groups, texts)
