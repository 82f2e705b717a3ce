"""Latency: with 1-second blocks, ``monitor run`` raises a repayment's notice within one
second of the block that holds it (its own Anvil with ``--block-time 1``)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from web3 import HTTPProvider, Web3

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.node import RPC_TIMEOUT_S, AnvilNode
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_system
from loanservicing.deployment.manifest import write_deployment
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.devchain import faucet
from loanservicing.servicing.servicer import LoanTerms, Servicer
from tests.support.ledger_driver import UNIT


def test_payment_notice_within_a_second_of_its_block(
    tmp_path: Path, artifacts: dict[str, ContractArtifact]
) -> None:
    with AnvilNode(block_time=1) as node:
        w3 = Web3(HTTPProvider(node.rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_S}))
        decoder = revert_decoder(artifacts)
        deployment = deploy_system(TransactionSender(w3, dev_signer(0), decoder), artifacts)
        write_deployment(tmp_path / "deployment.json", deployment)
        lender = Servicer(w3, deployment, artifacts, dev_signer(0))
        borrower = dev_signer(1)
        faucet(lender, lender.account, 1_000 * UNIT)
        loan_id = lender.originate(
            LoanTerms(borrower.address, 1_000 * UNIT, 1200, 6, 30 * DAY)
        ).loan_id
        faucet(lender, borrower.address, 1_000 * UNIT)
        lender.as_account(borrower).ensure_allowance(1_000 * UNIT)
        command = [
            sys.executable, "-m", "loanservicing.cli", "--rpc-url", node.rpc_url,
            "--deployment", str(tmp_path / "deployment.json"),
            "monitor", "run", "--db", str(tmp_path / "index.db"), "--interval", "60s", "--json",
        ]  # fmt: skip
        lines: list[tuple[float, dict[str, object]]] = []
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        ) as process:
            try:
                assert process.stdout is not None
                stdout = process.stdout

                def read() -> None:
                    for line in stdout:
                        lines.append((time.monotonic(), json.loads(line)))

                reader = threading.Thread(target=read, daemon=True)
                reader.start()
                deadline = time.monotonic() + 30
                while not lines and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert lines, "monitor run printed nothing"
                sender = TransactionSender(w3, borrower, decoder)
                tx_hash = sender.submit(
                    lender.ledger.functions.repay(loan_id, 100 * UNIT), gas=700_000
                )
                mined_at = None
                while mined_at is None and time.monotonic() < deadline:
                    try:
                        w3.eth.get_transaction_receipt(tx_hash)
                        mined_at = time.monotonic()
                    except Exception:
                        time.sleep(0.01)
                assert mined_at is not None
                noticed_at = None
                while noticed_at is None and time.monotonic() < deadline:
                    for at, tick in list(lines):
                        kinds = [n["kind"] for n in tick["notices"]]  # type: ignore[attr-defined]
                        if "payment_received" in kinds:
                            noticed_at = at
                    time.sleep(0.01)
                assert noticed_at is not None
                assert noticed_at - mined_at < 1.0, noticed_at - mined_at
            finally:
                process.terminate()
                process.wait(timeout=15)
