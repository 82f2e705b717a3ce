"""The bad-input sweep: wrong types, out-of-range values, unknown ids, missing or corrupt
files, unreachable or wrong nodes. Each answer is one sentence (or, with --json, one JSON
object) on stderr, exit 2 for usage errors and 1 for other refusals, no traceback, and
nothing sent. Every new command or option adds its cases here."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.chain.node import AnvilNode
from loanservicing.cli import cli
from loanservicing.indexing.database import IndexDB
from tests.cli.driver import LENDER, Cli

BORROWER = dev_signer(7).address


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def _nonce(w3: Web3, account: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(account)))


def test_a_file_that_is_not_sqlite_is_one_sentence(run: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("these are notes, not a database\n")
    for command in (("index", "sync"), ("monitor", "notices"), ("report", "delinquency")):
        result = run.raw(*command, "--db", str(bad))
        assert result.exit_code == 1, command
        line = _one_line(result.stderr)
        assert "cannot be used as an index database (file is not a database)" in line
        assert result.stdout == ""


def test_a_corrupted_vault_database_is_one_sentence(run: Cli, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "vault.db").write_text("garbage")
    keys = tmp_path / "keys" / "keys.db"
    result = run.raw(
        "vault", "--vault-dir", str(vault), "--key-store", str(keys), "log", BORROWER
    )  # fmt: skip
    assert result.exit_code == 1
    assert "vault.db cannot be read (file is not a database)" in _one_line(result.stderr)


def test_the_vault_files_are_its_owners_only_and_an_unknown_subject_is_not_erased(
    run: Cli, tmp_path: Path
) -> None:
    vault, keys = tmp_path / "vault", tmp_path / "keys" / "keys.db"
    options = ("--vault-dir", str(vault), "--key-store", str(keys))
    result = run.raw("vault", *options, "erase", BORROWER, "--yes")
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert f"The vault holds no data of {BORROWER}: nothing to erase." in line
    assert "Erased" not in result.stdout
    for path in (vault / "vault.db", keys):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent


def test_json_that_is_not_a_keystore(run: Cli, tmp_path: Path) -> None:
    keystore = tmp_path / "key.json"
    keystore.write_text('{"address": "0x0"}')
    result = run.raw("--keystore", str(keystore), "loan", "assess", "1")
    assert result.exit_code == 1
    assert "is JSON but not an encrypted keystore" in _one_line(result.stderr)


def test_an_rpc_url_of_another_scheme_is_refused_at_once() -> None:
    began = time.monotonic()
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["--rpc-url", "ftp://127.0.0.1", "chain", "time"]
    )
    assert result.exit_code == 1 and time.monotonic() - began < 5
    assert "is not an http:// or https:// address of a JSON-RPC node" in _one_line(result.stderr)


def test_a_webhook_that_is_not_a_url_is_a_usage_error(run: Cli) -> None:
    result = run.raw("monitor", "run", "--once", "--webhook", "not-a-url")
    assert result.exit_code == 2
    assert "'not-a-url' is not an http:// or https:// URL" in _one_line(result.stderr)
    as_json = run.raw("--json", "monitor", "run", "--once", "--webhook", "not-a-url")
    assert as_json.exit_code == 2
    error = json.loads(_one_line(as_json.stderr))
    assert error["error"] == "usage" and "not-a-url" in error["message"]


def test_errors_with_json_are_one_object_and_usage_errors_exit_2(run: Cli, w3: Web3) -> None:
    missing = run.raw("loan", "create", "--json")
    assert missing.exit_code == 2 and missing.stdout == ""
    assert json.loads(_one_line(missing.stderr)) == {
        "error": "usage",
        "message": "Missing option '--borrower'.",
    }
    unknown = run.raw("loan", "show", "999999", "--json")
    assert unknown.exit_code == 1
    refused = json.loads(_one_line(unknown.stderr))
    assert refused["error"] == "refused" and "There is no loan 999999" in refused["message"]
    human = run.raw("loan", "show", "999999")
    assert _one_line(human.stderr).startswith("Error: There is no loan 999999")
    loan_id = run.create(BORROWER, "1000")
    nonce = _nonce(w3, LENDER)
    reverted = run.raw(
        "loan", "holiday", "propose", str(loan_id), "--from", "40", "--count", "1", "--json"
    )  # fmt: skip
    assert reverted.exit_code == 1 and _nonce(w3, LENDER) == nonce
    error = json.loads(_one_line(reverted.stderr))
    assert error["error"] == "revert" and error["message"].endswith("(HolidayOutOfRange).")
    assert error["revert"]["name"] == "HolidayOutOfRange"
    assert error["revert"]["args"]["fromInstallment"] == 40


def test_terms_that_make_no_sense_are_refused_before_signing(run: Cli, w3: Web3) -> None:
    run.json("faucet", LENDER, "1000")
    nonce = _nonce(w3, LENDER)
    base = ("loan", "create", "--borrower", BORROWER, "--principal", "1000", "--apr", "12",
            "--installments", "12")  # fmt: skip
    cases = [
        (("--period", "30d", "--grace", "31d"), 1, "A grace period of 31 days is longer than"),
        (("--frequency", "monthly", "--grace", "29d"), 1, "(28 days at the shortest)"),
        (("--period", "30d", "--grace", "10d", "--default-after", "5d"), 1,
         "A default threshold of 5 days is shorter than the grace period (10 days)"),
        (("--period", "1M"), 2, "'1M' is ambiguous: write minutes as 1min"),
        (("--period", "30d", "--apr", "twelve"), 1, "twelve"),
    ]  # fmt: skip
    for extra, code, fragment in cases:
        result = run.raw(*base, *extra)
        assert result.exit_code == code, (extra, result.stderr)
        assert fragment in _one_line(result.stderr), extra
    assert _nonce(w3, LENDER) == nonce


def test_index_sync_follows_the_deployment_named(
    run: Cli, anvil: AnvilNode, tmp_path: Path
) -> None:
    other = tmp_path / "other.json"
    deployed = run.json("--deployment", str(other), "deploy")
    first = tmp_path / "first.db"
    run.json("index", "sync", "--db", str(first))
    refused = run.raw("--deployment", str(other), "index", "sync", "--db", str(first))
    assert refused.exit_code == 1
    assert f"not {deployed['ledger']}; use another --db file" in _one_line(refused.stderr)
    second = tmp_path / "second.db"
    run.json("--deployment", str(other), "index", "sync", "--db", str(second))
    with IndexDB(second) as db:
        assert db.meta("ledger") == deployed["ledger"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loanservicing.cli", "node", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_node_refuses_a_busy_port(anvil: AnvilNode) -> None:
    port = int(anvil.rpc_url.rsplit(":", 1)[1])
    process = _node(port)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in _one_line(stderr)


def test_node_stops_its_anvil_on_sigterm() -> None:
    port = _free_port()
    process = _node(port)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None and time.monotonic() < deadline
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0
    # Anvil is gone with it: the port is free again.
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_attest_verify_of_an_unknown_attestation(run: Cli, tmp_path: Path) -> None:
    keys = tmp_path / "keys" / "keys.db"
    options = ("--data-deployment", str(tmp_path / "data.json"), "--vault-dir",
               str(tmp_path / "vault"), "--key-store", str(keys))  # fmt: skip
    run.json("data", *options, "deploy")
    document = tmp_path / "doc.json"
    document.write_text('{"income": "1"}')
    result = run.raw("attest", *options, "verify", "99", "--document", str(document))
    assert result.exit_code == 1
    assert "There is no attestation 99; the registry holds" in _one_line(result.stderr)


def test_a_missing_role_is_named_and_the_account_checksummed(run: Cli, tmp_path: Path) -> None:
    keys = tmp_path / "keys" / "keys.db"
    options = ("--data-deployment", str(tmp_path / "data.json"), "--vault-dir",
               str(tmp_path / "vault"), "--key-store", str(keys))  # fmt: skip
    run.json("data", *options, "deploy")
    attester = dev_signer(3).address
    result = run.raw(
        "attester", *options, "register", attester, "--kind", "employer", "--account", "3"
    )  # fmt: skip
    assert result.exit_code == 1
    line = _one_line(result.stderr)
    assert f"AccessControlUnauthorizedAccount(account={attester}, " in line
    assert "neededRole=DEFAULT_ADMIN_ROLE)" in line


def test_a_webhook_that_is_down_is_one_line_a_retry(
    run: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loan_id = run.create(BORROWER, "100")
    run.json("faucet", BORROWER, "10")
    run.json("repay", str(loan_id), "5", "--account", "7")
    port = _free_port()  # nothing listens there
    result = run.raw(
        "monitor", "run", "--once", "--db", str(tmp_path / "i.db"),
        "--webhook", f"http://127.0.0.1:{port}/hook",
    )  # fmt: skip
    assert result.exit_code == 0 and "Traceback" not in result.stderr
    lines = [r.getMessage() for r in caplog.records if "webhook:" in r.getMessage()]
    assert lines, caplog.text
    for line in lines:
        assert line.startswith(f"webhook:http://127.0.0.1:{port}/hook is unavailable (cannot be")
        assert "; retrying in " in line and "HTTPConnectionPool" not in line


def test_boarding_tokens_csv_and_previews_refuse_in_one_sentence(
    run: Cli, w3: Web3, tmp_path: Path
) -> None:
    loan_id = run.create(BORROWER, "1000")
    nonce = _nonce(w3, LENDER)
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "empty.csv").write_text("borrower,principal\n", encoding="utf-8")
    terms = ("--principal", "10", "--apr", "12", "--installments", "2", "--period", "30d")
    cases = [
        (("loan", "import", str(tmp_path / "none.csv")), 1, "cannot be read"),
        (("loan", "import", str(tmp_path / "binary.csv")), 1, "is not a CSV file"),
        (("loan", "import", str(tmp_path / "empty.csv")), 1, "has a header but no loans"),
        (("loan", "import", str(tmp_path)), 2, "is a directory"),
        (("loan", "create", "--borrower", BORROWER, *terms, "--token", "0x12"), 2,
         "is not an Ethereum address"),
        (("loan", "quote", "--borrower", BORROWER, *terms, "--token", "0x" + "34" * 20), 1,
         "is not an ERC-20 token on this chain"),
        (("portfolio", "--token", "0x" + "34" * 20), 1, "is not an ERC-20 token"),
        (("loan", "list", "--csv", str(tmp_path / "no" / "x.csv")), 1, "cannot be written"),
        (("loan", "schedule", "99", "--csv", str(tmp_path / "s.csv")), 1, "There is no loan 99"),
        (("loan", "restructure", "propose", str(loan_id), "--apr", "x", "--installments", "3",
          "--period", "30d", "--dry-run"), 1, "'x'"),
    ]  # fmt: skip
    for args, code, fragment in cases:
        result = run.raw(*args)
        assert result.exit_code == code, (args, result.stderr)
        assert fragment in _one_line(result.stderr), (args, result.stderr)
    assert not (tmp_path / "s.csv").exists()
    assert _nonce(w3, LENDER) == nonce
