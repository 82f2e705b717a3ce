"""The any-node claim: the package's generic paths against a Hardhat Network node, not Anvil.

The test starts ``hardhat node`` (npm ``hardhat@2``, pinned in package.json) in a temporary
project whose ``hardhat.config.js`` is ``module.exports = {}``, and runs deploy -> originate ->
repay -> ``loan(id)`` through ``deploy_system`` and ``transactions.send`` (Hardhat's unlocked
dev accounts), then the same through the bulk path (local keys derived from the mnemonic both
nodes share), including a decoded revert. Nothing here is Anvil-specific.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any, cast

import pytest
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.bulk import BulkSender, BulkSenders, estimate_gas
from loanservicing.chain.errors import BulkTransactionFailed, TransactionReverted
from loanservicing.chain.node import is_dev_chain
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import send
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_system
from loanservicing.ledger.schedule import DAY
from loanservicing.paths import NODE_MODULES
from loanservicing.servicing.borrower_signature import PLAIN_CALENDAR, TermsSigner

HARDHAT = NODE_MODULES / ".bin" / "hardhat"
STARTUP_TIMEOUT_S = 60.0
UNIT = 10**6
ACTIVE, CLOSED = 0, 2


def _die_with_parent() -> None:
    """In the child before exec: Linux kills the node if pytest dies without cleaning up."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _chain_id(url: str) -> int:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, body.encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return int(json.loads(response.read())["result"], 16)


@pytest.fixture(scope="module")
def hardhat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert HARDHAT.is_file(), f"{HARDHAT} is missing: run `npm ci` (hardhat@2 is in package.json)."
    project = tmp_path_factory.mktemp("hardhat-project")
    (project / "hardhat.config.js").write_text("module.exports = {};\n")
    # Hardhat refuses to run from a project that does not resolve `hardhat` locally (HH12).
    (project / "node_modules").symlink_to(NODE_MODULES)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = project / "hardhat-node.log"
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true", "CI": "true"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"hardhat node exited with code {process.returncode}: "
                    f"{log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                assert _chain_id(url) == 31337
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"hardhat node did not answer on {url} in {STARTUP_TIMEOUT_S} s.")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.poll() is not None


def dev_key(index: int) -> LocalAccount:
    return dev_signer(index).local_account()


def _loan(ledger: Contract, loan_id: int) -> dict[str, Any]:
    outputs = next(
        item["outputs"][0]["components"]
        for item in cast(list[dict[str, Any]], ledger.abi)
        if item.get("type") == "function" and item["name"] == "loan"
    )
    raw = ledger.functions.loan(loan_id).call()
    return dict(zip([c["name"] for c in outputs], raw, strict=True))


def _terms(borrower: str, token: str, principal: int, now: int, kind: int = 0) -> tuple[Any, ...]:
    return (borrower, token, principal, 1200, 12, 30 * DAY, now + 30 * DAY, kind,
            5 * DAY, 500, 600, 90, *PLAIN_CALENDAR)  # fmt: skip


def _loan_ids(ledger: Contract, receipts: Any) -> list[int]:
    return [
        int(event["args"]["loanId"])
        for receipt in receipts
        for event in ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
    ]


def test_deploy_originate_repay_show_on_hardhat(
    hardhat_url: str, artifacts: dict[str, ContractArtifact]
) -> None:
    w3 = Web3(HTTPProvider(hardhat_url))
    assert "hardhat" in str(w3.client_version).lower()
    assert is_dev_chain(w3)
    admin, borrower = list(w3.eth.accounts)[:2]
    assert [admin, borrower] == [dev_key(0).address, dev_key(1).address]
    decoder: RevertDecoder = revert_decoder(artifacts)

    # -- deploy and the simple path: the node signs for its unlocked dev accounts --------
    deployer = TransactionSender(w3, dev_signer(0), decoder)
    system = bind(w3, deploy_system(deployer, artifacts), artifacts)
    ledger, token = system.ledger, system.token
    send(w3, token.functions.mint(admin, 10**6 * UNIT), admin, decoder)
    send(w3, token.functions.approve(ledger.address, 2**256 - 1), admin, decoder)
    send(w3, token.functions.approve(ledger.address, 2**256 - 1), borrower, decoder)
    now = int(w3.eth.get_block("latest")["timestamp"])
    signer = TermsSigner(ledger)  # the borrowers sign their terms (EIP-712)
    terms = _terms(borrower, token.address, 12_000 * UNIT, now)
    receipt = send(
        w3, signer.originate(dev_key(1), terms, admin, now + DAY), admin, decoder, "Originating"
    )
    (loan_id,) = _loan_ids(ledger, [receipt])
    loan = _loan(ledger, loan_id)
    assert (loan["borrower"], loan["lender"], loan["token"]) == (borrower, admin, token.address)
    assert (loan["status"], loan["principal"], loan["installmentsPaid"]) == (
        ACTIVE,
        12_000 * UNIT,
        0,
    )
    _, principal, interest = ledger.functions.installment(loan_id, 1).call()
    send(w3, ledger.functions.repay(loan_id, principal + interest), borrower, decoder)
    loan = _loan(ledger, loan_id)
    assert loan["installmentsPaid"] == 1
    assert loan["principalOutstanding"] == 12_000 * UNIT - principal
    assert loan["paidInterest"] == interest
    with pytest.raises(TransactionReverted) as info:
        send(w3, ledger.functions.repay(loan_id + 100, UNIT), borrower, decoder)
    assert info.value.error_name == "LoanNotFound"

    # -- the bulk path: local keys, managed nonces, JSON-RPC batches --------------------
    lender = BulkSender(w3, dev_key(0), decoder, batch_size=4)
    keys = [dev_key(1), dev_key(2)]
    borrowers = [key.address for key in keys]
    # Signed ahead of mining: the signer counts each borrower's nonces.
    originations = [
        signer.originate(
            keys[i % 2],
            _terms(borrowers[i % 2], token.address, (100 + i) * UNIT, now, i % 3),
            admin,
            now + DAY,
        )
        for i in range(10)
    ]
    # A first loan to a borrower costs more (its credit record is new): the larger estimate.
    gas = max(estimate_gas(fn, admin) for fn in originations[:2])
    receipts = lender.send_all((fn, gas) for fn in originations)
    ids = _loan_ids(ledger, receipts)
    assert ids == list(range(loan_id + 1, loan_id + 11))
    assert w3.eth.get_transaction_count(admin) == lender.nonce
    send(w3, token.functions.approve(ledger.address, 2**256 - 1), borrowers[1], decoder)
    for account in borrowers:  # the interest on top of the principal they received
        send(w3, token.functions.mint(account, 1_000 * UNIT), admin, decoder)
    payers = BulkSenders(w3, [dev_key(1), dev_key(2)], decoder)
    # The payoff counts interest to the day: a unit more covers a day boundary before mining
    # (the ledger pulls at most the payoff).
    payoffs = [ledger.functions.payoffAmount(i).call() + UNIT for i in ids]
    payers.send_all(
        (borrowers[n % 2], ledger.functions.repay(i, payoff), 400_000)
        for n, (i, payoff) in enumerate(zip(ids, payoffs, strict=True))
    )
    for n, i in enumerate(ids):
        loan = _loan(ledger, i)
        assert loan["status"] == CLOSED
        assert loan["principal"] == (100 + n) * UNIT
        assert loan["principalOutstanding"] == 0
        assert loan["borrower"] == borrowers[n % 2]

    # A revert inside a bulk batch is found and named on Hardhat too.
    with pytest.raises(BulkTransactionFailed) as failed:
        payers.send_all([(borrowers[0], ledger.functions.repay(ids[0], UNIT), 400_000)])
    assert failed.value.indices == [0]
    assert failed.value.failures[0].error_name == "LoanNotActive"
