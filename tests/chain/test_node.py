from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.types import Wei

from loanservicing.chain.node import (
    AnvilNode,
    _free_loopback_port,
    chain_time,
    connect,
    find_anvil,
    increase_time,
    is_dev_chain,
    mine,
    revert,
    set_next_timestamp,
    snapshot,
)
from loanservicing.chain.rpc import probe_chain_id
from loanservicing.errors import LoanServicingError, NodeUnreachable


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists"; only a reaped or never-started pid is truly gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _process_exists(pid):
            return True
        time.sleep(0.05)
    return False


def test_find_anvil_prefers_the_pinned_binary() -> None:
    assert find_anvil().name == "anvil"
    assert "node_modules" in str(find_anvil())


def test_anvil_starts_on_a_free_port_answers_and_stops_without_leftovers() -> None:
    with AnvilNode(chain_id=4242, accounts=3) as node:
        assert node.rpc_url.startswith("http://127.0.0.1:")
        assert probe_chain_id(node.rpc_url, timeout=5) == 4242
        w3, started = connect(node.rpc_url)
        assert started is None
        assert len(w3.eth.accounts) == 3
        assert is_dev_chain(w3)
        pid = node.pid
        assert pid is not None and _process_exists(pid)
    assert not node.is_running
    assert not _process_exists(pid)
    node.stop()  # a second stop is harmless


def test_connect_without_url_starts_anvil() -> None:
    w3, node = connect(None)
    assert node is not None
    try:
        assert w3.eth.chain_id == 31337
        assert len(w3.eth.accounts) == 10
    finally:
        node.stop()
    assert node.pid is None


def test_connect_to_a_dead_url_raises_node_unreachable() -> None:
    url = f"http://127.0.0.1:{_free_loopback_port()}"
    with pytest.raises(NodeUnreachable, match="No Ethereum JSON-RPC node answered") as caught:
        connect(url)
    assert isinstance(caught.value, LoanServicingError)
    assert url in str(caught.value)


def test_anvil_that_cannot_start_reports_its_stderr(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'boom: bad flag' >&2\nexit 3\n")
    fake.chmod(0o755)

    with pytest.raises(NodeUnreachable, match="boom: bad flag"):
        AnvilNode(anvil_path=fake).start()


def test_time_travel(w3: Web3) -> None:
    start = chain_time(w3)
    increase_time(w3, 30 * 86_400)
    assert chain_time(w3) >= start + 30 * 86_400

    target = chain_time(w3) + 1_000
    set_next_timestamp(w3, target)
    mine(w3)
    assert chain_time(w3) == target

    mine(w3, timestamp=target + 5)
    assert chain_time(w3) == target + 5


def test_snapshot_and_revert(w3: Web3, accounts: list[ChecksumAddress]) -> None:
    sender, receiver = accounts[0], accounts[1]
    before = w3.eth.get_balance(receiver)
    block = w3.eth.block_number
    snap = snapshot(w3)

    tx = w3.eth.send_transaction({"from": sender, "to": receiver, "value": Wei(10**18)})
    w3.eth.wait_for_transaction_receipt(tx)
    assert w3.eth.get_balance(receiver) == before + 10**18

    revert(w3, snap)
    assert w3.eth.get_balance(receiver) == before
    assert w3.eth.block_number == block


@pytest.mark.parametrize("order", ["first", "second"])
def test_each_test_starts_from_the_same_chain_state(
    w3: Web3, accounts: list[ChecksumAddress], order: str
) -> None:
    # The autouse snapshot fixture reverts the previous test's transfer. The receiver is an
    # address no fixture touches (session fixtures spend the dev accounts' gas outside the
    # per-test snapshot, so a dev account's balance depends on which tests ran first).
    untouched = Web3.to_checksum_address("0x000000000000000000000000000000000000c0de")
    assert w3.eth.get_balance(untouched) == 0
    tx = w3.eth.send_transaction({"from": accounts[0], "to": untouched, "value": Wei(1)})
    w3.eth.wait_for_transaction_receipt(tx)
    assert w3.eth.get_balance(untouched) == 1


CHILD = """
import os, signal, sys, time
from loanservicing.chain.node import AnvilNode
node = AnvilNode().start()
sys.stdout.write(f"{node.pid}\\n")
sys.stdout.flush()
if sys.argv[1] == "crash":
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(60)
"""


@pytest.mark.parametrize(
    ("mode", "signal_to_send"),
    [("crash", None), ("sleep", signal.SIGTERM), ("sleep", signal.SIGINT)],
)
def test_anvil_dies_with_its_python_process(mode: str, signal_to_send: int | None) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        anvil_pid = int(child.stdout.readline())
        if signal_to_send is not None:
            child.send_signal(signal_to_send)
        child.wait(timeout=15)
    assert _wait_gone(anvil_pid), f"anvil pid {anvil_pid} outlived its parent"
