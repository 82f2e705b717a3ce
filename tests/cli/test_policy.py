"""A lender's required attestations, set with `policy require` and enforced by the ledger at
origination once the policy is its origination policy (on an Anvil of its own: the policy
changes what every origination needs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from loanservicing.chain.node import AnvilNode
from loanservicing.cli import cli as main_cli
from tests.cli.test_data_sharing import ADMIN, BORROWER, EMPLOYER, Cli


def test_required_attestations_are_set_shown_and_enforced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    income = tmp_path / "income.json"
    income.write_text(json.dumps({"employer": "Acme Ltd", "annual_income": "84000 USD"}))
    with AnvilNode() as node:
        cli = Cli(node.rpc_url, tmp_path)

        def plain(*args: str) -> Result:  # a command without the data-sharing options
            return CliRunner().invoke(main_cli, ["--rpc-url", node.rpc_url, *args])

        assert plain("deploy", "--json").exit_code == 0
        cli.json("data", "deploy", "--set-policy")
        cli.json("attester", "register", EMPLOYER, "--kind", "employer")
        assert cli.json("policy", "show", ADMIN)["requirements"] == {
            "claim_types": [],
            "attesters": [],
        }
        missing = cli.run("policy", "require", "--type", "income", ok=False)
        assert missing.exit_code == 1 and "Name at least one trusted attester" in missing.output
        required = cli.json("policy", "require", "--type", "income", "--attester", EMPLOYER)
        assert (required["claim_types"], required["attesters"]) == (["income"], [EMPLOYER])
        text = cli.run("policy", "show", ADMIN).output
        assert f"requires income, attested by {EMPLOYER}" in " ".join(text.split())
        create = ["loan", "create", "--borrower", BORROWER, "--principal", "100", "--apr", "12",
                  "--installments", "3", "--period", "30d"]  # fmt: skip
        assert plain("faucet", ADMIN, "1000").exit_code == 0
        refused = plain(*create)
        assert refused.exit_code == 1
        sentence = " ".join(refused.output.split())
        assert f"lender {ADMIN} requires of its borrowers a valid attestation that" in sentence
        assert f"`policy show {ADMIN}` names the types" in sentence
        assert sentence.endswith("(RequiredAttestationMissing).")
        cli.json(
            "attest", "issue", "--subject", BORROWER, "--type", "income", "--document",
            str(income), "--account", "3", "--submitter", "0",
        )  # fmt: skip
        created = plain(*create, "--json")
        assert created.exit_code == 0, created.output
        assert json.loads(created.stdout)["loan_id"] == 1
        lifted = cli.json("policy", "require")
        assert lifted["claim_types"] == []
