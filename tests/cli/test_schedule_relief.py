"""What a payment holiday and a forbearance look like in `loan schedule`, `loan show` and
`credit show`, on the session Anvil."""

from __future__ import annotations

from typing import Any

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
DAY = 86_400


@pytest.fixture
def chain_view(
    w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> Servicer:
    return Servicer(w3, deployment, artifacts)


def _date(day: int) -> str:
    return cal.date_of_day(day).isoformat()


def _one_line(text: str) -> str:
    """The output with its whitespace runs as single spaces (tables wrap at 80 columns)."""
    return " ".join(text.split())


def _holiday(run: Cli, w3: Web3, chain_view: Servicer, loan_id: int, count: int) -> Any:
    """Propose and accept a holiday of ``count`` installments; its HolidayGranted args."""
    run.json("loan", "holiday", "propose", str(loan_id), "--count", str(count))
    accepted = run.json("loan", "holiday", "accept", str(loan_id), "--account", "6")
    receipt = w3.eth.get_transaction_receipt(accepted["tx_hash"])
    (granted,) = chain_view.ledger.events.HolidayGranted().process_receipt(receipt, DISCARD)
    return {**granted["args"], "tx_hash": accepted["tx_hash"]}


def test_a_holiday_shows_its_skipped_installments_at_their_old_dates(
    run: Cli, w3: Web3, chain_view: Servicer
) -> None:
    loan_id = run.create(BORROWER, "1000")
    before = run.json("loan", "schedule", str(loan_id))
    assert before["holidays"] == [] and before["forbearance_state"] is None
    old = before["installments"]
    assert old[0]["status"] == "due" and len(old) == 12
    first_due = cal.local_day(old[0]["due_timestamp"], 0)
    granted = _holiday(run, w3, chain_view, loan_id, 2)
    # 60 days' interest on 1,000.00 at 12 % act/365, rounded down to cents: 19.726... -> 19.72.
    assert granted["capitalisedInterest"] == 19_720_000
    after = run.json("loan", "schedule", str(loan_id))
    rows = after["installments"]
    assert len(rows) == 14
    # The two skipped installments at their old due dates, 30 days apart; nothing due on them.
    assert [r["due_date_local"] for r in rows[:2]] == [_date(first_due), _date(first_due + 30)]
    for was, now in zip(old[:2], rows[:2], strict=True):
        assert now["status"] == "holiday" and now["due_timestamp"] == was["due_timestamp"]
        assert (now["principal"], now["interest"], now["total"], now["paid"]) == (0, 0, 0, None)
    # The schedule goes on from the old third due date, one period after another, to 14.
    assert rows[2]["due_timestamp"] == old[2]["due_timestamp"]
    assert rows[2]["status"] == "due" and rows[2]["total"] > 0
    assert rows[13]["due_date_local"] == _date(first_due + 13 * 30)
    # The new schedule amortises the principal with the interest capitalised.
    assert sum(r["principal"] for r in rows) == 1_000_000_000 + 19_720_000
    (holiday,) = after["holidays"]
    assert holiday == {
        "from_installment": 1,
        "through_installment": 2,
        "count": 2,
        "capitalised_interest": granted["capitalisedInterest"],
        "principal_outstanding": granted["principalOutstanding"],
        "block": holiday["block"],
        "tx_hash": granted["tx_hash"],
        "skipped_due_dates": [_date(first_due), _date(first_due + 30)],
    }
    assert granted["principalOutstanding"] == 1_019_720_000
    text = run.raw("loan", "schedule", str(loan_id)).stdout
    assert (
        "Payment holiday: installments 1 to 2 skipped, 19.72 tUSDC interest capitalised into the "
        "principal, the term extended by 2 installments." in text.splitlines()
    )
    lines = [line.split() for line in text.splitlines()]
    # Two header lines: the names, then the token of the amount columns.
    assert ["│", "1", "│", _date(first_due), "│", "30", "│", "0.00"] == lines[5][:8]
    assert "holiday" in lines[5] and "holiday" in lines[6] and "due" in lines[7]


def test_a_second_holiday_and_a_restructuring_keep_the_history(
    run: Cli, w3: Web3, chain_view: Servicer
) -> None:
    loan_id = run.create(BORROWER, "1000")
    first = _holiday(run, w3, chain_view, loan_id, 2)
    rows = run.json("loan", "schedule", str(loan_id))["installments"]
    dates = [r["due_date_local"] for r in rows]
    # Installments 3 and 4 paid a day after 3 fell due; a month on, installment 5 is skipped.
    run.json("chain", "advance", "91d")
    assert run.json("loan", "show", str(loan_id))["next_due_amount"] == sum(
        r["total"] for r in rows[2:4]
    )
    run.json("faucet", BORROWER, "500")
    run.json("repay", str(loan_id), "181.04", "--account", "6")
    run.json("chain", "advance", "30d")
    second = _holiday(run, w3, chain_view, loan_id, 1)
    assert second["fromInstallment"] == 5
    shown = run.json("loan", "schedule", str(loan_id))
    rows = shown["installments"]
    assert [r["status"] for r in rows[:6]] == [
        "holiday", "holiday", "paid", "paid", "holiday", "due",
    ]  # fmt: skip
    assert [r["due_date_local"] for r in rows[:5]] == dates[:5]
    assert len(rows) == 15
    assert [(h["from_installment"], h["count"], h["capitalised_interest"]) for h in
            shown["holidays"]] == [(1, 2, first["capitalisedInterest"]),
                                   (5, 1, second["capitalisedInterest"])]  # fmt: skip
    assert shown["holidays"][1]["skipped_due_dates"] == [dates[4]]
    text = run.raw("loan", "schedule", str(loan_id)).stdout
    assert "Payment holiday: installment 5 skipped, " in text
    assert "the term extended by 1 installment." in text
    # A restructuring starts a new calendar; the holidays' rows keep their dates.
    run.json(
        "loan", "restructure", "propose", str(loan_id), "--apr", "9", "--installments", "6",
        "--period", "30d",
    )  # fmt: skip
    run.json("loan", "restructure", "accept", str(loan_id), "--account", "6")
    rows = run.json("loan", "schedule", str(loan_id))["installments"]
    history = ["holiday", "holiday", "paid", "paid", "holiday"]
    assert [r["status"] for r in rows[:5]] == history
    assert [r["due_date_local"] for r in rows[:5]] == dates[:5]
    assert len(rows) == 5 + 6 and rows[5]["status"] == "due"


def test_settled_rows_after_a_holiday_keep_their_interest_only_installments(
    run: Cli, w3: Web3, chain_view: Servicer
) -> None:
    loan_id = run.create(BORROWER, "1000", "--interest-only", "3")
    _holiday(run, w3, chain_view, loan_id, 2)
    in_force = run.json("loan", "schedule", str(loan_id))["installments"]
    # The holiday moved the interest-only installments with the schedule: 3 to 5.
    assert [r["principal"] == 0 for r in in_force[2:6]] == [True, True, True, False]
    run.json("chain", "advance", "91d")
    due = run.json("loan", "show", str(loan_id))["next_due_amount"]
    assert due == in_force[2]["total"] + in_force[3]["total"]  # installments 3 and 4
    run.json("faucet", BORROWER, "1500")
    run.json("repay", str(loan_id), f"{due / 10**6:.2f}", "--account", "6")
    run.json("repay", str(loan_id), "300", "--account", "6")  # a prepayment: a new segment
    rows = run.json("loan", "schedule", str(loan_id))["installments"]
    assert [r["status"] for r in rows[:5]] == ["holiday", "holiday", "paid", "paid", "due"]
    for n in (2, 3):
        assert (rows[n]["principal"], rows[n]["interest"]) == (
            in_force[n]["principal"],
            in_force[n]["interest"],
        )
    assert rows[3]["principal"] == 0


def test_a_forbearance_shows_its_window_and_keeps_its_installments_in_grace(
    run: Cli, chain_view: Servicer
) -> None:
    loan_id = run.create(BORROWER, "1000")
    today = chain_view.local_today(loan_id)
    first, last = _date(today), _date(today + 45)
    run.json("loan", "forbear", str(loan_id), "--from", first, "--to", last)
    ahead = run.json("loan", "schedule", str(loan_id))
    assert ahead["forbearance_state"] == "running"
    # 38 days on, installment 1 (due on day 30, grace 5 days) would be overdue without it.
    run.json("chain", "advance", "38d")
    shown = run.json("loan", "schedule", str(loan_id))
    assert (shown["forbearance_from"], shown["forbearance_to"]) == (first, last)
    assert (shown["forbearance_from_day"], shown["forbearance_to_day"]) == (today, today + 45)
    assert shown["forbearance_state"] == "running"
    one = shown["installments"][0]
    assert one["in_forbearance"] is True and one["status"] == "in-grace"
    assert one["due_date_local"] == _date(today + 30)
    assert [r["in_forbearance"] for r in shown["installments"]] == [True] + [False] * 11
    table = run.raw("loan", "schedule", str(loan_id)).stdout
    assert table.count("(forbearance)") == 1  # installment 1's status, wrapped at 80 columns
    assert (
        f"In forbearance from {first} to {last}: the delinquency clock is paused on those dates."
        in table.splitlines()
    )
    show = run.json("loan", "show", str(loan_id))
    assert (show["forbearance_from"], show["forbearance_to"]) == (first, last)
    assert show["forbearance_state"] == "running" and show["days_past_due"] == 0
    assert f"In forbearance from {first} to {last}" in _one_line(
        run.raw("loan", "show", str(loan_id)).stdout
    )
    # Ended early: the window's last date becomes yesterday.
    run.json("loan", "forbear", str(loan_id), "--end")
    ended = run.json("loan", "show", str(loan_id))
    assert (ended["forbearance_to"], ended["forbearance_state"]) == (_date(today + 37), "ended")
    assert f"Forbearance ended {_date(today + 37)} (from {first})" in _one_line(
        run.raw("loan", "show", str(loan_id)).stdout
    )
    assert (
        f"Forbearance ended {_date(today + 37)} (from {first}): the delinquency clock was "
        "paused on those dates." in run.raw("loan", "schedule", str(loan_id)).stdout
    )


def test_credit_show_counts_a_forbearance(run: Cli, chain_view: Servicer) -> None:
    loan_id = run.create(BORROWER, "1000")
    assert run.json("credit", "show", BORROWER)["forbearances"] == 0
    today = chain_view.local_today(loan_id)
    run.json("loan", "forbear", str(loan_id), "--from", _date(today), "--to", _date(today + 9))
    record = run.json("credit", "show", BORROWER)
    assert record["forbearances"] == 1
    (reporter,) = record["reporters"]
    assert reporter["forbearances"] == 1
    lines = run.raw("credit", "show", BORROWER).stdout.splitlines()
    row = next(line.split() for line in lines if "forbearances" in line)
    assert row == ["│", "forbearances", "│", "1", "│", "1", "│"]
    # Extending the running window is the same forbearance.
    run.json("loan", "forbear", str(loan_id), "--from", _date(today), "--to", _date(today + 19))
    assert run.json("credit", "show", BORROWER)["forbearances"] == 1
