"""`loan statement`: a loan's period from its events, on the session Anvil. The balances
reconcile exactly (closing principal = opening - principal repaid + the holiday's capitalised
interest) on a loan with a payment holiday, a partial payment and a late payment, for the whole
life and for a sub-period; the text, JSON and CSV say the same."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from loanservicing.chain.accounts import dev_signer
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import Deployment
from loanservicing.ledger import calendar as cal
from loanservicing.servicing.servicer import Servicer
from tests.cli.driver import Cli

BORROWER_INDEX = 5
BORROWER = dev_signer(BORROWER_INDEX).address
UNIT = 10**6


def _reconciles(statement: dict[str, Any]) -> None:
    opening, closing, totals = statement["opening"], statement["closing"], statement["totals"]
    assert closing["principal"] == (
        opening["principal"]
        - totals["principal_repaid"]
        - totals["interest_credited"]
        + totals["principal_added"]
    )
    assert closing["fees"] == opening["fees"] + totals["fees_charged"] - totals["fees_paid"]
    assert closing["penalty"] == (
        opening["penalty"] + totals["penalty_charged"] - totals["penalty_paid"]
    )
    repayments = [line for line in statement["lines"] if line["kind"] == "repayment"]
    assert totals["repaid"] == sum(line["amount"] for line in repayments)
    for line in repayments:
        assert line["amount"] == sum(line[k] for k in ("fees", "penalty", "interest", "principal"))


def _a_loan_with_a_holiday_a_partial_and_a_late_payment(
    run: Cli, w3: Web3, servicer: Servicer
) -> tuple[int, Any, list[str]]:
    """Lent 1,000; a holiday of installments 1-2 (interest capitalised); 100 days on, a
    partial payment of 20 (late: charges assessed first); 10 days later a late payment of
    100. Returns the loan, the HolidayGranted args and the repayments' hashes."""
    loan_id = run.create(BORROWER, "1000")
    run.json("faucet", BORROWER, "500")
    run.json("loan", "holiday", "propose", str(loan_id), "--count", "2")
    accepted = run.json("loan", "holiday", "accept", str(loan_id), "--account", str(BORROWER_INDEX))
    receipt = w3.eth.get_transaction_receipt(accepted["tx_hash"])
    (granted,) = servicer.ledger.events.HolidayGranted().process_receipt(receipt, DISCARD)
    run.json("chain", "advance", "100d")
    partial = run.json("repay", str(loan_id), "20", "--account", str(BORROWER_INDEX))
    run.json("chain", "advance", "10d")
    late = run.json("repay", str(loan_id), "100", "--account", str(BORROWER_INDEX))
    return loan_id, granted["args"], [partial["tx_hash"], late["tx_hash"]]


def test_a_statement_reconciles_over_a_holiday_a_partial_and_a_late_payment(
    run: Cli, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    servicer = Servicer(w3, deployment, artifacts)
    loan_id, granted, hashes = _a_loan_with_a_holiday_a_partial_and_a_late_payment(
        run, w3, servicer
    )
    statement = run.json("loan", "statement", str(loan_id))
    assert statement["decimals"] == 6 and statement["loan_id"] == loan_id
    # From origination: the principal lent, nothing owed but it.
    assert statement["opening"] == {"principal": 1000 * UNIT, "fees": 0, "penalty": 0}
    kinds = [line["kind"] for line in statement["lines"]]
    assert kinds == ["holiday", "charges", "repayment", "charges", "repayment"], kinds
    holiday, charges, partial, _, late = statement["lines"]
    assert holiday["amount"] == granted["capitalisedInterest"] > 0
    assert holiday["principal_outstanding"] == granted["principalOutstanding"]
    assert statement["totals"]["principal_added"] == granted["principalOutstanding"] - 1000 * UNIT
    assert (holiday["from_installment"], holiday["count"]) == (1, 2)
    # The partial payment: 20 after a late fee was charged; fees and penalty first.
    assert charges["fees"] > 0 and charges["missed"] == 1
    assert partial["amount"] == 20 * UNIT and partial["tx_hash"] == hashes[0]
    assert partial["fees"] == charges["fees"] and partial["penalty"] > 0
    assert partial["interest"] > 0 and partial["principal"] < late["principal"]
    # The late payment reaches principal.
    assert late["amount"] == 100 * UNIT and late["tx_hash"] == hashes[1]
    assert late["principal"] > 0
    _reconciles(statement)
    assert statement["totals"]["principal_repaid"] > 0
    # The closing balance is the ledger's own, and the next payment its own.
    shown = run.json("loan", "show", str(loan_id))
    assert statement["closing"]["principal"] == shown["principal_outstanding"]
    assert statement["closing"]["fees"] == shown["fees_owed"]
    assert statement["next_payment"]["amount"] == shown["next_due_amount"]
    assert statement["next_payment"]["due_timestamp"] == shown["next_due_timestamp"]

    # A sub-period from the day after the holiday: it opens with the capitalised principal,
    # and the two periods chain, to the unit.
    holiday_day = cal.local_day(holiday["at_timestamp"], 0)
    before = run.json("loan", "statement", str(loan_id), "--to", _date(holiday_day))
    after = run.json("loan", "statement", str(loan_id), "--from", _date(holiday_day + 1))
    assert [line["kind"] for line in before["lines"]] == ["holiday"]
    assert before["closing"] == after["opening"]
    assert after["opening"]["principal"] == granted["principalOutstanding"]
    assert after["closing"] == statement["closing"]
    for part in (before, after):
        _reconciles(part)
    assert [line["kind"] for line in after["lines"]] == kinds[1:]

    # Bad periods and loans: one sentence, nothing printed.
    run.fails("loan", "statement", str(loan_id), "--from", "2030-02-01", "--to", "2030-01-01",
              match="ends (2030-01-01) before it starts")  # fmt: skip
    run.fails("loan", "statement", "0", match="Loan ids start at 1")
    run.fails("loan", "statement", str(loan_id), "--to", "soon", match="soon")


def test_a_statement_reads_as_one_and_its_csv_has_exact_amounts(
    run: Cli, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact],
    tmp_path: Path,
) -> None:  # fmt: skip
    servicer = Servicer(w3, deployment, artifacts)
    loan_id, _, hashes = _a_loan_with_a_holiday_a_partial_and_a_late_payment(run, w3, servicer)
    out = tmp_path / "statement.csv"
    result = run.raw("loan", "statement", str(loan_id), "--csv", str(out))
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert f"Statement of loan {loan_id}" in text
    assert "1,000.00 tUSDC" in text and "20.00" in text and "100.00" in text
    assert "Payment holiday:" in text and "capitalised" in text
    assert "next payment" in text and "closing principal" in text
    statement = run.json("loan", "statement", str(loan_id))
    with out.open(encoding="utf8") as f:
        rows = list(csv.DictReader(f))
    assert [r["kind"] for r in rows] == [
        "opening", "holiday", "charges", "repayment", "charges", "repayment", "closing",
    ]  # fmt: skip
    assert rows[0]["principal_outstanding"] == "1000.000000"
    repayments = [r for r in rows if r["kind"] == "repayment"]
    assert [r["amount"] for r in repayments] == ["20.000000", "100.000000"]
    assert [r["tx_hash"] for r in repayments] == hashes
    for row, line in zip(rows[1:-1], statement["lines"], strict=True):
        for key in ("amount", "fees", "penalty", "interest", "principal", "principal_outstanding"):
            units = line[key]
            assert row[key] == ("" if units is None else f"{Decimal(units) / UNIT:.6f}"), key
    closing = statement["closing"]["principal"]
    assert Decimal(rows[-1]["principal_outstanding"]) * UNIT == closing


def _date(day: int) -> str:
    return cal.date_of_day(day).isoformat()
