"""`loanservicing node` runs Anvil in the foreground and stops it on Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from loanservicing.chain.node import _free_loopback_port
from loanservicing.chain.rpc import probe_chain_id


def test_node_runs_until_interrupted() -> None:
    port = _free_loopback_port()
    with subprocess.Popen(
        [sys.executable, "-m", "loanservicing.cli", "node", "--port", str(port),
         "--chain-id", "4242", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            started = json.loads(line)
            assert started["rpc_url"] == f"http://127.0.0.1:{port}"
            assert started["chain_id"] == 4242
            assert probe_chain_id(started["rpc_url"], timeout=5) == 4242
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=15) == 0
            rest = process.stdout.read()
            assert rest == ""  # --json: one document on stdout, nothing else
            try:
                os.kill(started["pid"], 0)
            except ProcessLookupError:
                pass
            else:  # a zombie is gone for all purposes
                with open(f"/proc/{started['pid']}/stat") as stat:
                    assert stat.read().split(")")[-1].split()[0] == "Z"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
