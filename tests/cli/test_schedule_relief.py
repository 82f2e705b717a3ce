"""What a payment holiday and a forbearance look like in `loan schedule`, `loan show` and
`credit show`, on the session Anvil."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.logs import DISCARD

from loanservicing.chain.accounts import dev_signer
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import Deployment
from loanservicing.ledger import calendar as cal
from loanservicing.servicing.servicer import Servicer
from tests.cli.driver import Cli

BORROWER = dev_signer(6).address


@pytest.fixture
def chain_view(
    w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> Servicer:
    return Servicer(w3, deployment, artifacts)


def test_a_holiday_shows_its_skipped_installments_at_their_old_dates(
    run: Cli, w3: Web3, chain_view: Servicer
) -> None:
    loan_id = run.create(BORROWER, "1000")
    before = run.json("loan", "schedule", str(loan_id))["installments"]
    assert before[0]["status"] == "due" and len(before) == 12
    run.json("loan", "holiday", "propose", str(loan_id), "--count", "2")
    accepted = run.json("loan", "holiday", "accept", str(loan_id), "--account", "6")
    receipt = w3.eth.get_transaction_receipt(accepted["tx_hash"])
    (granted,) = chain_view.ledger.events.HolidayGranted().process_receipt(receipt, DISCARD)
    after = run.json("loan", "schedule", str(loan_id))
    rows = after["installments"]
    assert len(rows) == 14
    for old, new in zip(before[:2], rows[:2], strict=True):
        assert new["status"] == "holiday" and new["due_timestamp"] == old["due_timestamp"]
        assert (new["principal"], new["interest"], new["total"]) == (0, 0, 0)
    # The schedule goes on from the old third due date, one period after another.
    assert rows[2]["due_timestamp"] == before[2]["due_timestamp"]
    assert rows[2]["status"] == "due" and rows[2]["total"] > 0
    (holiday,) = after["holidays"]
    assert holiday["capitalised_interest"] == granted["args"]["capitalisedInterest"] > 0
    assert (holiday["from_installment"], holiday["through_installment"]) == (1, 2)
    assert holiday["tx_hash"] == accepted["tx_hash"]
    text = run.raw("loan", "schedule", str(loan_id)).stdout
    capitalised = granted["args"]["capitalisedInterest"] / 10**6
    assert f"Payment holiday: installments 1 to 2 skipped, {capitalised:,.2f} interest" in text


def test_a_forbearance_shows_its_window_and_keeps_its_installments_in_grace(
    run: Cli, chain_view: Servicer
) -> None:
    loan_id = run.create(BORROWER, "1000")
    record = run.json("credit", "show", BORROWER)
    today = chain_view.local_today(loan_id)
    first, last = cal.date_of_day(today).isoformat(), cal.date_of_day(today + 45).isoformat()
    run.json("loan", "forbear", str(loan_id), "--from", first, "--to", last)
    # 38 days on, installment 1 (due on day 30, grace 5 days) would be overdue without it.
    run.json("chain", "advance", "38d")
    shown = run.json("loan", "schedule", str(loan_id))
    assert (shown["forbearance_from"], shown["forbearance_to"]) == (first, last)
    one = shown["installments"][0]
    assert one["in_forbearance"] is True and one["status"] == "in-grace"
    assert shown["installments"][1]["in_forbearance"] is False  # due on day 60, after it
    table = run.raw("loan", "schedule", str(loan_id)).stdout
    assert table.count("(forbearance)") == 1  # installment 1's status, wrapped at 80 columns
    show = run.json("loan", "show", str(loan_id))
    assert (show["forbearance_from"], show["forbearance_to"]) == (first, last)
    assert show["days_past_due"] == 0
    assert f"from {first} to {last} (running)" in run.raw("loan", "show", str(loan_id)).stdout
    again = run.json("credit", "show", BORROWER)
    assert again["forbearances"] == record["forbearances"] + 1
    lines = run.raw("credit", "show", BORROWER).stdout.splitlines()
    assert any(line.split()[:2] == ["│", "forbearances"] for line in lines), lines
