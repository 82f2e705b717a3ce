"""``demo --serve`` as a real process: after a small run it serves the portal over the demo's
portfolio on its still-running temporary Anvil; the lender signs in through the dev-chain
sign-in and sees the demo's loans, the fund only its own; SIGTERM stops it cleanly (exit 0)
and takes its Anvil down."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from loanservicing.cli import cli
from loanservicing.demo.origination import FUND_SHARE
from tests.portal.portal_driver import free_port, html_tables

LOANS = 6
_SERVING = re.compile(
    r"Serving the demo's portfolio at (?P<url>http://\S+) .*chain (?P<chain>http://[^)\s]+)\)"
)


def _wait_for_line(log: Path, process: subprocess.Popen[bytes], timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = _SERVING.search(log.read_text(encoding="utf8"))
        if found is not None:
            return found
        assert process.poll() is None, log.read_text(encoding="utf8")
        assert time.monotonic() < deadline, "demo --serve printed no URL"
        time.sleep(0.2)


def _dev_sign_in(client: httpx.Client, address: str) -> httpx.Response:
    client.cookies.clear()
    page = client.get("/sign-in").text
    assert address in page
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    reply = client.post("/dev-sign-in", data={"csrf": match.group(1), "address": address})
    assert reply.status_code == 303, reply.text
    return reply


def _loans_by_status(client: httpx.Client) -> dict[str, int]:
    reply = client.get("/portfolio")
    assert reply.status_code == 200
    return {status: int(n) for status, n in html_tables(reply.text)["status"][1:]}


def _reachable(rpc_url: str) -> bool:
    request = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    try:
        httpx.post(rpc_url, json=request, timeout=2)
    except httpx.TransportError:
        return False
    return True


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    return [int(child) for child in text.split()]


def test_demo_serve_serves_the_demo_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    out, err = tmp_path / "stdout.json", tmp_path / "stderr.txt"
    command = [
        sys.executable, "-m", "loanservicing.cli", "demo", "--json", "--serve",
        "--loans", str(LOANS), "--months", "2", "--borrowers", "3", "--port", str(port),
    ]  # fmt: skip
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
    try:
        serving = _wait_for_line(err, process, timeout=300)
        base, chain = serving["url"], serving["chain"]
        assert base == f"http://127.0.0.1:{port}"
        anvils = _children(process.pid)
        assert anvils and _reachable(chain)
        report = json.loads(out.read_text(encoding="utf8"))  # the report, then the portal
        lender, fund = re.findall(r"the (?:lender|fund) (0x[0-9a-fA-F]{40})", err.read_text())
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:  # the portal answers once its index follower caught up
                try:
                    if client.get("/sign-in").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the portal did not answer"
                time.sleep(0.2)
            assert _dev_sign_in(client, lender).headers["location"] == "/portfolio"
            every = _loans_by_status(client)
            assert sum(every.values()) >= LOANS
            assert every["closed"] == report["summary"]["by_status"]["closed"]
            for loan in range(1, LOANS + 1):
                page = client.get(f"/loans/{loan}")
                assert page.status_code == 200 and f"Loan {loan}" in page.text
            assert client.get("/collections").status_code == 200
            # The fund lends every FUND_SHARE-th loan: its portfolio holds only those.
            assert _dev_sign_in(client, fund).headers["location"] == "/portfolio"
            own = _loans_by_status(client)
            assert 1 <= sum(own.values()) < sum(every.values())
            assert client.get(f"/loans/{FUND_SHARE}").status_code == 200
            assert client.get("/loans/1").status_code == 403
            # The data-sharing scenario's regulator: every lender's figures, not a lender.
            (regulator,) = re.findall(r"the regulator (0x[0-9a-fA-F]{40})", err.read_text())
            assert _dev_sign_in(client, regulator).headers["location"] == "/regulator"
            assert client.get("/regulator").status_code == 200
            assert client.get("/portfolio").status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    log = err.read_text(encoding="utf8")
    assert process.returncode == 0, log
    assert "Stopped the portal." in log and "Traceback" not in log
    assert not _reachable(chain)
    for anvil in anvils:
        assert not Path(f"/proc/{anvil}").exists(), f"the demo's Anvil {anvil} is still running"


def test_port_and_db_go_with_serve() -> None:
    result = CliRunner(mix_stderr=False).invoke(cli, ["demo", "--port", "8001"])
    assert result.exit_code == 2 and "--serve" in result.stderr


def test_a_port_in_use_is_refused_before_the_run() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner(mix_stderr=False).invoke(cli, ["demo", "--serve", "--port", str(port)])
    assert result.exit_code == 1 and "in use" in result.stderr
    assert "Deploying" not in result.stderr
