"""``loan import BOOK.csv``: a loan book boarded through the bulk path after every row was
checked; a book with bad rows is refused whole, each reason by its line, nothing sent."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from tests.cli.driver import LENDER, Cli

DEV_1, DEV_2 = dev_signer(1).address, dev_signer(2).address
SIGNER_KEY = "0x" + "b1" * 32
SIGNER = Account.from_key(SIGNER_KEY).address
"""A borrower that is not a dev account: it signs its terms itself (``loan sign-terms``)."""
HEADER = "borrower,principal,apr,installments,period,frequency,first_due,schedule,signed_terms"


def _book(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_book_is_checked_then_boarded_in_order(run: Cli, tmp_path: Path, w3: Web3) -> None:
    run.json("faucet", LENDER, "100000")
    run.json(
        "--private-key-env", "KEY", "loan", "sign-terms", "--lender", LENDER,
        "--principal", "700", "--apr", "10", "--installments", "6", "--period", "30d",
        "--out", str(tmp_path / "signed.json"), env={"KEY": SIGNER_KEY},
    )  # fmt: skip
    book = _book(
        tmp_path / "book.csv",
        f"{DEV_1},1000,12,10,30d,,,annuity,",
        f"{DEV_1},2500.50,9.5,24,,monthly,,equal-principal,",  # the same borrower: next nonce
        f"{DEV_2},400,15,1,90d,,,bullet,",
        f"{SIGNER},,,,,,,,signed.json",
    )
    nonce = w3.eth.get_transaction_count(LENDER)
    planned = run.json("loan", "import", str(book), "--dry-run")
    assert w3.eth.get_transaction_count(LENDER) == nonce  # the dry run sends nothing
    assert [(p["row"], p["nonce"]) for p in planned["loans"]] == [(2, 0), (3, 1), (4, 0), (5, 0)]
    imported = run.json("loan", "import", str(book))
    assert imported["count"] == 4
    loans = imported["loans"]
    assert [r["row"] for r in loans] == [2, 3, 4, 5]
    assert [r["loan_id"] for r in loans] == [1, 2, 3, 4]
    assert [r["principal"] for r in loans] == [1000 * 10**6, 2500_500_000, 400 * 10**6, 700 * 10**6]
    shown = [run.json("loan", "show", str(r["loan_id"])) for r in loans]
    assert [s["borrower"] for s in shown] == [DEV_1, DEV_1, DEV_2, SIGNER]
    assert [s["schedule"] for s in shown] == ["annuity", "equal-principal", "bullet", "annuity"]
    assert [s["installments_total"] for s in shown] == [10, 24, 1, 6]
    assert shown[1]["apr_bps"] == 950
    text = run.raw("loan", "import", str(_book(tmp_path / "b2.csv", f"{DEV_2},10,12,2,30d,,,,")))
    assert text.exit_code == 0, text.stderr
    assert "1 loans boarded" in text.stdout and "10.00 tUSDC" in text.stdout


def test_a_book_with_bad_rows_is_refused_whole(run: Cli, tmp_path: Path, w3: Web3) -> None:
    run.json("faucet", LENDER, "100000")
    book = _book(
        tmp_path / "book.csv",
        f"{DEV_1},1000,12,10,30d,,,annuity,",
        f"{DEV_2},1000,twelve,10,30d,,,annuity,",
        f"{SIGNER},1000,12,10,30d,,,annuity,",
        f"{DEV_2},1000,12,10,2d,,,annuity,",
        "not-an-address,1000,12,10,30d,,,annuity,",
        f"{DEV_2},1000,12,10,30d,,,annuity,missing.json",
    )
    nonce = w3.eth.get_transaction_count(LENDER)
    result = run.raw("loan", "import", str(book))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: The book was not boarded: 5 of 6 rows are bad; nothing was sent."
    assert lines[1].startswith("  row 3: ") and "twelve" in lines[1]
    assert lines[2].startswith(f"  row 4: The borrower {SIGNER} is not a dev account")
    assert lines[3].startswith("  row 5: A grace period of 5 days is longer than the period")
    assert lines[4].startswith("  row 6: The borrower 'not-an-address' is not an address")
    assert lines[5].startswith("  row 7: The row names signed terms and also gives principal")
    refused = run.raw("loan", "import", str(book), "--json")
    document = json.loads(refused.stderr)
    assert document["error"] == "refused"
    assert [r["row"] for r in document["rows"]] == [3, 4, 5, 6, 7]
    assert w3.eth.get_transaction_count(LENDER) == nonce
    assert run.json("loan", "list")["count"] == 0

    run.fails(
        "loan", "import", str(_book(tmp_path / "big.csv", f"{DEV_1},900000,12,10,30d,,,,")),
        match=f"The book was not boarded: the lender {LENDER} holds 100,000.00 tUSDC but the "
        "book lends 900,000.00 tUSDC; nothing was sent.",
    )  # fmt: skip
    (tmp_path / "cols.csv").write_text("borrower,amount\n0x00,1\n", encoding="utf-8")
    run.fails(
        "loan", "import", str(tmp_path / "cols.csv"),
        match="The book was not boarded: the header has unknown columns amount; the columns "
        "are borrower, signed_terms, principal, apr,",
    )  # fmt: skip
    run.fails("loan", "import", str(tmp_path / "nope.csv"), match="cannot be read")
    assert w3.eth.get_transaction_count(LENDER) == nonce


def test_a_book_larger_than_a_batch_is_boarded_whole(run: Cli, tmp_path: Path) -> None:
    run.json("faucet", LENDER, "1000000")
    borrowers = [dev_signer(i).address for i in range(1, 6)]
    rows = [f"{borrowers[i % 5]},{100 + i},12,6,30d,,,annuity," for i in range(150)]
    imported = run.json("loan", "import", str(_book(tmp_path / "book.csv", *rows)))
    assert imported["count"] == 150
    assert [r["row"] for r in imported["loans"]] == list(range(2, 152))
    assert [r["loan_id"] for r in imported["loans"]] == list(range(1, 151))
    assert imported["principal_by_token"] == {
        run.json("loan", "show", "1")["token"]: sum(100 + i for i in range(150)) * 10**6
    }
    last = run.json("loan", "show", "150")
    assert (last["borrower"], last["principal"]) == (borrowers[149 % 5], 249 * 10**6)
