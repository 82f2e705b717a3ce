"""``loanservicing index sync`` and ``index verify`` through click's CliRunner, standalone."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from web3 import Web3

from loanservicing.chain.node import AnvilNode
from loanservicing.cli.index import index_group
from loanservicing.deployment.compile import ContractArtifact
from tests.support.indexing import UNIT, Deployed, deploy_system


@pytest.fixture(scope="session")
def deployed(w3: Web3, anvil: AnvilNode, artifacts: dict[str, ContractArtifact]) -> Deployed:
    return deploy_system(w3, anvil.rpc_url, artifacts)


def _target(s: Deployed, db: Path) -> list[str]:
    return [
        "--db", str(db), "--rpc-url", s.rpc_url, "--ledger", s.ledger.address,
        "--registry", s.registry.address, "--from-block", str(s.block),
    ]  # fmt: skip


def test_sync_then_verify_as_json(deployed: Deployed, tmp_path: Path) -> None:
    s = deployed
    borrower = s.accounts[1]
    loan_id = s.originate(borrower)
    s.repay(loan_id, 250 * UNIT, borrower)
    db = tmp_path / "index.db"
    runner = CliRunner()
    result = runner.invoke(index_group, ["sync", *_target(s, db), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["end_block"] == s.w3.eth.block_number
    assert report["loans"] == 1
    assert report["logs"] >= 4
    # Once the database exists, its recorded contracts are the defaults.
    result = runner.invoke(
        index_group, ["verify", "--db", str(db), "--rpc-url", s.rpc_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["ok"] is True
    assert verdict["loans_checked"] == 1
    assert verdict["differences"] == []


def test_verify_exits_non_zero_and_names_each_difference(
    deployed: Deployed, tmp_path: Path
) -> None:
    s = deployed
    borrower = s.accounts[2]
    s.originate(borrower)
    db = tmp_path / "index.db"
    runner = CliRunner()
    assert runner.invoke(index_group, ["sync", *_target(s, db)]).exit_code == 0
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("UPDATE loans SET bucket = 3")
    conn.execute("UPDATE credit_records SET loans_opened = 7")
    conn.commit()
    conn.close()
    result = runner.invoke(index_group, ["verify", *_target(s, db)])
    assert result.exit_code == 1
    assert "loan 1: bucket is 3 in the index but 0 on chain." in result.output
    assert "loansOpened is 7 in the index but 1 on chain." in result.output
    assert "2 difference(s)" in result.output


def test_missing_contracts_are_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        index_group, ["sync", "--db", str(tmp_path / "i.db"), "--rpc-url", "http://127.0.0.1:1"]
    )
    assert result.exit_code == 2
    assert "pass --ledger and --registry" in result.output


def test_an_unreachable_node_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(
        index_group,
        [
            "sync", "--db", str(tmp_path / "i.db"), "--rpc-url", f"http://127.0.0.1:{port}",
            "--ledger", "0x" + "11" * 20, "--registry", "0x" + "22" * 20,
            "--give-up-after", "0.3",
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"The node at http://127.0.0.1:{port} did not answer" in result.output
    assert "Traceback" not in result.output


def test_through_the_main_cli_with_its_deployment(
    anvil: AnvilNode, w3: Web3, tmp_path: Path
) -> None:
    """Registered on ``loanservicing``: node and contracts come from the global options."""
    from loanservicing.cli.app import cli

    base = ["--rpc-url", anvil.rpc_url, "--deployment", str(tmp_path / "deployment.json")]
    runner = CliRunner()
    deployed = runner.invoke(cli, [*base, "deploy", "--fresh", "--json"])
    assert deployed.exit_code == 0, deployed.output
    db = str(tmp_path / "index.db")
    synced = runner.invoke(cli, [*base, "index", "sync", "--db", db, "--json"])
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.output)["end_block"] == w3.eth.block_number
    verified = runner.invoke(cli, [*base, "index", "verify", "--db", db, "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True
