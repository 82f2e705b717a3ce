"""The one JSON-RPC client against a real Anvil: batches in order, error answers, transport
failures, retries with backoff, timeouts, the probe."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from loanservicing.chain.errors import RpcError, RpcTimeout
from loanservicing.chain.node import AnvilNode, _free_loopback_port, is_dev_chain
from loanservicing.chain.rpc import Backoff, RpcClient, probe_chain_id
from loanservicing.errors import NodeUnreachable


class _Front:
    """An HTTP server in front of Anvil: ``answer(body)`` returns (status, reply bytes) or
    None to forward the request to Anvil unchanged."""

    def __init__(self, upstream: str, answer: Callable[[bytes], tuple[int, bytes] | None]) -> None:
        self.requests = 0

        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                front.requests += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answered = answer(body)
                if answered is None:
                    forwarded = urllib.request.Request(
                        upstream, body, {"Content-Type": "application/json"}
                    )
                    with urllib.request.urlopen(forwarded) as response:
                        answered = (200, response.read())
                status, data = answered
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def front(anvil: AnvilNode) -> Iterator[Callable[..., _Front]]:
    servers: list[_Front] = []

    def start(answer: Callable[[bytes], tuple[int, bytes] | None]) -> _Front:
        server = _Front(anvil.rpc_url, answer)
        threading.Thread(target=server.server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.server.shutdown()
        server.server.server_close()


def test_call_and_batch_return_the_nodes_results_in_order(anvil: AnvilNode, w3: Web3) -> None:
    rpc = RpcClient(anvil.rpc_url)
    assert rpc.chain_id() == w3.eth.chain_id
    numbers = list(range(w3.eth.block_number + 1))
    headers = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
    assert [int(h["number"], 16) for h in headers] == numbers
    assert headers[-1]["hash"] == w3.eth.get_block("latest")["hash"].to_0x_hex()
    assert rpc.batch([]) == []


def test_an_error_answer_is_an_rpc_error_naming_the_method(anvil: AnvilNode) -> None:
    rpc = RpcClient(anvil.rpc_url)
    with pytest.raises(RpcError, match="The node answered no_such_method with error") as caught:
        rpc.call("no_such_method", [])
    assert caught.value.method == "no_such_method"
    assert caught.value.code == -32601
    with pytest.raises(RpcError) as in_batch:
        rpc.batch([("eth_blockNumber", []), ("no_such_method", [])])
    assert in_batch.value.method == "no_such_method"


def test_responses_keep_each_requests_error(anvil: AnvilNode, w3: Web3) -> None:
    rpc = RpcClient(anvil.rpc_url)
    ok, bad, again = rpc.responses(
        [("eth_blockNumber", []), ("no_such_method", []), ("eth_chainId", [])]
    )
    assert int(ok["result"], 16) == w3.eth.block_number
    assert bad["error"]["code"] == -32601
    assert int(again["result"], 16) == w3.eth.chain_id


def test_a_whole_batch_refused_is_an_rpc_error(front: Callable[..., _Front]) -> None:
    refusal = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no batches"}}
    server = front(lambda body: (200, json.dumps(refusal).encode()))
    with pytest.raises(RpcError, match="no batches") as caught:
        RpcClient(server.url).batch([("eth_blockNumber", []), ("eth_chainId", [])])
    assert caught.value.code == -32600


def test_nobody_listening_is_node_unreachable() -> None:
    url = f"http://127.0.0.1:{_free_loopback_port()}"
    rpc = RpcClient(url, timeout=2)
    with pytest.raises(NodeUnreachable, match=r"^A JSON-RPC request eth_chainId to http"):
        rpc.call("eth_chainId")
    with pytest.raises(NodeUnreachable, match=r"^A JSON-RPC batch of 2 requests to http"):
        rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])])
    with pytest.raises(NodeUnreachable):
        probe_chain_id(url, timeout=1)


def test_overloaded_answers_are_retried_with_backoff(
    front: Callable[..., _Front], w3: Web3
) -> None:
    failures = {"left": 2}

    def busy_twice(body: bytes) -> tuple[int, bytes] | None:
        if failures["left"]:
            failures["left"] -= 1
            return 503, b"busy"
        return None

    server = front(busy_twice)
    patient = RpcClient(server.url, retries=3, backoff=Backoff(0.05, 0.1))
    started = time.monotonic()
    assert int(patient.call("eth_blockNumber"), 16) == w3.eth.block_number
    assert server.requests == 3
    assert time.monotonic() - started >= 0.05 + 0.1  # waited 0.05 s, then 0.1 s

    failures["left"] = 1
    with pytest.raises(NodeUnreachable, match="HTTP 503"):
        RpcClient(server.url).call("eth_blockNumber")  # no retries by default


def test_a_slow_node_is_a_timeout(front: Callable[..., _Front]) -> None:
    def slow(body: bytes) -> None:
        time.sleep(0.5)
        return None

    server = front(slow)
    with pytest.raises(RpcTimeout, match="did not answer a JSON-RPC request eth_chainId"):
        RpcClient(server.url, timeout=0.1).call("eth_chainId")
    assert RpcClient(server.url, timeout=0.1).chain_id(timeout=5) > 0  # a per-call timeout


def test_for_web3_talks_to_the_providers_node(anvil: AnvilNode) -> None:
    w3 = Web3(HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": 7}))
    rpc = RpcClient.for_web3(w3)
    assert rpc.url == anvil.rpc_url
    assert rpc.chain_id() == w3.eth.chain_id
    assert rpc.is_dev_chain


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(0.25, 1.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.25


def test_a_node_without_dev_methods_is_not_a_dev_chain(front: Callable[..., _Front]) -> None:
    def geth(body: bytes) -> tuple[int, bytes] | None:
        request = json.loads(body)
        if request["method"] in ("anvil_nodeInfo", "hardhat_metadata"):
            error = {"code": -32601, "message": "the method does not exist"}
            return 200, json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": error}).encode()
        if request["method"] == "web3_clientVersion":
            reply = {"jsonrpc": "2.0", "id": request["id"], "result": "Geth/v1.14.0"}
            return 200, json.dumps(reply).encode()
        return None

    server = front(geth)
    assert not RpcClient(server.url).is_dev_chain
    assert not is_dev_chain(Web3(HTTPProvider(server.url)))
    assert not is_dev_chain(Web3(HTTPProvider(f"http://127.0.0.1:{_free_loopback_port()}")))
