"""``index sync`` and ``index verify`` through the main CLI: the node and contracts from the
global options and the deployment file, from the command's own options, or from the
database."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.cli import cli
from loanservicing.deployment.manifest import Deployment
from loanservicing.indexing.database import IndexDB
from tests.cli.driver import Cli

BORROWER = dev_signer(1).address


def _targets(run: Cli, deployment: Deployment) -> list[str]:
    return [
        "--db", str(run.db), "--rpc-url", run.url, "--ledger", deployment.ledger.address,
        "--registry", deployment.credit_registry.address, "--from-block", str(deployment.block),
    ]  # fmt: skip


def test_sync_then_verify_from_the_deployment(run: Cli, w3: Web3) -> None:
    loan_id = run.create(BORROWER, "1000")
    run.json("faucet", BORROWER, "100")
    run.json("repay", str(loan_id), "50", "--account", "1")
    report = run.json("index", "sync", "--db", str(run.db))
    assert report["end_block"] == w3.eth.block_number
    assert report["loans"] >= 1 and report["logs"] >= 4
    assert report["db"] == str(run.db)
    verdict = run.json("index", "verify", "--db", str(run.db))
    assert verdict["ok"] is True and verdict["differences"] == []
    assert verdict["loans_checked"] == report["loans"]
    text = run.raw("index", "sync", "--db", str(run.db))
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith("Indexed blocks ") and f"in {run.db}" in text.stdout


def test_own_options_then_the_database_remembers_the_contracts(
    run: Cli, deployment: Deployment, tmp_path: Path
) -> None:
    run.create(BORROWER, "1000")
    runner = run.runner
    synced = runner.invoke(cli, ["index", "sync", *_targets(run, deployment), "--json"])
    assert synced.exit_code == 0, synced.stderr
    assert json.loads(synced.stdout)["loans"] >= 1
    # Once the database exists, its recorded contracts are the defaults.
    verified = runner.invoke(
        cli, ["index", "verify", "--db", str(run.db), "--rpc-url", run.url, "--json"]
    )
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["ok"] is True


def test_verify_exits_non_zero_and_names_each_difference(run: Cli) -> None:
    run.create(BORROWER, "1000")
    assert run.raw("index", "sync", "--db", str(run.db)).exit_code == 0
    with IndexDB(run.db) as db, db.transaction():
        db.conn.execute("UPDATE loans SET bucket = 3")
        db.conn.execute("UPDATE credit_reporters SET loans_opened = 7")  # per-reporter figures
    result = run.raw("index", "verify", "--db", str(run.db))
    assert result.exit_code == 1
    assert "bucket is 3 in the index but 0 on chain." in result.stdout
    assert "loansOpened is 7 in the index but" in result.stdout
    assert "difference(s)" in result.stdout
    as_json = run.raw("--json", "index", "verify", "--db", str(run.db))
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["ok"] is False


def test_missing_contracts_are_a_usage_error(run: Cli, tmp_path: Path) -> None:
    run.deployment_file = tmp_path / "missing.json"
    result = run.runner.invoke(
        cli,
        ["index", "sync", "--db", str(tmp_path / "i.db"), "--rpc-url", "http://127.0.0.1:1"],
    )
    assert result.exit_code == 2
    assert "pass --ledger and --registry" in result.stderr
    no_node = run.runner.invoke(
        cli, ["index", "sync", "--db", str(tmp_path / "i.db")], env={"LOANSERVICING_RPC_URL": ""}
    )
    assert no_node.exit_code == 2 and "No node given" in no_node.stderr


def test_a_named_deployment_file_that_is_missing_is_one_sentence(run: Cli, tmp_path: Path) -> None:
    run.deployment_file = tmp_path / "missing.json"
    run.fails("index", "sync", "--db", str(run.db), match="No deployment file")


def test_an_unreachable_node_is_one_sentence(run: Cli, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run.runner.invoke(
        cli,
        [
            "index", "sync", "--db", str(tmp_path / "i.db"), "--rpc-url",
            f"http://127.0.0.1:{port}", "--ledger", "0x" + "11" * 20,
            "--registry", "0x" + "22" * 20, "--give-up-after", "0.3",
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"The node at http://127.0.0.1:{port} did not answer" in result.stderr
    assert "Traceback" not in result.stderr
