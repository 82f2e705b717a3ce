"""Where notices go: the console (rich), a JSON-lines file, webhooks; delivered from the
outbox so that each channel gets each notice once.

A channel is known in the outbox by its ``name`` (``console``, ``jsonl:/abs/path``,
``webhook:URL``). :class:`Dispatcher` sends each channel's undelivered notices in the order
they were raised and marks each delivered as soon as the channel accepted it, so a crash
re-sends at most the notice in flight. Each notice is claimed from the outbox first
(:meth:`~loanservicing.monitoring.notices.NoticeStore.claim`), so that dispatchers in several
processes on one PostgreSQL database never send the same notice at once. While a channel
fails with a transient error (connection refused, timeout, HTTP 5xx, 408, 429) it is retried
with exponential backoff and the notices wait in the outbox, across restarts too; a
permanent refusal (another HTTP 4xx) marks that notice failed for that channel and moves on.

Duplicates after a crash: the JSON-lines channel reads the ids already in its file and never
writes one twice (it locks the file while it checks and appends, and reads what other
processes appended meanwhile); a webhook receiver gets the notice id in the body and in the
``Idempotency-Key`` header, to drop the rare repeat of a POST whose answer was lost.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

import requests
from rich.console import Console

from loanservicing.amounts import iso_date, money
from loanservicing.monitoring.errors import DeliveryError
from loanservicing.monitoring.notices import Notice, NoticeStore

__all__ = [
    "Channel",
    "ConsoleChannel",
    "DeliveryReport",
    "Dispatcher",
    "JsonLinesChannel",
    "WebhookChannel",
]

logger = logging.getLogger(__name__)

_STYLE = {
    "reminder": "cyan",
    "payment_received": "green",
    "overdue": "yellow",
    "bucket_changed": "yellow",
    "default_eligible": "red",
    "defaulted": "bold red",
    "restructured": "magenta",
    "holiday_granted": "magenta",
    "forbearance_granted": "magenta",
    "forbearance_ended": "magenta",
    "closed": "dim",
    "repayment_held": "bold yellow",
    "credit_report_failed": "bold magenta",
}


class Channel(Protocol):
    name: str

    def send(self, notice: Notice) -> None:
        """Deliver one notice or raise DeliveryError."""


def describe(notice: Notice, symbol: str = "") -> str:
    """One line for people; amounts with two decimals (and ``symbol``, the token's, if
    given), as every table prints them."""

    def amount(units: int) -> str:
        return money(units, notice.decimals, symbol)

    total = amount(notice.amount)
    due = f", due {iso_date(notice.due_timestamp)[:10]}" if notice.due_timestamp else ""
    d = notice.details
    text = {
        "reminder": f"installment {d.get('installment')} of {total}{due}",
        "payment_received": (
            f"{total} received (fees {amount(d.get('fees', 0))}, "
            f"penalty {amount(d.get('penalty', 0))}, interest "
            f"{amount(d.get('interest', 0))}, principal "
            f"{amount(d.get('principal', 0))})"
        ),
        "overdue": f"installment {d.get('installment')} unpaid after grace: {total}{due}",
        "bucket_changed": (
            f"now {d.get('to_bucket')} days past due (was {d.get('from_bucket')}), {total} past due"
        ),
        "default_eligible": (
            f"{notice.days_past_due} days past due reach the threshold of "
            f"{d.get('default_after_days')}"
        ),
        "defaulted": f"declared in default at {notice.days_past_due} days past due, {total} owed",
        "restructured": f"restructured, {total} principal outstanding",
        "closed": "closed" + (" after default" if d.get("after_default") else ""),
        "repayment_held": (
            f"{total} repaid but held by the ledger: the transfer to the lender "
            f"{d.get('lender')} failed ({amount(d.get('claimable', 0))} "
            "claimable with `loan claim`)"
        ),
        "holiday_granted": (
            f"payment holiday: installments {d.get('from_installment')}-"
            f"{d.get('through_installment')} skipped, {total} interest capitalised, "
            f"{amount(d.get('principal_outstanding', 0))} principal"
        ),
        "forbearance_granted": (
            f"in forbearance from {d.get('from_date')} to {d.get('to_date')}: days past due "
            "and charges paused"
        ),
        "forbearance_ended": f"forbearance ended early, {d.get('last_date')} its last day",
        "credit_report_failed": (
            f"the credit report {d.get('function')} failed ({d.get('error') or d.get('reason')});"
            " the servicing it reported stands"
        ),
    }.get(notice.kind, notice.kind)
    return f"loan {notice.loan_id}: {text}"


class ConsoleChannel:
    """One rich line per notice."""

    name = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)

    def send(self, notice: Notice) -> None:
        style = _STYLE.get(notice.kind, "")
        stamp = iso_date(notice.chain_timestamp)
        self.console.print(
            f"[dim]{stamp}[/dim] [{style}]{notice.kind:<17}[/{style}] {describe(notice)}"
        )


class JsonLinesChannel:
    """Appends one JSON object per notice to a file; never writes an id twice, even when
    several processes append to the file (each append holds the file's lock and first reads
    the lines added since its last look)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self.name = f"jsonl:{self.path}"
        self._ids: set[str] = set()
        self._read_to = 0  # bytes of the file already read for ids

    def _catch_up(self, file: BinaryIO) -> None:
        """Read the ids of the lines written since the last look (a torn last line from a
        crash is skipped; the next append ends it)."""
        if file.seek(0, os.SEEK_END) < self._read_to:  # the file was replaced: read it anew
            self._ids.clear()
            self._read_to = 0
        file.seek(self._read_to)
        for line in file.read().splitlines():
            try:
                self._ids.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue
        self._read_to = file.tell()

    def send(self, notice: Notice) -> None:
        if notice.id in self._ids:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as file:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # released when the file closes
                self._catch_up(file)
                if notice.id in self._ids:
                    return
                file.seek(0, os.SEEK_END)
                if file.tell() > 0:
                    file.seek(-1, os.SEEK_END)
                    if file.read(1) != b"\n":
                        file.write(b"\n")  # end a line torn by a crash
                line = json.dumps(notice.to_json(), separators=(",", ":")) + "\n"
                file.write(line.encode())
                file.flush()
                os.fsync(file.fileno())
                self._read_to = file.tell()
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc}") from exc
        self._ids.add(notice.id)


class WebhookChannel:
    """HTTP POST of the notice's JSON to ``url``; 2xx is delivered."""

    def __init__(
        self, url: str, timeout: float = 5.0, session: requests.Session | None = None
    ) -> None:
        self.url = url
        self.name = f"webhook:{url}"
        self.timeout = timeout
        self.session = session or requests.Session()

    def send(self, notice: Notice) -> None:
        body = json.dumps(notice.to_json(), separators=(",", ":"))
        try:
            response = self.session.post(
                self.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": notice.id,
                    "X-Loanservicing-Notice": notice.id,
                },
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise DeliveryError(f"no answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise DeliveryError("cannot be reached: refused, or no route to it") from exc
        except requests.RequestException as exc:
            reason = " ".join(str(exc).split())
            raise DeliveryError(f"{type(exc).__name__}: {reason}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        permanent = 400 <= status < 500 and status not in (408, 425, 429)
        raise DeliveryError(f"answered HTTP {status}", permanent=permanent)


@dataclass
class DeliveryReport:
    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, int] | dict[str, str]]:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self.pending,
            "errors": self.errors,
        }


@dataclass
class _Backoff:
    failures: int = 0
    next_try: float = 0.0


class Dispatcher:
    """Delivers the outbox of a :class:`NoticeStore` to a set of channels."""

    def __init__(
        self,
        store: NoticeStore,
        channels: Sequence[Channel],
        backoff_initial: float = 0.5,
        backoff_max: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.channels = list(channels)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.clock = clock
        self._backoff = {c.name: _Backoff() for c in self.channels}

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.channels]

    def next_retry(self) -> float | None:
        """Clock time of the earliest retry of a channel that is down (None: none is)."""
        waiting = [b.next_try for b in self._backoff.values() if b.failures]
        return min(waiting) if waiting else None

    def deliver(self) -> DeliveryReport:
        """Send every channel's undelivered notices; a channel that fails waits its backoff."""
        report = DeliveryReport()
        for channel in self.channels:
            state = self._backoff[channel.name]
            if state.failures and self.clock() < state.next_try:
                report.pending[channel.name] = self.store.pending_count(channel.name)
                continue
            delivered = failed = 0
            while True:
                with self.store.claim(channel.name) as claim:
                    if claim is None:
                        break
                    notice = claim.item.notice
                    try:
                        channel.send(notice)
                    except DeliveryError as exc:
                        claim.attempted(str(exc), exc.permanent)
                        if exc.permanent:
                            failed += 1
                            logger.error(
                                "%s refused notice %s for good: %s", channel.name, notice.id, exc
                            )
                            continue
                        state.failures += 1
                        delay = min(
                            self.backoff_initial * 2 ** (state.failures - 1), self.backoff_max
                        )
                        state.next_try = self.clock() + delay
                        report.errors[channel.name] = str(exc)
                        logger.warning(
                            "%s is unavailable (%s); retrying in %.1f s.", channel.name, exc, delay
                        )
                        break
                    claim.delivered()
                delivered += 1
                if state.failures:
                    logger.warning("%s accepts notices again.", channel.name)
                    state.failures, state.next_try = 0, 0.0
            if delivered:
                report.delivered[channel.name] = delivered
            if failed:
                report.failed[channel.name] = failed
            report.pending[channel.name] = self.store.pending_count(channel.name)
        return report

    def drain(self, attempts: int = 4) -> DeliveryReport:
        """Deliver, retrying a channel that is down with its backoff up to ``attempts`` times
        in all (for one-shot runs); whatever is left stays in the outbox."""
        report = self.deliver()
        for _ in range(attempts - 1):
            retry = self.next_retry()
            if retry is None:
                break
            time.sleep(max(0.0, retry - self.clock()))
            again = self.deliver()
            for name, count in again.delivered.items():
                report.delivered[name] = report.delivered.get(name, 0) + count
            for name, count in again.failed.items():
                report.failed[name] = report.failed.get(name, 0) + count
            report.pending = again.pending
            report.errors = again.errors
        return report
