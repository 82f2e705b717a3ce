"""Channels: a webhook down then up gets every notice exactly once (also across a restart),
the JSON-lines file, the console."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console

from loanservicing.errors import LoanServicingError
from loanservicing.monitoring.channels import (
    ConsoleChannel,
    Dispatcher,
    JsonLinesChannel,
    WebhookChannel,
)
from loanservicing.monitoring.errors import DeliveryError
from loanservicing.monitoring.monitor import Monitor
from loanservicing.monitoring.notices import NoticeStore
from tests.support.indexing import open_index
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver
from tests.support.monitoring import Watch
from tests.support.monitoring import make_notice as _notice


class Receiver:
    """A webhook endpoint on 127.0.0.1: refuses connections until started, then answers
    410 on ``/gone``, 503 while ``failing`` and 200 otherwise, recording every accepted body."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/notices"
        self.failing = 0
        self.accepted: list[dict[str, object]] = []
        self.keys: list[str] = []
        self.refused = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path.endswith("/gone"):
                    receiver.refused += 1
                    self.send_response(410)
                elif receiver.failing > 0:
                    receiver.failing -= 1
                    receiver.refused += 1
                    self.send_response(503)
                else:
                    receiver.accepted.append(json.loads(body))
                    receiver.keys.append(str(self.headers["Idempotency-Key"]))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_webhook_down_then_up_gets_each_notice_once(tmp_path: Path, receiver: Receiver) -> None:
    db = open_index(tmp_path / "index.db")
    store = NoticeStore(db)
    hook = WebhookChannel(receiver.url, timeout=2)
    clock = Clock()
    dispatcher = Dispatcher(store, [hook], backoff_initial=1.0, backoff_max=8.0, clock=clock)
    with db.transaction():
        store.insert([_notice(1, k) for k in range(1, 4)], dispatcher.names)
    # Connection refused: nothing delivered, retried after 1 s, then 2 s, 4 s.
    report = dispatcher.deliver()
    assert report.pending == {hook.name: 3} and "cannot be reached" in report.errors[hook.name]
    assert dispatcher.next_retry() == 1.0
    assert dispatcher.deliver().pending == {hook.name: 3}  # backing off: not even tried
    clock.now = 1.0
    dispatcher.deliver()
    assert dispatcher.next_retry() == 3.0
    # The endpoint comes up but answers 503 twice.
    receiver.start()
    receiver.failing = 2
    clock.now = 3.0
    dispatcher.deliver()
    clock.now = 7.0
    dispatcher.deliver()
    assert receiver.refused == 2 and receiver.accepted == []
    assert dispatcher.next_retry() == 15.0  # capped at 8 s
    # More notices are raised meanwhile; when the endpoint is back all arrive once, in order.
    with db.transaction():
        store.insert([_notice(2, k) for k in range(1, 3)], dispatcher.names)
    clock.now = 15.0
    report = dispatcher.deliver()
    assert report.delivered == {hook.name: 5} and report.pending == {hook.name: 0}
    ids = [n.id for n in store.notices()]
    assert [body["id"] for body in receiver.accepted] == ids
    assert receiver.keys == ids
    assert dispatcher.deliver().delivered == {}
    assert store.deliveries(1)[0]["attempts"] == 5  # refused, refused, 503, 503, delivered
    db.close()


def test_undelivered_notices_survive_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "index.db"
    with open_index(path) as db:
        store = NoticeStore(db)
        hook = WebhookChannel(receiver.url, timeout=2)
        with db.transaction():
            store.insert([_notice(1, k) for k in range(1, 5)], [hook.name])
        report = Dispatcher(store, [hook], backoff_initial=0.01).drain(attempts=3)
        assert report.pending == {hook.name: 4}
    # "Restart": a new process opens the same file; the endpoint is up now.
    receiver.start()
    with open_index(path) as db:
        store = NoticeStore(db)
        hook = WebhookChannel(receiver.url, timeout=2)
        report = Dispatcher(store, [hook]).deliver()
        assert report.delivered == {hook.name: 4}
        assert Dispatcher(store, [hook]).deliver().delivered == {}
    assert len(receiver.accepted) == 4 == len({str(b["id"]) for b in receiver.accepted})


def test_permanent_refusal_is_not_retried(tmp_path: Path, receiver: Receiver) -> None:
    receiver.start()
    with open_index(tmp_path / "index.db") as db:
        store = NoticeStore(db)
        gone = WebhookChannel(receiver.url.replace("/notices", "/gone"), timeout=2)
        with pytest.raises(DeliveryError) as refused:
            gone.send(_notice(9, 1))
        assert refused.value.permanent and isinstance(refused.value, LoanServicingError)
        assert str(refused.value) == "answered HTTP 410"
        with db.transaction():
            store.insert([_notice(1, 1), _notice(1, 2)], [gone.name])
        dispatcher = Dispatcher(store, [gone])
        report = dispatcher.deliver()
        assert report.failed == {gone.name: 2} and report.pending == {gone.name: 0}
        assert report.errors == {} and dispatcher.next_retry() is None  # no backoff
        assert dispatcher.deliver().failed == {}  # never sent again
        assert receiver.refused == 3
        (row,) = store.deliveries(1)
        assert row["failed"] and not row["delivered_at"] and row["attempts"] == 1
        assert row["last_error"] == "answered HTTP 410"


def test_jsonl_file_holds_each_notice_once_even_after_a_torn_write(tmp_path: Path) -> None:
    path = tmp_path / "out" / "notices.jsonl"
    with open_index(tmp_path / "index.db") as db:
        store = NoticeStore(db)
        channel = JsonLinesChannel(path)
        with db.transaction():
            store.insert([_notice(1, 1), _notice(1, 2)], [channel.name])
        assert Dispatcher(store, [channel]).deliver().delivered == {channel.name: 2}
        # A crash after writing notice 3 but before marking it delivered, plus a torn line.
        with db.transaction():
            (third,) = store.insert([_notice(1, 3)], [channel.name])
        channel.send(third)
        with path.open("a") as file:
            file.write('{"id": "torn')
        restarted = JsonLinesChannel(path)
        assert Dispatcher(store, [restarted]).deliver().delivered == {restarted.name: 1}
    lines = path.read_text().splitlines()
    documents = [json.loads(line) for line in lines if not line.startswith('{"id": "torn')]
    assert [d["id"] for d in documents] == [_notice(1, k).id for k in (1, 2, 3)]
    first = documents[0]
    assert {
        "id",
        "kind",
        "loan_id",
        "borrower",
        "days_past_due",
        "amount",
        "decimals",
        "due_timestamp",
        "chain_timestamp",
        "block",
    } <= set(first)
    assert first["amount"] == 1_066_185_001 and isinstance(first["amount"], int)
    assert first["decimals"] == 6 and first["block"] == 42


def test_console_prints_one_line_per_notice(tmp_path: Path) -> None:
    buffer = io.StringIO()
    channel = ConsoleChannel(Console(file=buffer, width=200, color_system=None))
    channel.send(_notice(7, 2))
    text = buffer.getvalue()
    assert text.count("\n") == 1
    assert "overdue" in text and "loan 7: installment 2 unpaid after grace: 1,066.19" in text


# ------------------------------------------------------------------ end to end on Anvil


def test_monitor_notices_reach_a_flaky_webhook_and_a_file_once(
    system: LedgerDriver, tmp_path: Path, receiver: Receiver
) -> None:
    s = system
    watch = Watch(s, tmp_path / "index.db")
    hook = WebhookChannel(receiver.url, timeout=2)
    jsonl = JsonLinesChannel(tmp_path / "notices.jsonl")
    channels = (hook.name, jsonl.name)
    clock = Clock()
    dispatcher = Dispatcher(watch.monitor.store, [hook, jsonl], backoff_initial=1, clock=clock)
    loans = [s.originate(s.accounts[1 + i]) for i in range(3)]
    due1 = s.due_date(loans[0], 1)
    s.repay(loans[0], 1_000 * UNIT, s.accounts[1])
    raised = list(watch.tick(due1 - 3 * DAY, channels).raised)
    dispatcher.deliver()  # the endpoint refuses connections
    raised += watch.tick(due1 + 6 * DAY, channels).raised
    clock.now = 5
    dispatcher.deliver()
    receiver.start()
    receiver.failing = 1
    clock.now = 10
    dispatcher.deliver()  # 503
    raised += watch.tick(due1 + 40 * DAY, channels).raised
    # A new monitor process on the same file delivers what is left.
    restarted = Monitor(watch.indexer.db)
    later = Dispatcher(restarted.store, [WebhookChannel(receiver.url), jsonl])
    assert later.deliver().pending == {hook.name: 0, jsonl.name: 0}
    ids = [n.id for n in raised]
    assert len(ids) == len(set(ids)) >= 10
    assert [str(b["id"]) for b in receiver.accepted] == ids
    lines = (tmp_path / "notices.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ids
