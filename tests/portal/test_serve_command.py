"""``loanservicing serve`` as a process against the session chain: it serves the portal, keeps
its index current while it runs (a loan originated after it started shows up), and stops
cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from loanservicing.cli import cli
from loanservicing.deployment.manifest import write_data_deployment, write_deployment
from tests.portal.portal_driver import ANVIL_CHAIN_ID, SharedData, free_port, sign_in
from tests.support.ledger_driver import UNIT, LedgerDriver


def _wait_for(url: str, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            _, stderr = process.communicate()
            raise AssertionError(f"serve exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.1)


def test_serve_serves_the_index_and_follows_the_chain(system: LedgerDriver, tmp_path: Path) -> None:
    first = system.originate(system.accounts[1], principal=1_000 * UNIT)
    deployment = tmp_path / "deployment.json"
    write_deployment(deployment, system.deployment)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "loanservicing.cli", "--rpc-url", system.rpc_url,
        "--deployment", str(deployment), "serve", "--port", str(port),
        "--db", str(tmp_path / "index.db"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(base + "/sign-in", process)
        with httpx.Client(base_url=base) as client:
            assert sign_in(client, 0, domain=f"127.0.0.1:{port}").json()["lender"] is True
            page = client.get(f"/loans/{first}")
            assert page.status_code == 200 and "1,000.00 tUSDC" in page.text
            second = system.originate(system.accounts[2], principal=2_000 * UNIT)
            deadline = time.monotonic() + 5
            while client.get(f"/loans/{second}").status_code != 200:
                assert time.monotonic() < deadline, "the new loan was not indexed"
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert f"Serving the portal at {base}" in stderr
    assert "Traceback" not in stderr


def test_serve_on_every_address_needs_its_host_names(tmp_path: Path) -> None:
    """Sign-in messages are bound to the host: listening on 0.0.0.0 without --allowed-host is
    one usage sentence, before any connection."""
    runner = CliRunner(mix_stderr=False)
    result = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "i.db")])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--allowed-host" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_serve_offers_the_regulator_pages_with_the_data_deployment(
    system: LedgerDriver, shared_data: SharedData, tmp_path: Path
) -> None:
    """With the data-sharing deployment (--data-deployment and --vault-dir), the
    served portal signs the regulator in to its pages and shows borrowers their vault log."""
    deployment, data_file = tmp_path / "deployment.json", tmp_path / "data.json"
    write_deployment(deployment, system.deployment)
    write_data_deployment(data_file, shared_data.summary.contracts.manifest(ANVIL_CHAIN_ID))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "loanservicing.cli", "--rpc-url", system.rpc_url,
        "--deployment", str(deployment), "serve", "--data-deployment", str(data_file),
        "--vault-dir", str(tmp_path / "vault"), "--port", str(port),
        "--db", str(tmp_path / "index.db"), "--bundles-dir", str(tmp_path / "served-bundles"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(base + "/sign-in", process)
        with httpx.Client(base_url=base) as client:
            reply = sign_in(client, 9, domain=f"127.0.0.1:{port}")
            assert reply.json()["regulator"] is True
            assert client.get("/regulator").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "no regulator pages" not in stderr
