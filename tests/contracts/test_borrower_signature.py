"""A loan exists only if its borrower signed its terms (EIP-712; ERC-1271 for contract
wallets; nonce and deadline), in a token the ledger's admin allowed.

The review found that any holder of the originator role could book a loan on any address in a
worthless token, and later record a default on that person's credit record."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data

from loanservicing.chain.accounts import dev_signer
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.servicing.borrower_signature import ORIGINATION_FIELDS
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PERIOD = 30 * DAY


def _terms(system: LedgerDriver, borrower: str, token: object = None) -> tuple[object, ...]:
    return system.terms(
        borrower, 1_000 * UNIT, 1200, 12, PERIOD, system.now() + PERIOD,  # type: ignore[arg-type]
        ScheduleKind.ANNUITY, 5 * DAY, 500, 600, 90, token,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_signed_terms_originate_and_use_the_nonce(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    system.fund(system.admin, 10**12)
    terms = _terms(system, borrower)
    deadline = system.now() + DAY
    signature = system.sign_terms(terms, system.admin, deadline)
    assert system.ledger.functions.nonces(borrower).call() == 0
    system.send(system.ledger.functions.originate(terms, deadline, signature))
    assert system.ledger.functions.nonces(borrower).call() == 1
    # The same signature again: its nonce is used.
    system.reverts(
        "InvalidBorrowerSignature", system.ledger.functions.originate(terms, deadline, signature)
    )


def test_the_digest_is_the_eip712_hash_of_the_typed_data(system: LedgerDriver) -> None:
    borrower = system.accounts[1]
    terms = _terms(system, borrower)
    deadline = system.now() + DAY
    digest = system.ledger.functions.originationDigest(terms, system.admin, deadline).call()
    typed = system.typed_terms(terms, system.admin, deadline)
    signed = dev_signer(1).local_account().sign_message(encode_typed_data(full_message=typed))
    assert digest == bytes(signed.message_hash)
    origination_type = ",".join(f"{t} {n}" for n, t in ORIGINATION_FIELDS)
    assert system.ledger.functions.ORIGINATION_TYPEHASH().call() == bytes(
        system.w3.keccak(text=f"Origination({origination_type})")
    )


def test_forged_changed_expired_and_misdirected_signatures_are_refused(
    system: LedgerDriver,
) -> None:
    borrower, other_lender = system.accounts[1], system.accounts[6]
    system.fund(system.admin, 10**12)
    terms = _terms(system, borrower)
    deadline = system.now() + DAY
    count = system.ledger.functions.loanCount().call()
    # Signed by someone else.
    forged = system.sign_terms(terms, system.admin, deadline, signer=system.accounts[2])
    fn = system.ledger.functions.originate(terms, deadline, forged)
    system.reverts("InvalidBorrowerSignature", fn)
    # Terms changed after signing (a larger principal).
    good = system.sign_terms(terms, system.admin, deadline)
    changed = (terms[0], terms[1], 2_000 * UNIT, *terms[3:])
    system.reverts(
        "InvalidBorrowerSignature", system.ledger.functions.originate(changed, deadline, good)
    )
    # Signed for another lender.
    for_other = system.sign_terms(terms, other_lender, deadline)
    system.reverts(
        "InvalidBorrowerSignature", system.ledger.functions.originate(terms, deadline, for_other)
    )
    # Garbage.
    system.reverts(
        "InvalidBorrowerSignature", system.ledger.functions.originate(terms, deadline, b"\x01" * 65)
    )
    # Expired.
    failure = system.reverts(
        "SignatureExpired",
        system.ledger.functions.originate(terms, deadline, good),
        at=deadline + 1,
    )
    assert failure.revert is not None and failure.revert.args["deadline"] == deadline
    assert system.ledger.functions.loanCount().call() == count
    assert system.ledger.functions.nonces(borrower).call() == 0


def test_a_contract_wallet_borrower_signs_through_erc1271(system: LedgerDriver) -> None:
    owner_key = dev_signer(3).local_account()
    wallet = system.deploy_contract("ERC1271Wallet", owner_key.address)
    system.fund(system.admin, 10**12)
    terms = _terms(system, wallet.address)
    deadline = system.now() + DAY
    digest = system.ledger.functions.originationDigest(terms, system.admin, deadline).call()
    signature = bytes(Account.unsafe_sign_hash(digest, owner_key.key).signature)
    system.send(system.ledger.functions.originate(terms, deadline, signature))
    loan_id = system.ledger.functions.loanCount().call()
    assert system.loan(loan_id)["borrower"] == wallet.address
    assert system.balance(wallet.address) == 1_000 * UNIT
    # Another key's signature is refused by the wallet.
    other = bytes(Account.unsafe_sign_hash(digest, dev_signer(4).local_account().key).signature)
    system.reverts(
        "InvalidBorrowerSignature", system.ledger.functions.originate(terms, deadline, other)
    )


def test_only_tokens_the_admin_allowed(system: LedgerDriver) -> None:
    worthless = system.deploy_contract("TestStablecoin", "Worthless", "WRT", 6, system.admin)
    system.fund(system.admin, 10**12, worthless)
    terms = _terms(system, system.accounts[1], worthless)
    failure = system.reverts("TokenNotAllowed", system.originate_call(terms))
    assert failure.revert is not None
    # Only the admin allows a token; once allowed, it may be disallowed again.
    system.reverts(
        "AccessControlUnauthorizedAccount",
        system.ledger.functions.setTokenAllowed(worthless.address, True),
        system.accounts[6],
    )
    receipt = system.send(system.ledger.functions.setTokenAllowed(worthless.address, True))
    (allowed,) = system.events(receipt, "TokenAllowed")
    assert (allowed["token"], allowed["decimals"], allowed["allowed"]) == (
        worthless.address,
        6,
        True,
    )
    system.send(system.originate_call(terms))
    system.send(system.ledger.functions.setTokenAllowed(worthless.address, False))
    system.reverts(
        "TokenNotAllowed", system.originate_call(_terms(system, system.accounts[1], worthless))
    )
