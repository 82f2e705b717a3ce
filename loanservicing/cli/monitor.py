"""``loanservicing monitor run|notices``.

``monitor run`` syncs the event index (the same database as ``index sync``, ``--db``),
evaluates the loans at the chain time of the newest indexed block (incrementally: those with
new events or past their next deadline; ``--full``: every loan, rebuilding the deadline index),
stores the new notices and delivers them to the console, a JSON-lines file and webhooks;
``--keeper`` also sends ``assess`` for the loans whose on-chain delinquency is behind.
``--once`` does one tick; otherwise it ticks every ``--interval`` until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from loanservicing.amounts import InvalidInput, format_amount, iso_date, money, parse_date
from loanservicing.cli.app import CliState, state_of
from loanservicing.cli.csv_export import csv_option, write_csv
from loanservicing.cli.email import email_channel, email_options, smtp_settings
from loanservicing.cli.index import deployment_indexer
from loanservicing.cli.options import (
    DURATION,
    WEBHOOK_URL,
    account_option,
    data_options,
    db_option,
    json_option,
)
from loanservicing.cli.output import Column, emit, fitted_table
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.indexing.connection import parse_location
from loanservicing.indexing.database import IndexDB
from loanservicing.monitoring.channels import (
    Channel,
    ConsoleChannel,
    Dispatcher,
    JsonLinesChannel,
    WebhookChannel,
    describe,
)
from loanservicing.monitoring.keeper import Keeper, local_account
from loanservicing.monitoring.monitor import DEFAULT_REMINDER_DAYS, Monitor, MonitorConfig
from loanservicing.monitoring.notices import NOTICE_KINDS, NoticeStore
from loanservicing.monitoring.service import MonitorService, ServiceTick

__all__ = ["monitor_group"]

logger = logging.getLogger(__name__)

HEAD_POLL_S = 0.1


@click.group("monitor")
def monitor_group() -> None:
    """Watch every loan from the event index and raise notices (reminders, payments,
    overdue installments, bucket changes, defaults); keep on-chain delinquency current."""


@monitor_group.command("run")
@db_option
@click.option("--once", is_flag=True, help="One tick (sync, evaluate, deliver), then exit.")
@click.option(
    "--interval",
    type=DURATION,
    default="10s",
    show_default=True,
    help="Time between ticks (10s, 1min, ...).",
)
@click.option("--keeper", is_flag=True, help="Also call assess() for loans that are behind.")
@click.option(
    "--full",
    is_flag=True,
    help="Evaluate every loan on each tick (not only those with new events or past their "
    "next deadline), rebuilding the deadline index.",
)
@click.option(
    "--reminder-days",
    type=click.IntRange(0, 366),
    default=DEFAULT_REMINDER_DAYS,
    show_default=True,
    help="Days before each due date to remind.",
)
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    type=WEBHOOK_URL,
    help="POST each notice's JSON to this http(s) URL.",
)
@click.option(
    "--jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append each notice as one JSON line to this file.",
)
@click.option("--quiet", is_flag=True, help="Do not print notices on the console.")
@email_options
@data_options
@account_option
@json_option
@click.pass_context
def monitor_run(
    ctx: click.Context,
    /,
    db_path: str,
    once: bool,
    interval: int,
    keeper: bool,
    full: bool,
    reminder_days: int,
    webhooks: tuple[str, ...],
    jsonl: Path | None,
    quiet: bool,
    **email: Any,
) -> None:
    """Sync the index, raise new notices at the chain's current time and deliver them."""
    state = state_of(ctx)
    if interval <= 0:
        raise InvalidInput("The interval must be positive.")
    with IndexDB(db_path) as db:
        indexer, deployment = deployment_indexer(state, db, wait_for_node=not once)
        monitor = Monitor(db, MonitorConfig(reminder_days=reminder_days), track_behind=keeper)
        channels: list[Channel] = []
        if not state.json and not quiet:
            channels.append(ConsoleChannel(Console(highlight=False, soft_wrap=True)))
        if jsonl is not None:
            channels.append(JsonLinesChannel(jsonl))
        channels += [WebhookChannel(url) for url in webhooks]
        settings = smtp_settings(email)
        if settings is not None:  # borrowers' addresses from the vault, as the servicer
            symbol = state.servicer(write=False).token_symbol
            channels.append(email_channel(ctx, settings, symbol))
        dispatcher = Dispatcher(monitor.store, channels)
        keeper_ = None
        if keeper:
            artifacts = state.artifacts()
            keeper_ = Keeper(
                state.connect(),
                deployment.ledger.address,
                artifacts["LoanLedger"].abi,
                local_account(state.signer()),
                revert_decoder(artifacts),
            )
        service = MonitorService(indexer, monitor, dispatcher, keeper_)
        if once:
            result = service.tick(drain=True, full=full)
            _emit_tick(state, result)
            return
        _loop(state, service, interval, full)


def _emit_tick(state: CliState, result: ServiceTick, one_line: bool = False) -> None:
    document = result.as_dict()
    if state.json:
        click.echo(json.dumps(document, indent=None if one_line else 2))
        return
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    t = result.tick
    pending = sum((document["delivery"] or {}).get("pending", {}).values())
    line = (
        f"[dim]{iso_date(t.now)} block {t.block}:[/dim] {t.loans} loans, "
        f"{len(t.raised)} new notices"
    )
    if pending:
        line += f", [yellow]{pending} waiting for delivery[/yellow]"
    if result.keeper is not None:
        line += f", assessed {len(result.keeper['assessed'])}"
        if result.keeper["failed"]:
            line += f" ([red]{len(result.keeper['failed'])} failed[/red])"
    console.print(line)


def _loop(state: CliState, service: MonitorService, interval: int, full: bool = False) -> None:
    """Tick at once, then whenever a new block arrives (the head is polled every
    ``HEAD_POLL_S``) and at least every ``interval``; retry undelivered notices as their
    channel's backoff allows. Chain time only moves with blocks, so ticking on new blocks
    raises notices within a poll of the block that makes them due."""
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    last_head: int | None = None
    next_tick = 0.0
    try:
        while not stop.is_set():
            head = _head(service)
            if head is None or head != last_head or time.monotonic() >= next_tick:
                result = service.tick(full=full)
                last_head = head
                next_tick = time.monotonic() + interval
                if state.json or result.tick.raised or result.keeper:
                    _emit_tick(state, result, one_line=True)
            dispatcher = service.dispatcher
            retry = dispatcher.next_retry() if dispatcher is not None else None
            if dispatcher is not None and retry is not None and time.monotonic() >= retry:
                dispatcher.deliver()
            stop.wait(HEAD_POLL_S)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _head(service: MonitorService) -> int | None:
    try:
        return int(service.indexer.rpc.call("eth_blockNumber", [], timeout=5), 16)
    except Exception:  # the node is down: the tick's sync waits for it and says so
        return None


@monitor_group.command("notices")
@db_option
@click.option("--since", help="Only notices at or after this chain time (ISO date or unix s).")
@click.option("--kind", type=click.Choice(NOTICE_KINDS), help="Only notices of this kind.")
@click.option("--loan", "loan_id", type=click.IntRange(min=1), help="Only this loan's notices.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@csv_option
@json_option
@click.pass_context
def monitor_notices(
    ctx: click.Context,
    db_path: str,
    since: str | None,
    kind: str | None,
    loan_id: int | None,
    limit: int | None,
    csv_path: Path | None,
) -> None:
    """Notices raised so far, oldest first (reads the database only)."""
    state = state_of(ctx)
    since_ts = parse_date(since, "--since") if since is not None else None
    location = parse_location(db_path)
    if location.kind == "sqlite" and not Path(location.target).exists():
        raise InvalidInput(f"There is no index database at {db_path}; run `monitor run` first.")
    with IndexDB(db_path) as db:
        store = NoticeStore(db)
        notices = store.notices(since=since_ts, kind=kind, loan_id=loan_id, limit=limit)
        symbols = db.token_symbols()
        tokens = {i: s.token for i, s in db.loans({n.loan_id for n in notices}).items()}
        deliveries = {n.id: store.deliveries(n.seq or 0) for n in notices}
    document = {
        "count": len(notices),
        "notices": [
            {
                **n.to_json(),
                "delivered_to": [d["channel"] for d in deliveries[n.id] if d["delivered_at"]],
                "pending_for": [
                    d["channel"]
                    for d in deliveries[n.id]
                    if not d["delivered_at"] and not d["failed"]
                ],
            }
            for n in notices
        ],
    }

    if csv_path is not None:
        write_csv(
            csv_path,
            ("id", "kind", "loan_id", "borrower", "chain_time", "days_past_due", "amount", "what"),
            [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "loan_id": n.loan_id,
                    "borrower": n.borrower,
                    "chain_time": iso_date(n.chain_timestamp),
                    "days_past_due": n.days_past_due,
                    "amount": format_amount(n.amount, n.decimals),
                    "what": describe(n).split(": ", 1)[-1],
                }
                for n in notices
            ],
        )

    def render(console: Console) -> None:
        columns = [
            Column("chain time", kind="words"),
            Column("kind", kind="words"),
            Column("loan", "right"),
            Column("dpd", "right", drop=1),
            Column("amount", "right"),
            Column("what", kind="words"),
        ]
        cells = [
            [
                iso_date(n.chain_timestamp).replace("T", " "),
                n.kind.replace("_", " "),
                str(n.loan_id),
                str(n.days_past_due),
                money(n.amount, n.decimals, symbols.get(tokens.get(n.loan_id, ""), "")),
                describe(n, symbols.get(tokens.get(n.loan_id, ""), "")).split(": ", 1)[-1],
            ]
            for n in notices
        ]
        console.print(fitted_table(f"{len(notices)} notices", columns, cells, console.width))

    emit(state, document, render)
