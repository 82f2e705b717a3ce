"""Payment holidays proposed, shown, accepted by exactly their terms and withdrawn, and
forbearance set, refused and ended early, through the CLI on the session Anvil."""

from __future__ import annotations

import pytest
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import Deployment
from loanservicing.ledger import calendar as cal
from loanservicing.servicing.servicer import Servicer
from tests.cli.driver import Cli

BORROWER = dev_signer(1).address


@pytest.fixture
def chain_view(
    w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> Servicer:
    """A read-only servicer: the ledger's own views, for checking what the CLI did."""
    return Servicer(w3, deployment, artifacts)


def _nonce(w3: Web3, account: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(account)))


def _date(day: int) -> str:
    return cal.date_of_day(day).isoformat()


def test_a_holiday_is_proposed_and_accepted_by_its_terms(
    run: Cli, w3: Web3, chain_view: Servicer
) -> None:
    loan_id = run.create(BORROWER, "1000")
    before = int(chain_view.loan_view(loan_id)["installments"])
    assert run.json("loan", "holiday", "show", str(loan_id))["proposal"] is None
    # Nothing proposed: one sentence, nothing sent.
    nonce = _nonce(w3, BORROWER)
    run.fails(
        "loan", "holiday", "accept", str(loan_id), "--account", "1",
        match=f"Loan {loan_id} has no payment holiday proposal to accept.",
    )  # fmt: skip
    assert _nonce(w3, BORROWER) == nonce
    run.fails(
        "loan", "holiday", "withdraw", str(loan_id),
        match=f"loan {loan_id} has no pending payment holiday proposal",
    )  # fmt: skip
    run.fails(
        "loan", "holiday", "propose", str(loan_id), "--from", "40", "--count", "1",
        match="(HolidayOutOfRange).",
    )  # fmt: skip
    run.fails(
        "--account", "1", "loan", "holiday", "propose", str(loan_id), "--count", "2",
        match="lacks SERVICER_ROLE",
    )  # fmt: skip
    proposed = run.json("loan", "holiday", "propose", str(loan_id), "--count", "2")
    assert set(proposed) == {"loan_id", "tx_hash", "gas_used", "proposal"}
    proposal = proposed["proposal"]
    assert (proposal["from_installment"], proposal["count"]) == (1, 2)
    assert proposal["deadline_timestamp"] - chain_view.now() <= 7 * cal.DAY
    shown = run.json("loan", "holiday", "show", str(loan_id))["proposal"]
    assert shown == proposal
    readable = run.raw("loan", "holiday", "show", str(loan_id)).stdout
    assert "installments 1 to 2 skipped" in readable
    accepted = run.json("loan", "holiday", "accept", str(loan_id), "--account", "1")
    assert accepted["accepted"] == proposal
    assert accepted["installments"] == before + 2
    assert accepted["tx_hash"].startswith("0x") and accepted["next_installment"] == 3
    assert int(chain_view.loan_view(loan_id)["installments"]) == before + 2
    assert run.json("loan", "holiday", "show", str(loan_id))["proposal"] is None
    # A proposal withdrawn by the servicer is gone.
    run.json("loan", "holiday", "propose", str(loan_id), "--count", "1", "--deadline-days", "3")
    assert run.json("loan", "holiday", "withdraw", str(loan_id))["withdrawn"] is True
    assert run.json("loan", "holiday", "show", str(loan_id))["proposal"] is None


def test_forbearance_is_set_refused_and_ended_early(run: Cli, chain_view: Servicer) -> None:
    loan_id = run.create(BORROWER, "1000")
    today = chain_view.local_today(loan_id)
    set_ = run.json(
        "loan", "forbear", str(loan_id), "--from", _date(today), "--to", _date(today + 9)
    )  # fmt: skip
    assert set(set_) == {
        "loan_id", "tx_hash", "gas_used", "ended", "forbearance_from", "forbearance_to",
        "forbearance_from_day", "forbearance_to_day",
    }  # fmt: skip
    assert (set_["forbearance_from"], set_["forbearance_to"]) == (_date(today), _date(today + 9))
    assert set_["ended"] is False
    view = chain_view.loan_view(loan_id)
    assert (int(view["forbearanceFrom"]), int(view["forbearanceTo"])) == (today, today + 9)
    # A window that has begun cannot be replaced; a first date in the past is refused.
    run.fails(
        "loan", "forbear", str(loan_id), "--from", _date(today + 1), "--to", _date(today + 5),
        match=f"forbearance from {_date(today)} to {_date(today + 9)} has begun",
    )  # fmt: skip
    refused = run.fails(
        "loan", "forbear", str(loan_id), "--from", _date(today - 1), "--to", _date(today + 5),
        match=f"a forbearance from {_date(today - 1)} to {_date(today + 5)} is not one",
    )  # fmt: skip
    assert refused.endswith("(InvalidForbearance).")
    run.fails(
        "loan", "forbear", str(loan_id), "--end", "--to", _date(today),
        match="Give either --from and --to, or --end alone.",
    )  # fmt: skip
    run.fails(
        "loan", "forbear", str(loan_id), "--from", "31/01/2027", "--to", _date(today),
        match="is not an ISO 8601 date",
    )  # fmt: skip
    # Extended by naming its first date again, then ended early three days on.
    run.json("loan", "forbear", str(loan_id), "--from", _date(today), "--to", _date(today + 19))
    assert int(chain_view.loan_view(loan_id)["forbearanceTo"]) == today + 19
    run.json("chain", "advance", "3d")
    ended = run.json("loan", "forbear", str(loan_id), "--end")
    assert ended["ended"] is True
    assert (ended["forbearance_from_day"], ended["forbearance_to_day"]) == (today, today + 2)
    view = chain_view.loan_view(loan_id)
    assert (int(view["forbearanceFrom"]), int(view["forbearanceTo"])) == (today, today + 2)
    run.fails(
        "loan", "forbear", str(loan_id), "--end",
        match=f"Loan {loan_id} has no running forbearance to end.",
    )  # fmt: skip
    # Over and mattering no more, it is replaced by a new one.
    readable = run.raw(
        "loan", "forbear", str(loan_id), "--from", _date(today + 3), "--to", _date(today + 4)
    ).stdout  # fmt: skip
    assert f"paused from {_date(today + 3)} to {_date(today + 4)}" in readable


def test_holiday_refusals_are_one_sentence_each(run: Cli, w3: Web3) -> None:
    loan_id = run.create(BORROWER, "1000")
    nonce = _nonce(w3, BORROWER)
    length = run.fails(
        "loan", "holiday", "propose", str(loan_id), "--count", "256",
        match="a payment holiday covers 1 to 255 installments, not 256",
    )  # fmt: skip
    assert length.endswith("(InvalidHolidayLength).")
    run.json("loan", "holiday", "propose", str(loan_id), "--count", "1", "--deadline-days", "1")
    run.json("chain", "advance", "2d")
    run.fails(
        "loan", "holiday", "accept", str(loan_id), "--account", "1",
        match=f"loan {loan_id}'s payment holiday proposal expired at ",
    )  # fmt: skip
    # Past due on installment 1: a holiday from installment 2 is refused at acceptance.
    run.json("chain", "advance", "30d")
    run.json("loan", "holiday", "propose", str(loan_id), "--from", "2", "--count", "1")
    behind = run.fails(
        "loan", "holiday", "accept", str(loan_id), "--account", "1",
        match=f"loan {loan_id} has ",
    )  # fmt: skip
    assert "past due (or a prepaid period running), so bring it current" in behind
    assert behind.endswith("(HolidayNotCurrent).")
    assert _nonce(w3, BORROWER) == nonce  # nothing the borrower signed was sent
