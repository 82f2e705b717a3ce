"""Loans in another token the ledger allows (``--token``) and the CSV exports of ``loan list``,
``loan schedule`` and ``portfolio``: each row equals what ``--json`` says, amounts exact."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract
from tests.cli.driver import LENDER, Cli

BORROWER = dev_signer(1).address
TERMS = ("--principal", "1200", "--apr", "12", "--installments", "4", "--period", "30d")


def _euro(w3: Web3, artifacts: dict[str, ContractArtifact]) -> Any:
    """A second 6-decimal stablecoin, tEUR, with 5,000 for the lender and 500 for the borrower."""
    sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    token = deploy_contract(sender, artifacts["TestStablecoin"], "Test Euro", "tEUR", 6, LENDER)
    for holder, amount in ((LENDER, 5_000), (BORROWER, 500)):
        sender.send(token.functions.mint(holder, amount * 10**6), "Minting tEUR")
    return token


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf8") as f:
        return list(csv.DictReader(f))


def test_a_loan_in_another_token_is_lent_shown_and_repaid_in_it(
    run: Cli, w3: Web3, artifacts: dict[str, ContractArtifact]
) -> None:
    euro = _euro(w3, artifacts)
    token = euro.address
    nonce = w3.eth.get_transaction_count(LENDER)
    run.fails(
        "loan", "create", "--borrower", BORROWER, *TERMS, "--token", token,
        match=f"the ledger's admin has not allowed loans in token {token}",
    )  # fmt: skip
    run.fails(
        "loan", "create", "--borrower", BORROWER, *TERMS, "--token", "0x" + "12" * 20,
        match="is not an ERC-20 token on this chain",
    )  # fmt: skip
    assert w3.eth.get_transaction_count(LENDER) == nonce  # nothing sent
    run.json("loan", "allow-token", token)
    usd_loan = run.create(BORROWER, "1000")
    created = run.json("loan", "create", "--borrower", BORROWER, *TERMS, "--token", token)
    loan_id = int(created["loan_id"])
    assert euro.functions.balanceOf(LENDER).call() == 3_800 * 10**6
    shown = run.json("loan", "show", str(loan_id))
    assert shown["token"] == token and shown["principal"] == 1_200 * 10**6
    text = run.raw("loan", "show", str(loan_id)).stdout
    assert "1,200.00 tEUR" in text and "tUSDC" not in text
    # The borrower repays in tEUR: the CLI approves tEUR, not the deployment's token.
    paid = run.json("--account", "1", "repay", str(loan_id), "100")
    assert paid["loan_id"] == loan_id
    assert euro.functions.balanceOf(BORROWER).call() == (500 + 1_200 - 100) * 10**6
    # loan list: each amount carries its token's symbol when the loans are in several.
    listing = run.raw("loan", "list").stdout
    assert "tEUR" in listing and "tUSDC" in listing
    # portfolio never adds two tokens: each summary counts its own token's loans.
    usd = run.json("portfolio")
    eur = run.json("portfolio", "--token", token)
    assert (usd["loans"], usd["symbol"], usd["loans_in_other_tokens"]) == (1, "tUSDC", {token: 1})
    assert (eur["loans"], eur["symbol"], eur["principal_originated"]) == (1, "tEUR", 1_200 * 10**6)
    assert usd["principal_originated"] == 1_000 * 10**6
    assert f"Not counted: 1 loan in token {token}" in run.raw("portfolio").stdout
    assert usd_loan != loan_id


def test_loan_list_schedule_and_portfolio_export_csv(run: Cli, tmp_path: Path) -> None:
    loan_id = run.create(BORROWER, "1000")
    run.json("--account", "1", "repay", str(loan_id), "95.55")

    listed = run.json("loan", "list", "--csv", str(tmp_path / "loans.csv"))
    (row,) = _read_csv(tmp_path / "loans.csv")
    (loan,) = listed["loans"]
    assert row["loan_id"] == str(loan_id) and row["borrower"] == loan["borrower"]
    assert Decimal(row["principal_outstanding"]) * 10**6 == loan["principal_outstanding"]
    assert row["principal"] == "1000.000000" and row["apr"] == "12.00 %"
    assert row["next_due_date"] == loan["next_due_date"][:10]

    schedule = run.json("loan", "schedule", str(loan_id), "--csv", str(tmp_path / "s.csv"))
    rows = _read_csv(tmp_path / "s.csv")
    assert len(rows) == len(schedule["installments"]) == 12
    for got, want in zip(rows, schedule["installments"], strict=True):
        assert int(got["number"]) == want["number"] and got["status"] == want["status"]
        for k in ("principal", "interest", "total", "paid"):
            assert Decimal(got[k]) * 10**6 == want[k], (k, got, want)
    assert sum(Decimal(r["paid"]) for r in rows) == Decimal("95.55") - _fees(run, loan_id)

    summary = run.json("portfolio", "--csv", str(tmp_path / "p.csv"))
    figures = {r["figure"]: r["value"] for r in _read_csv(tmp_path / "p.csv")}
    assert figures["loans"] == "1" and figures["loans_active"] == "1"
    assert Decimal(figures["collected"]) * 10**6 == summary["collected"]
    assert Decimal(figures["principal_outstanding"]) * 10**6 == summary["principal_outstanding"]
    assert figures["par30"] == "0.00 %"
    run.fails(
        "loan", "list", "--csv", str(tmp_path / "no-such-dir" / "x.csv"),
        match="cannot be written",
    )  # fmt: skip


def _fees(run: Cli, loan_id: int) -> Decimal:
    """Late fees and penalty the loan's repayments paid (none on time): not installments."""
    statement = run.json("loan", "statement", str(loan_id))
    charges = sum(
        int(line.get("fees", 0) or 0) + int(line.get("penalty", 0) or 0)
        for line in statement["lines"]
    )
    return Decimal(charges) / 10**6
