"""Fetching and decoding: adaptive getLogs ranges behind a provider that refuses big ranges,
and the fast decoder against web3's own decoding of the same logs."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from loanservicing.indexing.sync import Indexer
from loanservicing.ledger.schedule import ScheduleKind
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

LIMIT_BLOCKS = 3


class _Provider:
    """A JSON-RPC proxy that answers getLogs over more than LIMIT_BLOCKS blocks with the
    error Alchemy-style providers send, and forwards everything else to Anvil."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refused = 0
        self.limit_blocks: int | None = LIMIT_BLOCKS
        self.strip_timestamps = False
        """Answer getLogs without ``blockTimestamp``, as nodes before it was added do."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = proxy.handle(json.loads(body))
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, request: Any) -> Any:
        if isinstance(request, list):
            return [self.handle(r) for r in request]
        if request["method"] == "eth_getLogs":
            f = request["params"][0]
            span = int(f["toBlock"], 16) - int(f["fromBlock"], 16) + 1
            if self.limit_blocks is not None and span > self.limit_blocks:
                self.refused += 1
                message = "query returned more than 10000 results. Try with this block range"
                return {"jsonrpc": "2.0", "id": request["id"],
                        "error": {"code": -32602, "message": message}}  # fmt: skip
        forwarded = urllib.request.Request(
            self.upstream, json.dumps(request).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(forwarded) as response:
            reply = json.loads(response.read())
        if self.strip_timestamps and request["method"] == "eth_getLogs":
            for log in reply.get("result") or []:
                log.pop("blockTimestamp", None)
        return reply


@pytest.fixture
def provider(system: LedgerDriver) -> Iterator[_Provider]:
    proxy = _Provider(system.rpc_url)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.server.shutdown()
    proxy.server.server_close()


def _activity(s: LedgerDriver) -> None:
    borrower = s.accounts[1]
    s.rpc("evm_mine", [])  # the latest block at the node's clock, which ran on meanwhile
    t0 = s.now() + 10
    a = s.originate(borrower, at=t0)
    b = s.originate(borrower, kind=ScheduleKind.BULLET, at=t0 + 1)
    for n in range(6):
        s.repay(a if n % 2 else b, (n + 1) * 100 * UNIT, borrower, at=t0 + (n + 1) * 20 * DAY)


def _through_provider(
    system: LedgerDriver, provider: _Provider, tmp_path: Path, **options: Any
) -> Indexer:
    """After ``_activity``: an indexer synced through ``provider``, checked to end where a
    direct sync ends with the same database."""
    _activity(system)
    direct = make_indexer(system, tmp_path / "direct.db")
    direct.sync()
    indexer = make_indexer(system, tmp_path / "through.db", **options)
    indexer.rpc.url = provider.url
    report = indexer.sync()
    assert report.end_block == direct.checkpoint()[0]
    assert indexer.db.dump() == direct.db.dump()
    return indexer


def test_ranges_shrink_on_too_many_results_and_the_index_is_the_same(
    system: LedgerDriver, provider: _Provider, tmp_path: Path
) -> None:
    limited = _through_provider(system, provider, tmp_path, initial_range=64)
    assert provider.refused >= 1
    assert limited.range_size < 64


def test_logs_without_block_timestamps_take_them_from_the_headers(
    system: LedgerDriver, provider: _Provider, tmp_path: Path
) -> None:
    provider.limit_blocks, provider.strip_timestamps = None, True
    old_node = _through_provider(system, provider, tmp_path)
    assert not old_node._streaming  # ranges fetched whole once the first part had none


def test_ranges_grow_while_sparse(system: LedgerDriver, tmp_path: Path) -> None:
    for _ in range(40):
        system.rpc("evm_mine", [])
    indexer = make_indexer(system, tmp_path / "i.db", initial_range=2, max_range=16)
    report = indexer.sync()
    assert indexer.range_size == 16
    assert report.ranges < 10


def test_decoding_equals_web3s(system: LedgerDriver, tmp_path: Path) -> None:
    _activity(system)
    indexer = make_indexer(system, tmp_path / "i.db")
    indexer.sync()
    ours = {(r.tx_hash, r.log_index): (r.event, r.args) for r in indexer.db.logs()}
    theirs = {}
    for contract in (system.ledger, system.registry):
        for event in contract.all_events():
            for log in event.get_logs(from_block=system.block):
                key = ("0x" + bytes(log["transactionHash"]).hex(), log["logIndex"])
                theirs[key] = (log["event"], _plain(log["args"]))
    assert ours == theirs
    assert {name for name, _ in ours.values()} >= {
        "LoanOriginated", "RepaymentApplied", "RepaymentReported", "LoanOpenedReported",
    }  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
