"""Reading the numbers: tables at 80 columns cut no value, amounts carry the token's symbol and
two decimals, rates print as ``18.78 %``, and ``loan schedule`` tells what was paid after a
prepayment, a restructuring and an early payoff (CliRunner against the session Anvil)."""

from __future__ import annotations

import re

from click.testing import CliRunner

from loanservicing.amounts import money, rate, share
from loanservicing.chain.accounts import dev_signer
from loanservicing.cli import cli
from tests.cli.driver import Cli

BORROWER = dev_signer(1).address
UNIT = 10**6


def _text(run: Cli, *args: str) -> str:
    result = run.raw(*args)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout


def _assert_whole(text: str) -> None:
    """No cell is cut, and no line is wider than CliRunner's 80 columns."""
    assert "…" not in text, text
    assert all(len(line) <= 80 for line in text.splitlines()), text


def test_the_one_money_and_rate_formatters() -> None:
    assert money(1_000 * UNIT, 6, "tUSDC") == "1,000.00 tUSDC"
    assert money(548_054_934_999, 6, "tUSDC") == "548,054.93 tUSDC"  # rounds, never truncates
    assert money(887_719_068, 6) == "887.72"
    assert money(None, 6, "tUSDC") == ""
    assert rate(1878) == "18.78 %" and rate(1200) == "12.00 %" and rate(5) == "0.05 %"
    assert share(0.15426) == "15.43 %" and share(1) == "100.00 %"


def test_tables_at_80_columns_show_every_amount_whole(run: Cli) -> None:
    big = run.create(BORROWER, "548054.93")
    run.create(BORROWER, "1000", "--schedule", "bullet")
    listed = _text(run, "loan", "list")
    _assert_whole(listed)
    assert "548,054.93" in listed and "1,000.00" in listed and "tUSDC" in listed
    # The borrower's address folds onto two lines, whole; the schedule kind gives way.
    assert BORROWER[:29] in listed and BORROWER[29:] in listed
    assert "Left out at this width: schedule" in listed
    assert run.json("loan", "list")["loans"][0]["principal_outstanding"] == 548_054_930_000

    portfolio = _text(run, "portfolio")
    _assert_whole(portfolio)
    assert "549,054.93 tUSDC" in portfolio  # principal originated, rounded to the cent
    assert re.search(r"PAR30 +│ +0\.00 %", portfolio)
    assert run.json("portfolio")["principal_originated"] == 549_054_930_000

    shown = _text(run, "loan", "show", str(big))
    _assert_whole(shown)
    assert "548,054.93 tUSDC" in shown and "12.00 % a year" in shown
    for command in (("loan", "schedule", str(big)), ("credit", "show", BORROWER)):
        _assert_whole(_text(run, *command))
    run.json("faucet", BORROWER, "50000")
    repaid = _text(run, "repay", str(big), "48690.53", "--account", "1")
    _assert_whole(repaid)
    assert "48,690.53 tUSDC" in repaid
    quote = _text(run, "payoff", str(big))
    _assert_whole(quote)
    assert re.search(r"current principal +│ +[\d,]+\.\d\d tUSDC", quote)


def test_an_installment_overpaid_by_a_fraction_shows_as_paid(run: Cli) -> None:
    # Unrounded installments: 887.719068; paying 887.72 prepays the last 0.000932.
    loan_id = run.create(BORROWER, "10000", "--rounding", "0")
    first = run.json("loan", "schedule", str(loan_id))["installments"][0]
    assert first["total"] == 887_719_068
    run.json("faucet", BORROWER, "1000")
    run.json("repay", str(loan_id), "887.72", "--account", "1")
    rows = run.json("loan", "schedule", str(loan_id))["installments"]
    assert (rows[0]["status"], rows[0]["paid"]) == ("paid", 887_720_000)
    assert rows[1]["status"] == "due"
    text = _text(run, "loan", "schedule", str(loan_id))
    _assert_whole(text)
    assert re.search(r"│ +1 │ 2\d{3}-\d\d-\d\d │ .*│ +887\.72 │ +887\.72 │ paid", text)
    shown = run.json("loan", "show", str(loan_id))
    assert (shown["installments_paid"], shown["installments_settled"]) == (1, 1)


def test_after_a_restructuring_show_counts_the_installments_paid(run: Cli) -> None:
    loan_id = run.create(BORROWER, "10000")
    first = run.json("loan", "schedule", str(loan_id))["installments"][0]
    run.json("faucet", BORROWER, "1000")
    run.json("repay", str(loan_id), f"{first['total'] / UNIT:.2f}", "--account", "1")
    run.json("chain", "advance", "95d")  # installments 2 to 4 fall due unpaid
    run.json(
        "loan", "restructure", "propose", str(loan_id), "--apr", "9", "--installments", "24",
        "--period", "30d",
    )  # fmt: skip
    run.json("loan", "restructure", "accept", str(loan_id), "--account", "1")
    shown = run.json("loan", "show", str(loan_id))
    settled, total = shown["installments_settled"], shown["installments_total"]
    assert settled >= 3 and total == settled + 24  # the ledger's position counts replaced rows
    assert shown["installments_paid"] == 1
    assert f"1 of {total} paid" in _text(run, "loan", "show", str(loan_id))
    rows = run.json("loan", "schedule", str(loan_id))["installments"]
    assert [r["status"] for r in rows[: settled + 1]] == ["paid", *["settled"] * (settled - 1),
                                                           "due"]  # fmt: skip
    assert rows[0]["paid"] == first["total"]
    assert [r["paid"] for r in rows[1:settled]] == [0] * (settled - 1)


def test_a_bullet_loan_paid_off_early_shows_where_its_principal_went(run: Cli) -> None:
    loan_id = run.create(BORROWER, "10000", "--schedule", "bullet")
    before = run.json("loan", "schedule", str(loan_id))["installments"]
    assert before[-1]["principal"] == 10_000 * UNIT
    run.json("faucet", BORROWER, "11000")
    run.json("repay", str(loan_id), f"{before[0]['total'] / UNIT:.2f}", "--account", "1")
    run.json("chain", "advance", "40d")
    quote = run.json("payoff", str(loan_id))
    paid = run.json("repay", str(loan_id), "10500", "--account", "1")
    assert paid["status"] == "closed" and paid["amount"] == quote["amount"]
    rows = run.json("loan", "schedule", str(loan_id))["installments"]
    assert len(rows) == 12
    assert [r["status"] for r in rows[:3]] == ["paid", "paid", "settled"]
    assert rows[0]["paid"] == before[0]["total"]
    # The payoff counts towards the installment it settled: all the principal and the
    # interest to the day.
    assert rows[1]["paid"] == paid["allocated"]["principal"] + paid["allocated"]["interest"]
    assert paid["allocated"]["principal"] == 10_000 * UNIT
    # The later installments keep what they scheduled, nothing paid towards them.
    assert [(r["principal"], r["interest"]) for r in rows] == [
        (r["principal"], r["interest"]) for r in before
    ]
    assert all(r["paid"] == 0 and r["status"] == "settled" for r in rows[2:])
    assert sum(r["paid"] for r in rows) == before[0]["total"] + paid["amount"]
    text = _text(run, "loan", "schedule", str(loan_id))
    _assert_whole(text)
    assert f"{(paid['amount']) / UNIT:,.2f}" in text
    assert "2 of 12 paid" in _text(run, "loan", "show", str(loan_id))


def test_the_demo_prints_whole_numbers_notices_in_date_order_and_readable_sharing() -> None:
    # Its own temporary Anvil: the shared run of tests/demo (seed 11, 15 loans, 4 months).
    runner = CliRunner(mix_stderr=False)
    args = ["demo", "--seed", "11", "--loans", "15", "--borrowers", "8", "--months", "4"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr + result.stdout
    text = result.stdout
    _assert_whole(text)
    lines = text.splitlines()
    # Every amount of the figures carries the token and two decimals; PAR30 reads 15.43 %.
    assert re.search(r"principal originated +│ +[\d,]+\.\d\d tUSDC", text)
    assert re.search(r"PAR30 +│ +\d+\.\d\d %", text)
    # The credit records: whole addresses (folded), repaid amounts to the cent.
    credit = lines[next(i for i, line in enumerate(lines) if "Credit records" in line) :]
    assert re.search(r"│ +\d[\d,]*\.\d\d │$", "\n".join(credit), re.MULTILINE)
    # The notice examples, one per kind, in date order.
    dates = [m.group(1) for line in lines if (m := re.match(r"  (\d{4}-\d\d-\d\d) loan ", line))]
    assert len(dates) >= 5 and dates == sorted(dates)
    # What was shared, in words and dates.
    start = next(i for i, line in enumerate(lines) if "What was shared with whom" in line)
    end = next(i for i, line in enumerate(lines) if "Credit records" in line)
    shared = " ".join(" ".join(lines[start + 1 : end]).split())
    for python in ("True", "False", "None", "['", "[]"):
        assert python not in shared
    assert re.search(
        r"read its identity, employment and income data until \d{4}-\d\d-\d\d\.", shared
    )
    assert " was refused the income data of " in shared
