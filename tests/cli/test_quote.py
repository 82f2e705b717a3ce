"""`loan quote` and `loan create --dry-run`: the schedule, APR and cost of terms the ledger
accepted in a simulation, equal to the unit to `loan schedule` of the loan created afterwards;
nothing sent; terms the ledger refuses refused with `loan create`'s sentence."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import Deployment
from loanservicing.servicing.servicer import Servicer
from tests.cli.driver import LENDER, Cli

BORROWER = dev_signer(3).address
ROW_KEYS = ("number", "due_date", "due_timestamp", "due_date_local", "days", "principal",
            "interest", "total")  # fmt: skip


def _terms(principal: str = "10000", *extra: str) -> tuple[str, ...]:
    return ("--borrower", BORROWER, "--principal", principal, "--apr", "12", "--installments",
            "12", *extra)  # fmt: skip


def _sent_state(w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]) -> Any:
    """What a transaction would move: both accounts' nonces, the borrower's ledger nonce, the
    loan count and the block number."""
    ledger = Servicer(w3, deployment, artifacts)
    return (
        w3.eth.get_transaction_count(LENDER),
        w3.eth.get_transaction_count(BORROWER),
        ledger.nonce_of(BORROWER),
        ledger.loan_count(),
        w3.eth.block_number,
    )


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if not k.startswith("as_of")}


def _rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: row[k] for k in ROW_KEYS} for row in document["installments"]]


def test_a_quote_is_the_schedule_of_the_loan_created_after_it_and_sends_nothing(
    run: Cli, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    for extra in (("--period", "30d"), ("--frequency", "monthly", "--interest-only", "2")):
        run.json("faucet", LENDER, "10000")
        before = _sent_state(w3, deployment, artifacts)
        quote = run.json("loan", "quote", *_terms("10000", *extra))
        dry_run = run.json("loan", "create", *_terms("10000", *extra), "--dry-run")
        assert _sent_state(w3, deployment, artifacts) == before
        assert _without_time(dry_run) == _without_time(quote)
        assert quote["dry_run"] is True and quote["decimals"] == 6
        assert quote["apr_bps"] == 1200 and quote["principal"] == 10_000 * 10**6
        rows = _rows(quote)
        assert len(rows) == 12
        assert sum(r["principal"] for r in rows) == quote["total_principal"] == 10_000 * 10**6
        assert sum(r["interest"] for r in rows) == quote["total_interest"] > 0
        assert quote["total_cost"] == quote["total_principal"] + quote["total_interest"]
        assert all(r["total"] == r["principal"] + r["interest"] for r in rows)
        assert quote["first_due_timestamp"] == rows[0]["due_timestamp"]
        loan_id = int(run.json("loan", "create", *_terms("10000", *extra))["loan_id"])
        assert _rows(run.json("loan", "schedule", str(loan_id))) == rows


def test_a_quote_reads_as_a_schedule_with_its_cost(run: Cli) -> None:
    result = run.raw("loan", "quote", *_terms("1200", "--period", "30d"))
    assert result.exit_code == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Quote: 1,200.00 tUSDC to " + BORROWER in out
    assert "APR" in out and "12.00 % a year, act/365" in out
    assert "total interest" in out and "total cost" in out and "tUSDC" in out
    assert "nothing was sent" in out
    document = run.json("loan", "quote", *_terms("1200", "--period", "30d"))
    first = document["installments"][0]
    assert first["due_date_local"] in out
    assert f"{first['total'] / 10**6:,.2f}" in out


def test_terms_the_ledger_refuses_are_refused_with_the_create_sentence(
    run: Cli, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    run.json("faucet", LENDER, "10")
    before = _sent_state(w3, deployment, artifacts)
    bad = _terms("10", "--period", "30d", "--first-due", "2001-01-01")
    sentence = run.fails("loan", "create", *bad, match="is outside what the ledger")
    assert run.fails("loan", "quote", *bad, match="is outside what the ledger") == sentence
    assert run.fails("loan", "create", *bad, "--dry-run", match="outside") == sentence
    # The borrower is the lender: the ledger's BorrowerIsLender, in the same words.
    self_loan = ("--borrower", LENDER, *_terms("10", "--period", "30d")[2:])
    sentence = run.fails("loan", "create", *self_loan, match="lender")
    assert run.fails("loan", "quote", *self_loan, match="lender") == sentence
    assert _sent_state(w3, deployment, artifacts) == before


def test_a_borrower_outside_the_node_is_quoted_by_the_ledger_without_its_signature(
    run: Cli, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    stranger = Account.create().address
    terms = ("--borrower", stranger, *_terms("500", "--period", "30d")[2:])
    quote = run.json("loan", "quote", *terms)
    assert quote["borrower"] == stranger and quote["borrower_signs_locally"] is False
    dev = run.json("loan", "quote", *_terms("500", "--period", "30d"))
    assert _rows(quote) == _rows(dev)
    # The calendar is the ledger's to check even without the signature.
    run.fails("loan", "quote", *terms, "--first-due", "2001-01-01", match="outside what the")
    # `loan create --dry-run` fails where `loan create` would: only the borrower can sign.
    sentence = run.fails("loan", "create", *terms, match="not a dev account of this node")
    assert run.fails("loan", "create", *terms, "--dry-run", match="not a dev") == sentence
    # The lender's role and, with --no-approve, its allowance are checked as create does.
    not_a_lender = ("--account", "7", "loan", "create", *_terms("500", "--period", "30d"))
    assert run.fails(*not_a_lender, "--dry-run", match="lacks ORIGINATOR_ROLE")
    run.json("faucet", LENDER, "500")
    assert run.fails("loan", "create", *_terms("500", "--period", "30d"), "--no-approve",
                     "--dry-run", match="allows the ledger only")  # fmt: skip
