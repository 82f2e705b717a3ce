"""Borrower-signed origination through the servicer: dev borrowers signed for, other borrowers
signing a file the lender originates, and every file that does not fit refused with one
sentence before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_typing import Hash32
from web3 import Web3

from loanservicing.chain.accounts import Signer, dev_signer
from loanservicing.chain.node import mine
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import Deployment
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.borrower_signature import PLAIN_CALENDAR, SignedTerms, TermsSigner
from loanservicing.servicing.devchain import faucet
from loanservicing.servicing.errors import (
    InvalidTerms,
    LedgerRefusal,
    MissingRole,
    SignatureFileError,
)
from loanservicing.servicing.servicer import LoanTerms, Servicer
from tests.support.servicing import UNIT

BORROWER = dev_signer(1)
OUTSIDER_KEY = "0x" + "5e" * 32
"""A borrower that is not a dev account of the node: the servicer has no key for it."""


def _terms(borrower: str, principal: int = 1_000 * UNIT) -> LoanTerms:
    return LoanTerms(Web3.to_checksum_address(borrower), principal, 1200, 6, 30 * DAY)


def _outsider(servicer: Servicer) -> Servicer:
    return servicer.as_account(Signer(Account.from_key(OUTSIDER_KEY), "outside borrower"))


@dataclass
class Counts:
    """What an origination would change: the lender's transaction nonce, the borrower's
    signature nonce, the ledger's loans and the lender's allowance."""

    lender_nonce: int
    borrower_nonce: int
    loans: int
    allowance: int


def _counts(servicer: Servicer, borrower: str) -> Counts:
    lender = servicer.account
    return Counts(
        int(servicer.w3.eth.get_transaction_count(lender)),
        servicer.nonce_of(Web3.to_checksum_address(borrower)),
        servicer.loan_count(),
        servicer.allowance(lender),
    )


def test_the_servicer_signs_for_a_dev_borrower_with_its_next_nonce(servicer: Servicer) -> None:
    faucet(servicer, servicer.account, 2_000 * UNIT)
    assert servicer.dev_account(BORROWER.address) is not None
    before = servicer.nonce_of(BORROWER.address)
    first = servicer.originate(_terms(BORROWER.address))
    second = servicer.originate(_terms(BORROWER.address))
    assert (first.nonce, second.nonce) == (before, before + 1)
    assert first.borrower == BORROWER.address
    assert servicer.nonce_of(BORROWER.address) == before + 2
    assert servicer.loan(second.loan_id).borrower == BORROWER.address


def test_another_borrower_signs_a_file_that_the_lender_originates(servicer: Servicer) -> None:
    borrower = _outsider(servicer)
    faucet(servicer, servicer.account, 1_000 * UNIT)
    assert servicer.dev_account(borrower.account) is None
    before = _counts(servicer, borrower.account)
    with pytest.raises(SignatureFileError, match="is not a dev account of this node"):
        servicer.originate(_terms(borrower.account))
    assert _counts(servicer, borrower.account) == before
    signed = borrower.sign_offer(_terms(borrower.account), servicer.account, valid_for=DAY)
    assert (signed.borrower, signed.lender, signed.nonce) == (
        borrower.account,
        servicer.account,
        before.borrower_nonce,
    )
    assert signed.deadline == servicer.now() + DAY
    assert signed.signer() == borrower.account
    digest = servicer.ledger.functions.originationDigest(
        signed.terms, servicer.account, signed.deadline
    ).call()
    assert signed.digest() == bytes(digest)
    read_back = SignedTerms.from_json(signed.to_json())
    assert read_back == signed
    result = servicer.originate_signed(read_back)
    assert result.borrower == borrower.account and result.nonce == signed.nonce
    state = servicer.loan(result.loan_id)
    assert (state.borrower, state.lender, state.principal) == (
        borrower.account,
        servicer.account,
        1_000 * UNIT,
    )
    assert servicer.balance(borrower.account) == 1_000 * UNIT
    assert servicer.nonce_of(borrower.account) == before.borrower_nonce + 1


def _resigned(servicer: Servicer, signed: SignedTerms, **message: Any) -> SignedTerms:
    """The same file with ``message`` fields changed and the borrower's signature redone."""
    typed = json.loads(json.dumps(signed.typed_data))
    typed["message"].update(message)
    local = Account.from_key(OUTSIDER_KEY)
    again = SignedTerms(typed, b"")
    return SignedTerms(typed, bytes(local.unsafe_sign_hash(Hash32(again.digest())).signature))


def _edited(signed: SignedTerms, **message: Any) -> SignedTerms:
    typed = json.loads(json.dumps(signed.typed_data))
    typed["message"].update(message)
    return SignedTerms(typed, signed.signature)


Edit = Callable[[Servicer, SignedTerms], SignedTerms]
REFUSALS: dict[str, tuple[Edit, str]] = {
    "forged by another account": (
        lambda s, t: SignedTerms(
            t.typed_data,
            bytes(dev_signer(4).local_account().unsafe_sign_hash(Hash32(t.digest())).signature),
        ),
        "is not the borrower",
    ),
    "terms changed after signing": (
        lambda s, t: _edited(t, principal=2_000 * UNIT),
        "is not the borrower",
    ),
    "signed for another lender": (
        lambda s, t: _resigned(s, t, lender=dev_signer(3).address),
        "signed for the lender",
    ),
    "a nonce the borrower does not have": (
        lambda s, t: _resigned(s, t, nonce=t.nonce + 1),
        "its next nonce is",
    ),
    "another chain": (
        lambda s, t: SignedTerms(
            {**t.typed_data, "domain": {**t.typed_data["domain"], "chainId": 1}}, t.signature
        ),
        "on chain 1, not this deployment's",
    ),
    "garbage for a signature": (
        lambda s, t: SignedTerms(t.typed_data, b"\x01" * 12),
        "made by no account",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_signed_terms_that_do_not_fit_are_refused_and_nothing_changes(
    servicer: Servicer, case: str
) -> None:
    edit, sentence = REFUSALS[case]
    borrower = _outsider(servicer)
    faucet(servicer, servicer.account, 2_000 * UNIT)
    signed = edit(servicer, borrower.sign_offer(_terms(borrower.account), servicer.account))
    before = _counts(servicer, borrower.account)
    with pytest.raises(SignatureFileError, match=sentence) as refused:
        servicer.originate_signed(SignedTerms.from_json(signed.to_json()))
    message = str(refused.value)
    assert message.endswith(".") and message.count(". ") == 0  # one sentence
    assert _counts(servicer, borrower.account) == before


def test_expired_and_used_signatures_are_refused(servicer: Servicer) -> None:
    borrower = _outsider(servicer)
    faucet(servicer, servicer.account, 2_000 * UNIT)
    signed = borrower.sign_offer(_terms(borrower.account), servicer.account, valid_for=3600)
    used = borrower.sign_offer(_terms(borrower.account), servicer.account)
    servicer.originate_signed(used)
    before = _counts(servicer, borrower.account)
    with pytest.raises(SignatureFileError, match="they were used or replaced already"):
        servicer.originate_signed(used)
    mine(servicer.w3, signed.deadline)
    with pytest.raises(SignatureFileError, match="The borrower's signature expired at "):
        servicer.originate_signed(signed)
    assert _counts(servicer, borrower.account) == before


def test_the_ledger_refusing_a_disallowed_token_reads_as_a_sentence(servicer: Servicer) -> None:
    borrower = _outsider(servicer)
    faucet(servicer, servicer.account, 1_000 * UNIT)
    signed = borrower.sign_offer(_terms(borrower.account), servicer.account)
    with pytest.raises(MissingRole, match="lacks DEFAULT_ADMIN_ROLE"):
        servicer.as_account(dev_signer(5)).allow_token(servicer.token.address, False)
    disallowed = servicer.allow_token(servicer.token.address, False)
    assert disallowed.allowed is False and disallowed.token == servicer.token.address
    before = _counts(servicer, borrower.account)
    with pytest.raises(LedgerRefusal) as refused:
        servicer.originate_signed(signed)
    assert refused.value.error_name == "TokenNotAllowed"
    assert str(refused.value) == (
        "Originating the loan was refused: the ledger's admin has not allowed loans in token "
        f"{servicer.token.address} (the admin allows it with `loan allow-token "
        f"{servicer.token.address}`) (TokenNotAllowed)."
    )
    assert _counts(servicer, borrower.account) == before
    # The borrower cannot sign terms the ledger would refuse either.
    with pytest.raises(LedgerRefusal, match="TokenNotAllowed"):
        borrower.sign_offer(_terms(borrower.account), servicer.account)
    assert servicer.allow_token(servicer.token.address).allowed is True
    assert servicer.originate_signed(signed).loan_id == before.loans + 1


def test_a_borrower_signs_only_its_own_terms(servicer: Servicer) -> None:
    borrower = _outsider(servicer)
    with pytest.raises(InvalidTerms, match="is not the borrower"):
        borrower.sign_offer(_terms(BORROWER.address), servicer.account)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("not json", "Not a signed-terms file"),
        ("{}", "it has no 'typedData'"),
        (json.dumps({"typedData": {"primaryType": "Mail"}, "signature": "0x00"}),
         "not the ledger's Origination type"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_signed_terms_is_refused(text: str, sentence: str) -> None:
    with pytest.raises(SignatureFileError, match=sentence):
        SignedTerms.from_json(text)


def test_a_file_with_bad_fields_is_refused(
    w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    terms = (BORROWER.address, deployment.token.address, UNIT, 1200, 6, 30 * DAY, 10**9, 0,
             5 * DAY, 500, 600, 90, *PLAIN_CALENDAR)  # fmt: skip
    ledger = w3.eth.contract(address=deployment.ledger.address, abi=artifacts["LoanLedger"].abi)
    signed = TermsSigner(ledger).sign(BORROWER.local_account(), terms, dev_signer(0).address, 1)
    good = json.loads(signed.to_json())
    for field, value, sentence in (
        ("principal", -1, "principal -1 is not a uint128"),
        ("aprBps", 2**16, "is not a uint16"),
        ("borrower", "0x1234", "is not an Ethereum address"),
        ("kind", True, "is not a uint8"),
    ):
        bad = json.loads(json.dumps(good))
        bad["typedData"]["message"][field] = value
        with pytest.raises(SignatureFileError, match=sentence):
            SignedTerms.from_json(json.dumps(bad))
    missing = json.loads(json.dumps(good))
    del missing["typedData"]["message"]["nonce"]
    with pytest.raises(SignatureFileError, match="the field 'nonce' is missing"):
        SignedTerms.from_json(json.dumps(missing))
    # Integers as decimal strings (as eth_signTypedData_v4 allows) read as integers.
    strings = json.loads(json.dumps(good))
    strings["typedData"]["message"]["principal"] = str(UNIT)
    assert SignedTerms.from_json(json.dumps(strings)) == signed


def test_the_terms_signer_counts_each_borrowers_nonces(servicer: Servicer, w3: Web3) -> None:
    faucet(servicer, servicer.account, 3_000 * UNIT)
    servicer.ensure_allowance(3_000 * UNIT)
    signer = TermsSigner(servicer.ledger)
    now = servicer.now()
    start = servicer.nonce_of(BORROWER.address)
    calls = []
    for i in range(3):
        terms = servicer.terms_tuple(_terms(BORROWER.address, (i + 1) * UNIT), now + 30 * DAY)
        calls.append(signer.originate(BORROWER.local_account(), terms, servicer.account, now + DAY))
    assert signer.next_nonce(BORROWER.address) == start + 3
    sender = servicer.sender_of(servicer.account)
    assert sender is not None
    for fn in calls:
        sender.send(fn, "Originating")
    assert servicer.nonce_of(BORROWER.address) == start + 3
