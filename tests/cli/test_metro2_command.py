"""``report metro2`` through click's CliRunner against the session Anvil: the month's file
re-read by the validator, identities read through the vault as the bureau (consent checked,
every read logged), borrowers without consent and erased ones left out and counted, and bad
input in one sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from loanservicing.cli import cli as main_cli
from loanservicing.deployment.manifest import write_deployment
from tests.support.ledger_driver import LedgerDriver
from tests.support.metro2 import (
    BORROWER_ACCOUNT,
    BUREAU_ACCOUNT,
    Book,
    expected_history,
    metro2_book,
    read_metro2,
    units,
)

IDENTITIES = {
    "current": {
        "surname": "Kowalczyk-Brennan",
        "first_name": "Marta",
        "ssn": "123-45-6789",
        "date_of_birth": "1984-03-12",
        "address_line_1": "ul. Świętojańska 41",
        "city": "Gdynia",
        "postal_code": "81-391",
        "country_code": "PL",
    },
    # The demo's shape: one name, one address line, a national id that is not an SSN.
    "late": {
        "name": "Jean-Baptiste Okonkwo-Lefèvre",
        "national_id": "FR-1870675116042",
        "date_of_birth": "1987-06-07",
        "address": "17 rue des Tanneurs, 67000 Strasbourg",
    },
}


class Cli:
    def __init__(self, rpc_url: str, tmp: Path, deployment_file: Path) -> None:
        self.base = ["--rpc-url", rpc_url, "--deployment", str(deployment_file)]
        self.data_options = [
            "--data-deployment",
            str(tmp / "data.json"),
            "--vault-dir",
            str(tmp / "vault"),
            "--key-store",
            str(tmp / "keystore" / "keys.db"),
        ]
        self.db = str(tmp / "index.db")
        self.runner = CliRunner(mix_stderr=False)

    def raw(self, group: str, *args: str) -> Result:
        """``loanservicing GROUP [data options] ARGS`` (the index group has none)."""
        options = [] if group == "index" else self.data_options
        return self.runner.invoke(main_cli, [*self.base, group, *options, *args])

    def json(self, group: str, *args: str) -> Any:
        result = self.raw(group, *args, "--json")
        assert result.exit_code == 0, result.stderr + result.stdout
        return json.loads(result.stdout)

    def fails(self, group: str, *args: str, match: str) -> str:
        result = self.raw(group, *args)
        assert result.exit_code != 0, result.stdout
        assert "Traceback" not in result.stderr + result.stdout
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert match in lines[0], lines[0]
        return lines[0]


@pytest.fixture
def setting(system: LedgerDriver, tmp_path: Path) -> tuple[Cli, Book]:
    """The data-sharing contracts, the bureau (dev account 4) registered, each borrower's
    identity in the vault, consents to the bureau (not the "unconsented" borrower's), the
    "erased" borrower erased; then the book of loans, indexed."""
    deployment_file = tmp_path / "deployment.json"
    write_deployment(deployment_file, system.deployment)
    cli = Cli(system.rpc_url, tmp_path, deployment_file)
    cli.json("data", "deploy")
    bureau = system.accounts[BUREAU_ACCOUNT]
    cli.json("attester", "register", bureau, "--kind", "credit-bureau")
    for kind, account in BORROWER_ACCOUNT.items():
        borrower = system.accounts[account]
        document = tmp_path / f"{kind}.json"
        identity = IDENTITIES.get(kind, {"name": f"Test {kind.title()} Borrower"})
        document.write_text(json.dumps(identity, ensure_ascii=False), encoding="utf8")
        cli.json("vault", "put", borrower, "--category", "identity", "--document", str(document))
        if kind != "unconsented":
            cli.json(
                "consent", "grant", "--viewer", bureau, "--categories", "identity",
                "--until", "3650d", "--account", str(account),
            )  # fmt: skip
    cli.json("vault", "erase", system.accounts[BORROWER_ACCOUNT["erased"]], "--yes")
    book = metro2_book(system)
    cli.json("index", "sync", "--db", cli.db)
    return cli, book


def test_the_months_file_leaves_out_borrowers_without_consent_and_erased_ones(
    setting: tuple[Cli, Book], system: LedgerDriver, tmp_path: Path
) -> None:
    cli, book = setting
    bureau = system.accounts[BUREAU_ACCOUNT]
    out = tmp_path / "metro2.txt"
    month = f"{book.year}-03"
    summary = cli.json(
        "report", "metro2", "--month", month, "--bureau", bureau, "--out", str(out),
        "--db", cli.db,
    )  # fmt: skip
    read = read_metro2(out)
    bases = read.by_account()
    written = {"current", "late", "defaulted", "closed", "forbearance"}
    assert sorted(bases) == sorted(book.loans[k] for k in written)
    assert summary["accounts_written"] == 5 and summary["records"] == 7
    assert summary["left_out_by_reason"] == {"erased": 1, "no-consent": 1}
    assert summary["borrowers_left_out"] == 2
    left = {item["loan_id"]: item["reason"] for item in summary["left_out"]}
    assert left == {book.loans["unconsented"]: "no-consent", book.loans["erased"]: "erased"}
    assert summary["by_status"] == {"11": 2, "13": 1, "71": 1, "97": 1}
    assert int(read.trailer["total_base_records"]) == 5
    assert int(read.trailer["total_status_code_71"]) == 1  # the left-out ones are not counted
    for kind in written:
        base, due = bases[book.loans[kind]], book.due_at_month_end[kind]
        balance = 0 if kind == "closed" else units(due["payoff"])
        assert int(base["current_balance"]) == balance, kind
        assert int(base["amount_past_due"]) == (
            balance if kind == "defaulted" else units(due["pastDue"])
        ), kind
        assert base["payment_history_profile"] == expected_history(kind), kind
    assert summary["current_balance"] == sum(int(b["current_balance"]) for b in read.bases)
    assert summary["amount_past_due"] == sum(int(b["amount_past_due"]) for b in read.bases)
    current = bases[book.loans["current"]]
    assert current["surname"].rstrip() == "KOWALCZYK-BRENNAN"
    assert current["first_name"].rstrip() == "MARTA"
    assert current["social_security_number"] == "123456789"
    assert current["date_of_birth"] == "03121984"
    assert current["first_line_of_address"].rstrip() == "UL. SWIETOJANSKA 41"
    assert current["postal_code"].rstrip() == "81391"
    late = bases[book.loans["late"]]
    assert (late["first_name"].rstrip(), late["surname"].rstrip()) == (
        "JEAN-BAPTISTE",
        "OKONKWO-LEFEVRE",
    )
    assert late["social_security_number"] == "0" * 9  # not held: zero-filled
    assert late["account_status"] == "71"
    assert int(read.trailer["total_ssn_base_segments"]) == 1
    # Every read went through the vault as the bureau and is in its log.
    for kind, decision in (("current", "granted"), ("unconsented", "refused")):
        log = cli.json("vault", "log", system.accounts[BORROWER_ACCOUNT[kind]])
        reads = [e for e in log["entries"] if e["action"] == "read"]
        assert [(e["actor"], e["decision"]) for e in reads] == [(bureau, decision)]
        assert log["chain_ok"] is True
    erased_log = cli.json("vault", "log", system.accounts[BORROWER_ACCOUNT["erased"]])
    assert not [e for e in erased_log["entries"] if e["action"] == "read"]
    # The summary for people.
    text = cli.raw(
        "report", "metro2", "--month", month, "--bureau", bureau, "--out", str(out),
        "--db", cli.db,
    ).stdout  # fmt: skip
    assert "5 accounts written" in text and "2 accounts of 2 borrowers left out" in text
    assert "no consent of the borrower to the bureau" in text and "erased" in text


def test_bad_input_is_one_sentence(
    setting: tuple[Cli, Book], system: LedgerDriver, tmp_path: Path
) -> None:
    cli, book = setting
    bureau = system.accounts[BUREAU_ACCOUNT]
    out = tmp_path / "metro2.txt"

    def metro2(*args: str, match: str) -> None:
        cli.fails("report", "metro2", "--out", str(out), *args, match=match)

    metro2("--month", "2027/03", "--bureau", bureau, "--db", cli.db, match="not a month")
    metro2("--month", f"{book.year}-13", "--bureau", bureau, "--db", cli.db, match="not a month")
    metro2(
        "--month", f"{book.year + 1}-01", "--bureau", bureau, "--db", cli.db,
        match="has not ended on chain yet",
    )  # fmt: skip
    metro2(
        "--month", f"{book.year}-03", "--bureau", bureau, "--db", str(tmp_path / "none.db"),
        match="No event index at",
    )  # fmt: skip
    stranger = system.accounts[9]
    metro2(
        "--month", f"{book.year}-03", "--bureau", stranger, "--db", cli.db,
        match="is not a registered credit bureau",
    )  # fmt: skip
    metro2(
        "--month", f"{book.year}-03", "--bureau", bureau, "--db", cli.db, "--account", "2",
        match="signed by the bureau",
    )  # fmt: skip
    assert not out.exists()
    assert not (tmp_path / "none.db").exists()
