"""``report roll-rates``, ``report vintages`` and ``report ifrs9``: credit-risk reports from
the event index (synced first), as tables, ``--json`` and ``--csv FILE``; attached to the
``report`` group in :mod:`loanservicing.cli`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from loanservicing.amounts import InvalidInput, exact, iso_date, money, parse_date, share
from loanservicing.cli.app import CliState, state_of
from loanservicing.cli.csv_export import csv_option, write_csv
from loanservicing.cli.index import deployment_indexer
from loanservicing.cli.options import db_option, json_option
from loanservicing.cli.output import Column, emit, fitted_table
from loanservicing.indexing.database import IndexDB
from loanservicing.monitoring.ifrs9 import DEFAULT_LGD, DEFAULT_PD, Ifrs9Report, ifrs9_report
from loanservicing.monitoring.loan_history import LoanHistory, loan_histories, month_of
from loanservicing.monitoring.monitor import Monitor
from loanservicing.monitoring.roll_rates import (
    FROM_BUCKETS,
    TO_BUCKETS,
    RollMatrix,
    VintageCurve,
    roll_rates,
    vintages,
)
from loanservicing.monitoring.service import MonitorService

__all__ = ["report_ifrs9", "report_roll_rates", "report_vintages"]


@dataclass(frozen=True)
class Book:
    """The indexed loans of the deployment's token, and the index's time."""

    histories: list[LoanHistory]
    now: int
    token: str
    symbol: str
    decimals: dict[str, int]

    @property
    def token_decimals(self) -> int:
        return self.decimals.get(self.token, 18)


def _book(state: CliState, db_path: str | Path) -> Book:
    with IndexDB(db_path) as db:
        indexer, deployment = deployment_indexer(state, db)
        indexer.sync()
        now, _ = MonitorService(indexer, Monitor(db)).chain_clock()
        histories = list(loan_histories(db).values())
        decimals = db.token_decimals()
    servicer = state.servicer(write=False)
    return Book(histories, now, deployment.token.address, servicer.token_symbol, decimals)


def _month(text: str, what: str) -> tuple[int, int]:
    try:
        return month_of(text, what)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _month_text(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m")


# --------------------------------------------------------------------------- roll rates


@click.command("roll-rates")
@click.option("--from", "from_month", required=True, help="First month end (YYYY-MM).")
@click.option("--to", "to_month", help="Last month end (YYYY-MM; default: the last complete).")
@db_option
@csv_option
@json_option
@click.pass_context
def report_roll_rates(
    ctx: click.Context,
    from_month: str,
    to_month: str | None,
    db_path: str | Path,
    csv_path: Path | None,
) -> None:
    """Roll rates: the share of outstanding principal moving between days-past-due buckets
    from each month end to the next (a matrix per pair of month ends)."""
    state = state_of(ctx)
    first = _month(from_month, "--from month")
    book = _book(state, db_path)
    now = dt.datetime.fromtimestamp(book.now, dt.UTC)
    last_complete = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    last = _month(to_month, "--to month") if to_month else last_complete
    if last > last_complete:
        raise InvalidInput(
            f"The month {last[0]}-{last[1]:02d} has not ended at the index's time "
            f"({iso_date(book.now)}); the last complete month is "
            f"{last_complete[0]}-{last_complete[1]:02d}."
        )
    if last <= first:
        raise InvalidInput("--to must be a later month than --from: a roll needs two month ends.")
    matrices = roll_rates(book.histories, first, last, book.token, book.decimals)
    document = {
        "token": book.token,
        "decimals": book.token_decimals,
        "matrices": [m.to_json() for m in matrices],
    }
    if csv_path is not None:
        write_csv(csv_path, ROLL_CSV, _roll_rows(matrices, book.token_decimals))

    def render(console: Console) -> None:
        for m in matrices:
            columns = [
                Column("from \\ to", style="bold"),
                *(Column(b, "right") for b in TO_BUCKETS),
            ]
            rows = [
                [a, *(share(m.share(a, b)) if m.principal[a][b] else "" for b in TO_BUCKETS)]
                for a in FROM_BUCKETS
                if any(m.principal[a].values())
            ]
            title = f"Roll rates {_month_text(m.start)} → {_month_text(m.end)} (of principal)"
            console.print(fitted_table(title, columns, rows or [["(no loans)"] + [""] * 7],
                                       console.width))  # fmt: skip

    emit(state, document, render)


ROLL_CSV = ("from_month", "to_month", "from_bucket", "to_bucket", "principal", "share")


def _roll_rows(matrices: list[RollMatrix], decimals: int) -> list[dict[str, Any]]:
    return [
        {
            "from_month": _month_text(m.start),
            "to_month": _month_text(m.end),
            "from_bucket": a,
            "to_bucket": b,
            "principal": exact(m.principal[a][b], decimals),
            "share": str(m.share(a, b)),
        }
        for m in matrices
        for a in FROM_BUCKETS
        for b in TO_BUCKETS
    ]


# --------------------------------------------------------------------------- vintages


@click.command("vintages")
@db_option
@csv_option
@json_option
@click.pass_context
def report_vintages(ctx: click.Context, db_path: str | Path, csv_path: Path | None) -> None:
    """Vintage curves: by origination month, the cumulative share of principal in loans ever
    more than 30 days past due at a month end, and defaulted, against months on book."""
    state = state_of(ctx)
    book = _book(state, db_path)
    curves = vintages(book.histories, book.now, book.token, book.decimals)
    document = {
        "token": book.token,
        "decimals": book.token_decimals,
        "as_of_timestamp": book.now,
        "vintages": [c.to_json() for c in curves],
    }
    if csv_path is not None:
        write_csv(csv_path, VINTAGE_CSV, _vintage_rows(curves, book.token_decimals))

    def render(console: Console) -> None:
        longest = max((len(c.ever_30_plus) for c in curves), default=0)
        columns = [
            Column("vintage", style="bold"),
            Column("loans", "right"),
            *(Column(f"M{k}", "right", drop=longest - k + 1) for k in range(1, longest + 1)),
        ]
        rows = [
            [
                c.month,
                str(c.loans),
                *(share(Decimal(p) / c.principal) if c.principal else "" for p in c.ever_30_plus),
                *[""] * (longest - len(c.ever_30_plus)),
            ]
            for c in curves
        ]
        title = "Vintages: share of principal ever 30+ days past due, by months on book"
        console.print(fitted_table(title, columns, rows, console.width))
        console.print("Default rates: --json or --csv.", style="dim")

    emit(state, document, render)


VINTAGE_CSV = ("month", "months_on_book", "loans", "principal", "ever_30_plus_rate",
               "default_rate")  # fmt: skip


def _vintage_rows(curves: list[VintageCurve], decimals: int) -> list[dict[str, Any]]:
    return [
        {
            "month": c.month,
            "months_on_book": k,
            "loans": c.loans,
            "principal": exact(c.principal, decimals),
            "ever_30_plus_rate": str(ever),
            "default_rate": str(defaulted),
        }
        for c in curves
        for k, (ever, defaulted) in enumerate(
            zip(c.ever_30_plus_rates(), c.default_rates(), strict=True), 1
        )
    ]


# --------------------------------------------------------------------------- IFRS 9


def _shares_file(path: Path, what: str) -> dict[str, Decimal]:
    """A JSON object of shares (``{"1": "0.02", ...}`` or ``{"lgd": "0.4"}``), each in [0, 1]."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"The {what} file {path} cannot be read ({exc.strerror}).") from None
    except json.JSONDecodeError:
        raise InvalidInput(f"The {what} file {path} is not JSON.") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"The {what} file {path} must hold a JSON object.")
    out = {}
    for key, value in raw.items():
        try:
            share_ = Decimal(str(value))
        except InvalidOperation:
            raise InvalidInput(f"The {what} {key} in {path} is not a number: {value!r}.") from None
        if not (0 <= share_ <= 1) or isinstance(value, float):
            raise InvalidInput(
                f"The {what} {key} in {path} must be a share from 0 to 1 written as a string "
                f'or integer ("0.15"), not {value!r}.'
            )
        out[str(key)] = share_
    return out


@click.command("ifrs9")
@click.option("--as-of", help="Date (ISO 8601 or unix seconds; default: the index's time).")
@click.option(
    "--pd",
    "pd_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='JSON of the PD per stage, e.g. {"1": "0.01", "2": "0.15", "3": "1"}.',
)
@click.option(
    "--lgd",
    "lgd_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help='JSON of the LGD, e.g. {"lgd": "0.45"}.',
)
@db_option
@csv_option
@json_option
@click.pass_context
def report_ifrs9(
    ctx: click.Context,
    as_of: str | None,
    pd_file: Path | None,
    lgd_file: Path | None,
    db_path: str | Path,
    csv_path: Path | None,
) -> None:
    """IFRS 9 staging and expected credit loss: stage 1, 2 or 3 per loan, exposure at default,
    ECL = PD x LGD x EAD, totals per stage."""
    state = state_of(ctx)
    pd = dict(DEFAULT_PD)
    if pd_file is not None:
        given = _shares_file(pd_file, "PD")
        unknown = sorted(set(given) - {"1", "2", "3"})
        if unknown:
            raise InvalidInput(f"The PD file names stages {', '.join(unknown)}; stages are 1-3.")
        pd.update({int(k): v for k, v in given.items()})
    lgd = DEFAULT_LGD
    if lgd_file is not None:
        given = _shares_file(lgd_file, "LGD")
        if set(given) != {"lgd"}:
            raise InvalidInput(f'The LGD file {lgd_file} must be {{"lgd": "0.45"}}.')
        lgd = given["lgd"]
    book = _book(state, db_path)
    t = parse_date(as_of, "--as-of") if as_of else book.now
    if t > book.now:
        raise InvalidInput(
            f"--as-of {as_of} is after the index's time ({iso_date(book.now)}): the report "
            "stages what has happened."
        )
    report = ifrs9_report(book.histories, t, book.token, book.token_decimals, pd, lgd)
    if csv_path is not None:
        write_csv(csv_path, IFRS9_CSV, _ifrs9_rows(report))
    emit(state, report.to_json(), lambda c: _render_ifrs9(c, report, book.symbol))


IFRS9_CSV = ("loan_id", "borrower", "stage", "reason", "days_past_due", "ead", "pd", "ecl")


def _ifrs9_rows(r: Ifrs9Report) -> list[dict[str, Any]]:
    return [
        {
            "loan_id": loan.loan_id,
            "borrower": loan.borrower,
            "stage": loan.stage,
            "reason": loan.reason,
            "days_past_due": loan.days_past_due,
            "ead": exact(loan.ead, r.decimals),
            "pd": str(loan.pd),
            "ecl": exact(loan.ecl, r.decimals),
        }
        for loan in r.loans
    ]


def _render_ifrs9(console: Console, r: Ifrs9Report, symbol: str) -> None:
    d = r.decimals
    columns = [
        Column("stage", style="bold"),
        Column("loans", "right"),
        Column(f"EAD\n{symbol}", "right"),
        Column("PD", "right"),
        Column(f"ECL\n{symbol}", "right"),
    ]
    totals = r.totals()
    rows = [
        [str(k), str(v["loans"]), money(v["ead"], d), share(r.pd[k]), money(v["ecl"], d)]
        for k, v in totals.items()
    ]
    rows.append(
        [
            "total",
            str(len(r.loans)),
            money(sum(v["ead"] for v in totals.values()), d),
            "",
            money(sum(v["ecl"] for v in totals.values()), d),
        ]
    )
    title = f"IFRS 9 at {iso_date(r.as_of)[:10]} (LGD {share(r.lgd)})"
    console.print(fitted_table(title, columns, rows, console.width))
    console.print("Each loan's stage and reason: --json or --csv.", style="dim")
