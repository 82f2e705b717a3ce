"""``loan restructure propose --dry-run``: the proposed schedule beside the installments left,
equal to the unit to the schedule an acceptance at that time sets, and nothing sent."""

from __future__ import annotations

from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.chain.node import chain_time, mine
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.schedule import DAY
from tests.cli.driver import LENDER, Cli

BORROWER = dev_signer(1).address
PROPOSAL = ("--apr", "9", "--installments", "8", "--period", "30d")


def test_the_preview_is_the_schedule_an_acceptance_sets(run: Cli, w3: Web3) -> None:
    loan_id = run.create(BORROWER, "1000")
    run.json("--account", "1", "repay", str(loan_id), "88.85")
    # Noon (UTC, the loan's offset) 40 days on: the preview and the acceptance on one date.
    noon = cal.day_end(cal.local_day(chain_time(w3) + 40 * DAY, 0), 0) - DAY // 2
    mine(w3, noon)
    nonce = w3.eth.get_transaction_count(LENDER)
    preview = run.json("loan", "restructure", "propose", str(loan_id), *PROPOSAL, "--dry-run")
    assert w3.eth.get_transaction_count(LENDER) == nonce  # nothing sent
    assert run.json("loan", "restructure", "show", str(loan_id))["proposal"] is None
    assert preview["dry_run"] is True and preview["proposed_apr_bps"] == 900
    current, proposed = preview["current"], preview["proposed"]
    assert [r["number"] for r in current["installments"]] == list(range(2, 13))
    assert len(proposed["installments"]) == 8
    assert proposed["to_pay"] == sum(r["total"] for r in proposed["installments"])
    principal = sum(r["principal"] for r in proposed["installments"])
    assert principal == preview["principal_outstanding"]

    run.json("loan", "restructure", "propose", str(loan_id), *PROPOSAL)
    run.json("loan", "restructure", "accept", str(loan_id), "--account", "1")
    after = run.json("loan", "schedule", str(loan_id))["installments"]
    new = [r for r in after if r["status"] != "settled" and r["number"] > 1]
    keys = ("number", "due_date_local", "principal", "interest", "total")
    assert [{k: r[k] for k in keys} for r in new] == [
        {k: r[k] for k in keys} for r in proposed["installments"]
    ]

    text = run.raw("loan", "restructure", "propose", str(loan_id), *PROPOSAL, "--dry-run")
    assert text.exit_code == 0, text.stderr
    assert "Nothing was sent" in text.stdout and "9.00 %" in text.stdout


def test_a_preview_is_refused_where_the_proposal_would_be(run: Cli, w3: Web3) -> None:
    loan_id = run.create(BORROWER, "1000")
    nonce = w3.eth.get_transaction_count(LENDER)
    run.fails(
        "--account", "1", "loan", "restructure", "propose", str(loan_id), *PROPOSAL, "--dry-run",
        match="lacks SERVICER_ROLE",
    )  # fmt: skip
    run.fails(
        "loan", "restructure", "propose", str(loan_id), "--apr", "9", "--installments", "8",
        "--period", "1d", "--dry-run",
        match="A grace period of 5 days is longer than the period (1 day)",
    )  # fmt: skip
    run.fails(
        "loan", "restructure", "propose", str(loan_id), "--apr", "9", "--installments", "8",
        "--period", "1d", match="A grace period of 5 days is longer than the period (1 day)",
    )  # fmt: skip
    run.fails(
        "loan", "restructure", "propose", "99", *PROPOSAL, "--dry-run", match="There is no loan 99"
    )  # fmt: skip
    assert w3.eth.get_transaction_count(LENDER) == nonce
