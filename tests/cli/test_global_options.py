"""The global options work the same for every group: ``--json`` before the command name
prints one JSON document, ``--account`` before it picks the signer, ``-vv`` logs to stderr,
and ``index`` takes its node and contracts from ``--rpc-url`` and ``--deployment``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import Result
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from tests.cli.driver import Cli

BORROWER = dev_signer(1).address
VIEWER = dev_signer(2).address


def _one_document(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.stderr + result.stdout
    document = json.loads(result.stdout)  # one document and nothing else
    assert isinstance(document, dict)
    return document


def test_root_json_for_every_group(run: Cli, tmp_path: Path, w3: Web3) -> None:
    loan_id = run.create(BORROWER, "1000")
    db = str(run.db)
    data = ["--data-deployment", str(tmp_path / "data.json"), "--vault-dir", str(tmp_path / "v")]
    for args in (
        ("chain", "time"),
        ("deploy",),
        ("faucet", BORROWER, "1"),
        ("loan", "show", str(loan_id)),
        ("loan", "list"),
        ("loan", "restructure", "show", str(loan_id)),
        ("payoff", str(loan_id)),
        ("credit", "show", BORROWER),
        ("portfolio",),
        ("index", "sync", "--db", db),
        ("index", "verify", "--db", db),
        ("monitor", "run", "--once", "--db", db),
        ("monitor", "notices", "--db", db),
        ("report", "delinquency", "--db", db),
        ("data", *data, "deploy"),
        ("consent", *data, "list", BORROWER),
    ):
        document = _one_document(run.raw("--json", *args))
        assert document, args
    synced = _one_document(run.raw("--json", "index", "sync", "--db", db))
    assert synced["end_block"] == w3.eth.block_number and synced["db"] == db


def test_index_sync_takes_the_node_and_contracts_from_the_global_options(
    run: Cli, tmp_path: Path
) -> None:
    run.create(BORROWER, "1000")
    db = str(tmp_path / "fresh.db")
    synced = _one_document(run.raw("--json", "index", "sync", "--db", db))
    assert synced["loans"] == 1
    other = tmp_path / "other-deployment.json"
    run.deployment_file = other  # --deployment names a file that is not there
    run.fails("index", "sync", "--db", str(tmp_path / "third.db"), match=f"{other}")


def test_root_account_signs_data_sharing_commands(run: Cli, tmp_path: Path) -> None:
    data = ["--data-deployment", str(tmp_path / "data.json"), "--vault-dir", str(tmp_path / "v")]
    _one_document(run.raw("--json", "data", *data, "deploy"))
    grant = ("--json", "--account", "1", "consent", *data, "grant", "--viewer", VIEWER,
             "--categories", "income", "--until", "30d")  # fmt: skip
    granted = _one_document(run.raw(*grant))
    assert granted["borrower"] == BORROWER


def test_verbose_logs_to_stderr_for_any_command(run: Cli, tmp_path: Path) -> None:
    for args in (("chain", "time"), ("index", "sync", "--db", str(tmp_path / "v.db"))):
        result = subprocess.run(
            [sys.executable, "-m", "loanservicing.cli", *run.base, "-vv", "--json", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        json.loads(result.stdout)
        assert "DEBUG loanservicing." in result.stderr, (args, result.stderr)
