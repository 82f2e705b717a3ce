"""Consent registry on a real Anvil: grants by category, expiry at the exact second,
revocation, and regulator accesses recorded with the hash of their legal basis."""

from __future__ import annotations

from web3 import Web3
from web3.logs import DISCARD

from loanservicing.chain.node import mine
from loanservicing.sharing.consent import category_names, legal_basis_hash, parse_categories
from tests.support.data import (
    ADMIN,
    BORROWER,
    DAY,
    LENDER,
    OTHER,
    REGULATOR,
    DataEnv,
)

INCOME, EMPLOYMENT, IDENTITY = 4, 2, 1


def test_categories_parse_by_name() -> None:
    assert parse_categories("income,employment") == 6
    assert parse_categories("identity, repayment-history") == 9
    assert category_names(6) == ["employment", "income"]


def test_grant_covers_exactly_the_granted_categories_until_the_expiry_second(
    data: DataEnv,
) -> None:
    borrower, lender = data.address(BORROWER), data.address(LENDER)
    until = data.now() + 30 * DAY
    receipt = data.send(
        data.consent_registry.functions.grantConsent(lender, INCOME | EMPLOYMENT, until), BORROWER
    )
    (event,) = data.consent_registry.events.ConsentGranted().process_receipt(
        receipt, errors=DISCARD
    )
    assert dict(event["args"]) == {
        "borrower": borrower,
        "viewer": lender,
        "categories": 6,
        "expiresAt": until,
    }
    has = data.consent_registry.functions.hasConsent
    assert has(borrower, lender, INCOME).call()
    assert has(borrower, lender, INCOME | EMPLOYMENT).call()
    assert not has(borrower, lender, IDENTITY).call()
    assert not has(borrower, lender, INCOME | IDENTITY).call()
    assert not has(borrower, lender, 0).call()
    assert not has(borrower, data.address(OTHER), INCOME).call()
    grant = data.consents.current(borrower, lender)
    assert (grant.categories, grant.expires_at) == (6, until)
    mine(data.w3, until)
    assert has(borrower, lender, INCOME).call(block_identifier="latest")
    mine(data.w3, until + 1)
    assert not has(borrower, lender, INCOME).call(block_identifier="latest")


def test_a_new_grant_replaces_the_old_one_and_revoke_withdraws_everything(
    data: DataEnv,
) -> None:
    borrower, lender = data.address(BORROWER), data.address(LENDER)
    data.consents.grant(borrower, lender, INCOME | EMPLOYMENT, data.now() + DAY)
    data.consents.grant(borrower, lender, IDENTITY, data.now() + 2 * DAY)
    assert data.consents.has_consent(borrower, lender, IDENTITY)
    assert not data.consents.has_consent(borrower, lender, INCOME)
    receipt = data.send(data.consent_registry.functions.revokeConsent(lender), BORROWER)
    (event,) = data.consent_registry.events.ConsentRevoked().process_receipt(
        receipt, errors=DISCARD
    )
    assert dict(event["args"]) == {"borrower": borrower, "viewer": lender, "categories": IDENTITY}
    assert not data.consents.has_consent(borrower, lender, IDENTITY)
    revert = data.reverts(
        "NoConsent", data.consent_registry.functions.revokeConsent(lender), BORROWER
    )
    assert revert.args["viewer"].lower() == lender.lower()
    assert [g.viewer for g in data.consents.grants(borrower)] == [lender]
    assert data.consents.grants(borrower)[0].categories == 0


def test_bad_grants_are_refused_by_name(data: DataEnv) -> None:
    lender = data.address(LENDER)
    future = data.now() + DAY
    grant = data.consent_registry.functions.grantConsent
    assert data.reverts("InvalidCategories", grant(lender, 0, future), BORROWER).args == {
        "categories": 0,
        "allowedMask": 31,
    }
    data.reverts("InvalidCategories", grant(lender, 32, future), BORROWER)
    data.reverts("ExpiryNotInFuture", grant(lender, INCOME, data.now() - 1), BORROWER)
    data.reverts("SelfConsent", grant(data.address(BORROWER), INCOME, future), BORROWER)
    zero = "0x" + "00" * 20
    data.reverts("ZeroAddress", grant(zero, INCOME, future), BORROWER)


def test_regulator_access_is_recorded_with_the_hash_of_its_legal_basis(data: DataEnv) -> None:
    borrower = data.address(BORROWER)
    basis = "Art. 6(1)(c) GDPR; supervisory inspection 2026/17 of the national bank"
    access = data.consents.record_regulator_access(
        data.address(REGULATOR), borrower, INCOME | IDENTITY, basis
    )
    assert access.access_id == 1
    assert access.regulator == data.address(REGULATOR)
    assert access.borrower == borrower
    assert access.categories == 5
    assert access.legal_basis_hash == bytes(Web3.keccak(text=basis)) == legal_basis_hash(basis)
    assert data.consents.regulator_access(access.tx_hash) == access
    assert data.consent_registry.functions.regulatorAccessCount().call() == 1
    record = data.consent_registry.functions.recordRegulatorAccess
    # Without the role nobody may claim a regulator's access, not even the admin.
    data.reverts(
        "AccessControlUnauthorizedAccount", record(borrower, INCOME, legal_basis_hash(basis)), ADMIN
    )
    data.reverts(
        "AccessControlUnauthorizedAccount",
        record(borrower, INCOME, legal_basis_hash(basis)),
        LENDER,
    )
    data.reverts("EmptyLegalBasis", record(borrower, INCOME, b"\x00" * 32), REGULATOR)
    data.reverts("InvalidCategories", record(borrower, 0, legal_basis_hash(basis)), REGULATOR)
