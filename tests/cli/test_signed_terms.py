"""Borrower-signed origination through the CLI: ``loan sign-terms`` as the borrower,
``loan originate --signed-terms FILE`` as the lender; files that do not fit are refused with
one sentence and change nothing; the admin's token allowlist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_typing import Hash32
from web3 import Web3

from loanservicing.chain.abi import ORIGINATOR_ROLE, role
from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.deployment.bindings import bind, revert_decoder
from loanservicing.deployment.compile import compile_contracts
from loanservicing.deployment.manifest import read_deployment
from loanservicing.servicing.borrower_signature import SignedTerms
from tests.cli.driver import Cli

LENDER = dev_signer(0).address
BORROWER_KEY = "0x" + "b0" * 32
BORROWER = Account.from_key(BORROWER_KEY).address
"""A borrower that is not one of the node's dev accounts: it signs for itself."""
AS_BORROWER = {"BORROWER_KEY": BORROWER_KEY}
TERMS = ("--principal", "1000", "--apr", "12", "--installments", "6", "--period", "30d")


def _sign(run: Cli, out: Path, *extra: str, lender: str = LENDER) -> dict[str, Any]:
    document: dict[str, Any] = run.json(
        "--private-key-env", "BORROWER_KEY", "loan", "sign-terms", "--lender", lender,
        *TERMS, "--out", str(out), *extra, env=AS_BORROWER,
    )  # fmt: skip
    return document


def _state(run: Cli, w3: Web3) -> tuple[int, int, int]:
    """The lender's transaction nonce, the borrower's signature nonce and the loan count."""
    listed = run.json("loan", "list")
    return int(w3.eth.get_transaction_count(LENDER)), _ledger_nonce(run, w3), int(listed["count"])


def _ledger_nonce(run: Cli, w3: Web3) -> int:
    ledger = bind(w3, read_deployment(run.deployment_file), compile_contracts()).ledger
    return int(ledger.functions.nonces(BORROWER).call())


def test_the_borrower_signs_a_file_and_the_lender_originates_it(
    run: Cli, tmp_path: Path, w3: Web3
) -> None:
    run.json("faucet", LENDER, "1000")
    run.fails(
        "loan", "create", "--borrower", BORROWER, *TERMS,
        match=f"The borrower {BORROWER} is not a dev account of this node",
    )  # fmt: skip
    out = tmp_path / "terms.json"
    signed = _sign(run, out, "--valid-for", "2d")
    assert (signed["borrower"], signed["lender"], signed["nonce"]) == (BORROWER, LENDER, 0)
    assert signed["terms"]["principal"] == 1_000 * 10**6 and signed["decimals"] == 6
    assert signed["deadline_date"].endswith("Z") and signed["file"] == str(out)
    file = SignedTerms.from_json(out.read_text())
    assert file.signer() == BORROWER and "0x" + file.digest().hex() == signed["digest"]
    originated = run.json("loan", "originate", "--signed-terms", str(out))
    assert originated["borrower"] == BORROWER and originated["borrower_signed"] is True
    assert originated["borrower_nonce"] == 0
    shown = run.json("loan", "show", str(originated["loan_id"]))
    assert (shown["borrower"], shown["lender"], shown["principal"]) == (
        BORROWER,
        LENDER,
        1_000 * 10**6,
    )
    assert _ledger_nonce(run, w3) == 1
    # People's output says so.
    run.json("faucet", LENDER, "1000")
    readable = run.raw(
        "--private-key-env", "BORROWER_KEY", "loan", "sign-terms", "--lender", LENDER, *TERMS,
        "--out", str(out), env=AS_BORROWER,
    )  # fmt: skip
    assert readable.exit_code == 0 and "as borrower" in readable.stdout
    again = run.raw("loan", "originate", "--signed-terms", str(out))
    assert again.exit_code == 0, again.stderr
    assert "on terms the borrower signed (nonce 1)" in again.stdout


def _forged(out: Path) -> None:
    signed = SignedTerms.from_json(out.read_text())
    signature = dev_signer(4).local_account().unsafe_sign_hash(Hash32(signed.digest())).signature
    out.write_text(SignedTerms(signed.typed_data, bytes(signature)).to_json())


def _edited(out: Path) -> None:
    document = json.loads(out.read_text())
    document["typedData"]["message"]["principal"] = 999 * 10**6
    out.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("spoil", "sentence"),
    [
        (_forged, f"is not the borrower {BORROWER}'s"),
        (_edited, f"is not the borrower {BORROWER}'s"),
        (lambda out: out.write_text("{not json"), "Not a signed-terms file"),
        (lambda out: out.unlink(), "cannot be read"),
    ],
)  # fmt: skip
def test_a_forged_edited_or_unreadable_file_is_refused_and_changes_nothing(
    run: Cli, tmp_path: Path, w3: Web3, spoil: Any, sentence: str
) -> None:
    run.json("faucet", LENDER, "1000")
    out = tmp_path / "terms.json"
    _sign(run, out)
    spoil(out)
    before = _state(run, w3)
    run.fails("loan", "originate", "--signed-terms", str(out), match=sentence)
    assert _state(run, w3) == before


def _grant_originator(run: Cli, w3: Web3, account: str) -> None:
    deployment = read_deployment(run.deployment_file)
    artifacts = compile_contracts()
    ledger = bind(w3, deployment, artifacts).ledger
    sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    sender.send(ledger.functions.grantRole(role(ORIGINATOR_ROLE), account), "Granting")


def test_expired_used_and_other_lenders_files_are_refused_and_change_nothing(
    run: Cli, tmp_path: Path, w3: Web3
) -> None:
    run.json("faucet", LENDER, "3000")
    expiring, used, other = (tmp_path / f"{n}.json" for n in ("expiring", "used", "other"))
    _sign(run, expiring, "--valid-for", "1h")
    _grant_originator(run, w3, dev_signer(3).address)
    _sign(run, other, lender=dev_signer(3).address)
    _sign(run, used)
    run.json("loan", "originate", "--signed-terms", str(used))
    before = _state(run, w3)
    run.fails(
        "loan", "originate", "--signed-terms", str(used),
        match="carry the borrower's nonce 0, but its next nonce is 1",
    )  # fmt: skip
    run.fails(
        "loan", "originate", "--signed-terms", str(other),
        match=f"signed for the lender {dev_signer(3).address}, not for the signing account",
    )  # fmt: skip
    run.json("chain", "advance", "2h")
    run.fails(
        "loan", "originate", "--signed-terms", str(expiring),
        match="The borrower's signature expired at ",
    )  # fmt: skip
    assert _state(run, w3) == before
    # A borrower does not sign terms the ledger would refuse.
    run.fails(
        "--private-key-env", "BORROWER_KEY", "loan", "sign-terms", "--lender", LENDER,
        "--principal", "1000", "--apr", "12", "--installments", "6", "--period", "30d",
        "--first-due", "2001-01-01", "--out", str(tmp_path / "bad.json"), env=AS_BORROWER,
        match="InvalidFirstDueDate",
    )  # fmt: skip
    assert not (tmp_path / "bad.json").exists()


def test_the_admin_allows_and_disallows_tokens(run: Cli, tmp_path: Path) -> None:
    token = json.loads(run.deployment_file.read_text())["token"]["address"]
    run.fails("--account", "3", "loan", "allow-token", token, match="lacks DEFAULT_ADMIN_ROLE")
    disallowed = run.json("loan", "allow-token", token, "--disallow")
    assert disallowed["allowed"] is False and disallowed["token"] == token
    assert disallowed["decimals"] == 6 and disallowed["token_id"] >= 1
    run.json("faucet", LENDER, "1000")
    run.fails(
        "loan", "create", "--borrower", dev_signer(1).address, *TERMS,
        match=f"the ledger's admin has not allowed loans in token {token} (the admin allows it "
        f"with `loan allow-token {token}`) (TokenNotAllowed).",
    )  # fmt: skip
    allowed = run.raw("loan", "allow-token", token)
    assert allowed.exit_code == 0 and "allows new loans in" in allowed.stdout
    assert run.create(dev_signer(1).address, "1000") >= 1
    run.fails("loan", "allow-token", "0x" + "12" * 20, match="UnsupportedToken")
