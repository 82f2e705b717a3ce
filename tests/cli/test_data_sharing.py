"""The data-sharing commands through click's CliRunner against a real Anvil: deploy, attester
registration, attestations, consent, vault reads, log, erasure and the audit bundle, with the
refusals and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from web3 import Web3

from loanservicing.chain.node import AnvilNode
from loanservicing.cli import cli as main_cli
from tests.support.data import LedgerEnv

ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BORROWER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
LENDER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
EMPLOYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
REGULATOR = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # dev account 9


class Cli:
    """``loanservicing --rpc-url URL GROUP --data-deployment F --vault-dir D --key-store K ...``
    (the data-sharing options go after the group's name)."""

    def __init__(self, rpc_url: str, tmp: Path) -> None:
        self.base = ["--rpc-url", rpc_url]
        self.data_options = [
            "--data-deployment",
            str(tmp / "data.json"),
            "--vault-dir",
            str(tmp / "vault"),
            "--key-store",
            str(tmp / "keystore" / "keys.db"),
        ]
        self.runner = CliRunner()

    def run(self, *args: str, ok: bool = True) -> Result:
        group, *rest = args
        command = [*self.base, group, *self.data_options, *rest]
        result = self.runner.invoke(main_cli, command, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str, ok: bool = True) -> Any:
        result = self.run(*args, "--json", ok=ok)
        return json.loads(result.stdout)


@pytest.fixture
def cli(w3: Web3, anvil: AnvilNode, tmp_path: Path) -> Cli:
    runner = Cli(anvil.rpc_url, tmp_path)
    deployed = runner.json("data", "deploy", "--regulator", REGULATOR)
    assert set(deployed) >= {"attestation_registry", "consent_registry", "attestation_policy"}
    runner.json("attester", "register", EMPLOYER, "--kind", "employer")
    return runner


@pytest.fixture
def income_doc(tmp_path: Path) -> Path:
    path = tmp_path / "income.json"
    document = {"name": "Siobhán Ní Dhubhghaill", "annual_income": "112400 EUR"}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf8")
    return path


def test_attest_issue_verify_revoke(cli: Cli, income_doc: Path, tmp_path: Path) -> None:
    issued = cli.json(
        "attest",
        "issue",
        "--subject",
        BORROWER,
        "--type",
        "income",
        "--document",
        str(income_doc),
        "--account",
        "3",
        "--submitter",
        "0",
    )
    assert issued["attestation_id"] == 1
    assert issued["claim_hash"].startswith("0x") and len(issued["claim_hash"]) == 66
    assert issued["tx_hash"].startswith("0x")
    verified = cli.json("attest", "verify", "1", "--document", str(income_doc))
    assert verified == {"attestation_id": 1, "valid": True, "reason": verified["reason"]}
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"name": "Siobhán Ní Dhubhghaill", "annual_income": "212400 EUR"}))
    bad = cli.json("attest", "verify", "1", "--document", str(other), ok=False)
    assert bad["valid"] is False and "does not match" in bad["reason"]
    shown = cli.json("attest", "show", "1")
    assert shown["type"] == "income" and shown["valid_now"] is True
    assert shown["valid_until_date"].endswith("Z")
    # As a person reads it: yes/no, dates, a dash for nothing; no Python values.
    text = cli.run("attest", "show", "1").output
    assert "valid now" in text and "yes" in text and "revoked at" in text and "—" in text
    assert shown["valid_until_date"] in text and str(shown["valid_until_timestamp"]) not in text
    assert not any(word in text for word in ("True", "False", "None", "["))
    # Only the attester revokes; a non-attester's attempt is one sentence, exit 1.
    refused = cli.run("attest", "revoke", "1", "--account", "5", ok=False)
    assert refused.exit_code == 1 and "NotAttester" in refused.output
    assert "Traceback" not in refused.output
    assert cli.json("attest", "revoke", "1", "--account", "3")["revoked"] is True
    after = cli.json("attest", "verify", "1", "--document", str(income_doc), ok=False)
    assert after["valid"] is False and "revoked" in after["reason"]
    # An account that is not a registered attester cannot issue.
    result = cli.run(
        "attest",
        "issue",
        "--subject",
        BORROWER,
        "--type",
        "income",
        "--document",
        str(income_doc),
        "--account",
        "5",
        ok=False,
    )
    assert result.exit_code == 1 and "not a registered attester" in result.output


def test_consent_vault_log_and_erasure(cli: Cli, income_doc: Path) -> None:
    cli.json(
        "attest",
        "issue",
        "--subject",
        BORROWER,
        "--type",
        "income",
        "--document",
        str(income_doc),
        "--account",
        "3",
    )
    refused = cli.run("vault", "get", BORROWER, "--category", "income", "--account", "2", ok=False)
    assert refused.exit_code == 1 and "no consent" in refused.output
    granted = cli.json(
        "consent",
        "grant",
        "--viewer",
        LENDER,
        "--categories",
        "income,employment",
        "--until",
        "30d",
        "--account",
        "1",
    )
    assert granted["categories"] == ["employment", "income"]
    assert granted["until_timestamp"] > 0 and granted["until_date"].endswith("Z")
    listed = cli.json("consent", "list", BORROWER)
    assert [(g["viewer"], g["active"]) for g in listed["grants"]] == [(LENDER, True)]
    document = cli.json("vault", "get", BORROWER, "--category", "income", "--account", "2")
    assert document["document"]["annual_income"] == "112400 EUR"
    log = cli.json("vault", "log", BORROWER)
    assert log["chain_ok"] is True
    for table in (cli.run("vault", "log", BORROWER), cli.run("consent", "list", BORROWER)):
        # Whole at CliRunner's 80 columns: addresses fold, nothing is cut with an ellipsis.
        assert "…" not in table.stdout and max(map(len, table.stdout.splitlines())) <= 80
    assert LENDER[:20] in cli.run("consent", "list", BORROWER).stdout.replace("\n", "")
    assert [(e["action"], e["decision"]) for e in log["entries"]] == [
        ("store", "done"),
        ("read", "refused"),
        ("read", "granted"),
    ]
    # A regulator reads under a recorded legal basis.
    basis = "Art. 58(1)(e) GDPR, investigation 2026-0412"
    access = cli.json(
        "consent",
        "regulator-access",
        BORROWER,
        "--categories",
        "income",
        "--basis",
        basis,
        "--account",
        "9",
    )
    read = cli.json(
        "vault",
        "get",
        BORROWER,
        "--category",
        "income",
        "--account",
        "9",
        "--access-tx",
        access["tx_hash"],
        "--basis",
        basis,
    )
    assert read["document"]["name"] == "Siobhán Ní Dhubhghaill"
    cli.json("consent", "revoke", "--viewer", LENDER, "--account", "1")
    again = cli.run("vault", "get", BORROWER, "--category", "income", "--account", "2", ok=False)
    assert again.exit_code == 1
    erased = cli.json("vault", "erase", BORROWER)
    assert erased == {
        "subject": BORROWER,
        "documents": 1,
        "keys_destroyed": 1,
        "salts_destroyed": 1,
    }
    gone = cli.run("vault", "get", BORROWER, "--category", "income", "--account", "1", ok=False)
    assert gone.exit_code == 1 and "erased" in gone.output
    unmatched = cli.json("attest", "verify", "1", "--document", str(income_doc), ok=False)
    assert "erased" in unmatched["reason"]
    assert cli.json("vault", "log", BORROWER)["chain_ok"] is True


def test_audit_bundle_and_verify(cli: Cli, ledger_env: LedgerEnv, tmp_path: Path) -> None:
    addresses = [
        "--ledger",
        ledger_env.ledger.address,
        "--credit-registry",
        ledger_env.credit_registry.address,
    ]
    out = tmp_path / "audit"
    exported = cli.json("report", "audit", "--out", str(out), *addresses)
    assert exported["files"]["attestations.csv"] == 1  # the employer's registration
    assert (out / "manifest.json").is_file()
    verified = cli.json("report", "audit-verify", str(out))
    assert verified["ok"] is True and verified["mismatches"] == []
    text = (out / "attestations.csv").read_text()
    (out / "attestations.csv").write_text(text.replace(",1,", ",2,", 1))
    broken = cli.json("report", "audit-verify", str(out), ok=False)
    assert broken["ok"] is False
    assert any("attestations.csv" in m for m in broken["mismatches"])
    human = cli.run("report", "audit-verify", str(out), ok=False)
    assert human.exit_code == 1 and "mismatches" in human.output


def test_bad_input_is_one_sentence(cli: Cli, income_doc: Path) -> None:
    lower = BORROWER.lower()
    for args, fragment in [
        (("consent", "list", lower), "not checksummed"),
        (
            ("consent", "grant", "--viewer", LENDER, "--categories", "salary", "--until", "30d"),
            "Unknown data category",
        ),
        (
            ("consent", "grant", "--viewer", LENDER, "--categories", "income", "--until", "soon"),
            "neither an ISO 8601 date",
        ),
        (
            (
                "consent",
                "grant",
                "--viewer",
                LENDER,
                "--categories",
                "income",
                "--until",
                "2001-01-01",
            ),
            "ExpiryNotInFuture",
        ),
        (
            ("attest", "verify", "1", "--document", str(income_doc.with_name("missing.json"))),
            "Cannot read the document",
        ),
        (("vault", "get", BORROWER, "--category", "salary"), "salary"),
    ]:
        result = cli.run(*args, ok=False)
        assert result.exit_code != 0, args
        assert fragment in result.output, result.output
        assert "Traceback" not in result.output


def test_no_rpc_url_is_refused() -> None:
    result = CliRunner().invoke(
        main_cli, ["consent", "list", BORROWER], env={"LOANSERVICING_RPC_URL": ""}
    )
    assert result.exit_code == 1
    assert "pass --rpc-url" in result.output


def test_privacy_scan_command(cli: Cli, income_doc: Path, tmp_path: Path) -> None:
    cli.json(
        "attest",
        "issue",
        "--subject",
        BORROWER,
        "--type",
        "income",
        "--document",
        str(income_doc),
        "--account",
        "3",
    )
    values = tmp_path / "values.txt"
    values.write_text("Siobhán Ní Dhubhghaill\n112400 EUR\n112400\n", encoding="utf8")
    clean = cli.json("report", "privacy-scan", "--values-file", str(values), "--sample-people")
    assert clean["findings"] == [] and clean["transactions"] > 0
    # Control: a string that is on chain (the EIP-712 domain name in the registry's code).
    found = cli.json("report", "privacy-scan", "--value", "loanservicingattestations", ok=False)
    assert {f["where"] for f in found["findings"]} == {"calldata"}


def test_deploy_can_set_the_ledgers_origination_policy(
    cli: Cli, ledger_env: LedgerEnv, tmp_path: Path
) -> None:
    deployed = cli.json(
        "data",
        "--data-deployment",
        str(tmp_path / "second.json"),
        "deploy",
        "--set-policy",
        "--ledger",
        ledger_env.ledger.address,
    )
    assert deployed["policy_set"] is True
    policy = ledger_env.ledger.functions.originationPolicy().call()
    assert policy == deployed["attestation_policy"]


def test_scenario_command_then_audit_and_scan(
    cli: Cli, ledger_env: LedgerEnv, tmp_path: Path
) -> None:
    ran = cli.json(
        "data",
        "scenario",
        "--ledger",
        ledger_env.ledger.address,
        "--token",
        ledger_env.token.address,
    )
    assert ran["attestations"] == 9 and len(ran["loans"]) == 3 and len(ran["erased"]) == 1
    assert any("was refused" in line for line in ran["shared"])
    erased = ran["erased"][0]
    log = cli.json("vault", "log", erased)
    assert log["chain_ok"] is True and log["entries"][-1]["action"] == "erase"
    out = tmp_path / "bundle"
    cli.json(
        "report",
        "audit",
        "--out",
        str(out),
        "--ledger",
        ledger_env.ledger.address,
        "--credit-registry",
        ledger_env.credit_registry.address,
    )
    assert cli.json("report", "audit-verify", str(out))["ok"] is True
    assert cli.json("report", "privacy-scan", "--sample-people")["findings"] == []
