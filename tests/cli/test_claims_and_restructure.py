"""Held repayments claimed through the CLI (a lender the token's issuer blocked), restructuring
proposals shown, accepted by exactly their terms and withdrawn, and credit records by reporter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.contract.contract import ContractFunction

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.chain.node import AnvilNode
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_system
from loanservicing.deployment.manifest import write_deployment
from loanservicing.ledger.credit import CreditRecord
from loanservicing.ledger.credit_score import credit_score
from loanservicing.ledger.schedule import DAY
from tests.cli.driver import Cli

LENDER = dev_signer(0).address
BORROWER = dev_signer(1).address
TREASURY = dev_signer(8).address


@pytest.fixture
def blocklisted(
    anvil: AnvilNode, w3: Web3, artifacts: dict[str, ContractArtifact], tmp_path: Path
) -> tuple[Cli, TransactionSender, str]:
    """The CLI on a deployment whose token is a BlocklistStablecoin (its issuer: dev account 0),
    the issuer's sender and the token's address."""
    issuer = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    deployment = deploy_system(issuer, artifacts, token_contract="BlocklistStablecoin")
    path = tmp_path / "blocklist-deployment.json"
    write_deployment(path, deployment)
    return Cli(anvil.rpc_url, path, tmp_path / "index.db"), issuer, deployment.token.address


def _issue(issuer: TransactionSender, fn: ContractFunction) -> None:
    """The token's issuer acts (after the CLI sent from the same account)."""
    issuer.reset_nonce()
    issuer.send(fn, "Acting as the token's issuer")


def _nonce(w3: Web3, account: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(account)))


def test_a_held_repayment_is_shown_and_claimed_through_the_cli(
    blocklisted: tuple[Cli, TransactionSender, str],
    w3: Web3,
    artifacts: dict[str, ContractArtifact],
) -> None:
    run, issuer, token_address = blocklisted
    token = w3.eth.contract(address=token_address, abi=artifacts["BlocklistStablecoin"].abi)
    loan_id = run.create(BORROWER, "1000")
    assert run.json("loan", "show", str(loan_id))["lender_claimable"] == 0
    _issue(issuer, token.functions.setBlocked(LENDER, True))
    run.json("faucet", BORROWER, "100")
    paid = run.json("repay", str(loan_id), "100", "--account", "1")
    assert paid["held_for_lender"] == paid["amount"] == 100 * 10**6
    assert paid["lender_claimable"] == 100 * 10**6
    shown = run.json("loan", "show", str(loan_id))
    assert shown["lender_claimable"] == 100 * 10**6
    assert "held for the lender" in run.raw("loan", "show", str(loan_id)).stdout
    summary = run.json("portfolio")
    assert summary["claimable_by_lender"] == {LENDER: 100 * 10**6}
    assert "Held repayments the lenders may claim" in run.raw("portfolio").stdout
    # The blocked lender cannot receive the token: one sentence, nothing sent.
    nonce = _nonce(w3, LENDER)
    run.fails("loan", "claim", match="the token refuses to pay")
    run.fails("--account", "3", "loan", "claim", match="so there is nothing to claim")
    assert _nonce(w3, LENDER) == nonce
    claimed = run.json("loan", "claim", "--to", TREASURY)
    assert (claimed["lender"], claimed["to"], claimed["amount"], claimed["decimals"]) == (
        LENDER,
        TREASURY,
        100 * 10**6,
        6,
    )
    assert claimed["token"] == token_address and claimed["tx_hash"].startswith("0x")
    assert int(token.functions.balanceOf(TREASURY).call()) == 100 * 10**6
    assert run.json("loan", "show", str(loan_id))["lender_claimable"] == 0
    run.fails("loan", "claim", "--to", TREASURY, match="so there is nothing to claim")
    # Unblocked, the lender is paid directly again.
    _issue(issuer, token.functions.setBlocked(LENDER, False))
    assert run.json("repay", str(loan_id), "50", "--account", "1")["held_for_lender"] == 0


def test_accept_names_the_proposal_and_a_withdrawn_one_is_gone(run: Cli, w3: Web3) -> None:
    loan_id = run.create(BORROWER, "1000")
    assert run.json("loan", "restructure", "show", str(loan_id))["proposal"] is None
    run.fails(
        "loan", "restructure", "accept", str(loan_id), "--account", "1",
        match=f"Loan {loan_id} has no restructuring proposal to accept.",
    )  # fmt: skip
    run.json("chain", "advance", "40d")
    proposed = run.json(
        "loan", "restructure", "propose", str(loan_id), "--apr", "9", "--installments", "8",
        "--period", "30d", "--valid-for", "7d",
    )  # fmt: skip
    shown = run.json("loan", "restructure", "show", str(loan_id))["proposal"]
    assert (shown["apr_bps"], shown["installments"], shown["period_seconds"]) == (900, 8, 30 * DAY)
    assert shown["deadline_timestamp"] == proposed["deadline_timestamp"]
    readable = run.raw("loan", "restructure", "show", str(loan_id))
    assert "8 installments of 30 days at 9.00 %" in readable.stdout
    nonce = _nonce(w3, BORROWER)
    deadline = str(shown["deadline_timestamp"])
    run.fails(
        "loan", "restructure", "accept", str(loan_id), "--account", "1", "--apr", "8",
        "--installments", "8", "--period", "30d", "--deadline", deadline,
        match=f"the terms named are not loan {loan_id}'s pending restructuring proposal",
    )  # fmt: skip
    run.fails(
        "loan", "restructure", "accept", str(loan_id), "--account", "1", "--apr", "9",
        match="Name all of the proposal's terms",
    )  # fmt: skip
    assert _nonce(w3, BORROWER) == nonce
    named = run.json(
        "loan", "restructure", "accept", str(loan_id), "--account", "1", "--apr", "9",
        "--installments", "8", "--period", "30d", "--deadline", deadline,
    )  # fmt: skip
    assert named["accepted"]["apr_bps"] == 900 and named["apr_bps"] == 900
    assert named["days_past_due"] == 0
    # A new proposal, withdrawn by the servicer: nothing left to accept.
    run.json(
        "loan", "restructure", "propose", str(loan_id), "--apr", "7", "--installments", "10",
        "--period", "30d",
    )  # fmt: skip
    run.fails(
        "--account", "1", "loan", "restructure", "withdraw", str(loan_id),
        match="lacks SERVICER_ROLE",
    )  # fmt: skip
    withdrawn = run.json("loan", "restructure", "withdraw", str(loan_id))
    assert withdrawn["withdrawn"] is True
    assert run.json("loan", "restructure", "show", str(loan_id))["proposal"] is None
    run.fails(
        "loan", "restructure", "accept", str(loan_id), "--account", "1",
        match=f"Loan {loan_id} has no restructuring proposal to accept.",
    )  # fmt: skip
    run.fails("loan", "restructure", "withdraw", str(loan_id), match="(NoRestructureProposal).")
    # Accepting the latest proposal without naming it accepts exactly its terms.
    run.json(
        "loan", "restructure", "propose", str(loan_id), "--apr", "6", "--installments", "12",
        "--period", "30d",
    )  # fmt: skip
    latest = run.json("loan", "restructure", "show", str(loan_id))["proposal"]
    accepted = run.json("loan", "restructure", "accept", str(loan_id), "--account", "1")
    assert accepted["accepted"]["apr_bps"] == latest["apr_bps"] == accepted["apr_bps"] == 600
    assert accepted["accepted"]["deadline_timestamp"] == latest["deadline_timestamp"]


def test_credit_show_has_each_reporters_figures(run: Cli) -> None:
    loan_id = run.create(BORROWER, "1000")
    run.json("faucet", BORROWER, "100")
    run.json("repay", str(loan_id), "100", "--account", "1")
    record = run.json("credit", "show", BORROWER)
    (reporter,) = record["reporters"]
    ledger = json.loads(run.deployment_file.read_text())["ledger"]["address"]
    assert reporter["reporter"] == ledger
    for key in ("paid_on_time", "paid_late", "missed", "days_past_due", "max_days_past_due",
                "defaults", "loans_opened", "loans_closed", "total_repaid"):  # fmt: skip
        assert reporter[key] == record[key], key
    assert record["loans_opened"] == 1 and record["total_repaid"] == 100 * 10**18
    readable = run.raw("credit", "show", BORROWER).stdout
    assert "ledger 1: 0x" in readable and "worst open loan" in readable
    # The registry's score, recomputed here from the record the same command printed.
    score = record["credit_score"]
    mine = credit_score(CreditRecord.from_view(BORROWER, _view(record)))
    assert (score["score"], score["factors"]) == (mine.score, mine.factors)
    assert score["score"] == 300 + 250 + 2 + 100  # one installment on time, current
    assert f"Credit score {score['score']} (300 to 850" in readable
    assert "paid on time" in readable and "+250 of 250" in readable


def _view(document: dict[str, Any]) -> dict[str, Any]:
    """``credit show --json``'s totals by the registry struct's field names."""
    names = {"paid_on_time": "paidOnTime", "paid_late": "paidLate", "missed": "missed",
             "days_past_due": "currentDaysPastDue", "max_days_past_due": "maxDaysPastDue",
             "defaults": "defaults", "loans_opened": "loansOpened",
             "loans_closed": "loansClosed", "total_repaid": "totalRepaid",
             "forbearances": "forbearances"}  # fmt: skip
    return {struct: document[key] for key, struct in names.items()}
