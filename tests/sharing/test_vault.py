"""The personal-data vault against a real Anvil: encryption at rest with keys apart, reads
gated by on-chain consent or a recorded regulator access, a tamper-evident access log, and
erasure by crypto-shredding."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from loanservicing.chain.node import mine
from loanservicing.sharing.attestations import claim_hash
from loanservicing.sharing.errors import AccessDenied, DataSharingError, DocumentErased
from loanservicing.sharing.vault import AccessRequest, Vault, sign_access_request
from tests.support.data import (
    BORROWER,
    DAY,
    EMPLOYER,
    LENDER,
    OTHER,
    REGULATOR,
    DataEnv,
)

INCOME_DOC = {
    "name": "Marta Kowalczyk-Brennan",
    "national_id": "PL-84031207651",
    "employer": "Zakłady Optyczne Brennan Sp. z o.o.",
    "annual_income": "87350 EUR",
}


@pytest.fixture
def vault(tmp_path: Path, data: DataEnv) -> Vault:
    return Vault(tmp_path / "vault.db", tmp_path / "keys" / "keys.db", data.consents)


def _request(
    data: DataEnv,
    reader: int,
    category: str = "income",
    access_tx: str | None = None,
    legal_basis: str | None = None,
) -> AccessRequest:
    return sign_access_request(
        data.keys[reader], data.address(BORROWER), category, data.now(), access_tx, legal_basis
    )


def test_documents_are_encrypted_and_keys_live_in_the_other_file(
    vault: Vault, data: DataEnv
) -> None:
    stored = vault.store(data.address(BORROWER), "income", INCOME_DOC)
    assert stored.claim_hash == claim_hash(INCOME_DOC, stored.salt)
    assert vault.salt(stored.document_id) == stored.salt
    data_bytes = vault.data_path.read_bytes()
    for value in INCOME_DOC.values():
        assert value.encode() not in data_bytes
    with sqlite3.connect(vault.key_path) as keys:
        (key,) = keys.execute("SELECT data_key FROM data_keys").fetchone()
    assert len(key) == 32
    assert key not in data_bytes
    assert stored.salt not in data_bytes
    # The borrower reads their own data without any consent.
    assert vault.read(_request(data, BORROWER)) == INCOME_DOC
    with pytest.raises(DataSharingError, match="different file"):
        Vault(vault.data_path, vault.data_path)


def test_reads_follow_on_chain_consent_and_refusals_are_logged(vault: Vault, data: DataEnv) -> None:
    borrower = data.address(BORROWER)
    vault.store(borrower, "income", INCOME_DOC)
    vault.store(borrower, "employment", {"employer": INCOME_DOC["employer"]})
    with pytest.raises(AccessDenied, match="no consent"):
        vault.read(_request(data, LENDER))
    refused = vault.log_entries(borrower)[-1]
    assert (refused.action, refused.actor, refused.decision) == (
        "read",
        data.address(LENDER),
        "refused",
    )
    until = data.now() + 10 * DAY
    data.consents.grant(borrower, data.address(LENDER), 4, until)  # income only
    assert vault.read(_request(data, LENDER)) == INCOME_DOC
    assert vault.log_entries(borrower)[-1].decision == "granted"
    with pytest.raises(AccessDenied, match="employment"):
        vault.read(_request(data, LENDER, "employment"))
    # Someone else's signature on the lender's request is refused.
    forged = _request(data, OTHER)
    forged = replace(forged, reader=data.address(LENDER))
    with pytest.raises(AccessDenied, match="not signed by"):
        vault.read(forged)
    # A stale request is refused.
    old = sign_access_request(data.keys[LENDER], borrower, "income", data.now() - 3600)
    with pytest.raises(AccessDenied, match="issued at"):
        vault.read(old)
    # Consent ends after its expiry second; then revoked consent refuses too.
    mine(data.w3, until + 1)
    with pytest.raises(AccessDenied, match="no consent"):
        vault.read(_request(data, LENDER))
    decisions = [e.decision for e in vault.log_entries(borrower) if e.action == "read"]
    assert decisions == ["refused", "granted", "refused", "refused", "refused", "refused"]
    assert vault.verify_log().ok


def test_regulator_reads_need_a_matching_on_chain_record_used_once(
    vault: Vault, data: DataEnv
) -> None:
    borrower = data.address(BORROWER)
    vault.store(borrower, "income", INCOME_DOC)
    basis = "Art. 6(1)(c) GDPR; supervisory inspection 2026/17"
    with pytest.raises(AccessDenied, match="no consent"):
        vault.read(_request(data, REGULATOR))  # a regulator without a record is nobody special
    access = data.consents.record_regulator_access(data.address(REGULATOR), borrower, 4, basis)
    tx = access.tx_hash.to_0x_hex()
    with pytest.raises(AccessDenied, match="legal basis does not match"):
        vault.read(_request(data, REGULATOR, access_tx=tx, legal_basis="curiosity"))
    with pytest.raises(AccessDenied, match="is not"):
        vault.read(_request(data, LENDER, access_tx=tx, legal_basis=basis))
    with pytest.raises(AccessDenied, match="does not cover"):
        vault.read(_request(data, REGULATOR, "employment", access_tx=tx, legal_basis=basis))
    assert vault.read(_request(data, REGULATOR, access_tx=tx, legal_basis=basis)) == INCOME_DOC
    granted = vault.log_entries(borrower)[-1]
    assert (granted.action, granted.decision) == ("regulator-read", "granted")
    assert tx in granted.detail
    with pytest.raises(AccessDenied, match="already used"):
        vault.read(_request(data, REGULATOR, access_tx=tx, legal_basis=basis))


def test_a_regulator_whose_role_was_revoked_cannot_use_its_record(
    vault: Vault, data: DataEnv
) -> None:
    borrower, regulator = data.address(BORROWER), data.address(REGULATOR)
    vault.store(borrower, "income", INCOME_DOC)
    basis = "Art. 6(1)(c) GDPR; supervisory inspection 2026/18"
    access = data.consents.record_regulator_access(regulator, borrower, 4, basis)
    assert data.consents.is_regulator(regulator) and not data.consents.is_regulator(borrower)
    registry = data.consent_registry
    data.send(registry.functions.revokeRole(registry.functions.REGULATOR_ROLE().call(), regulator))
    assert not data.consents.is_regulator(regulator)
    request = _request(data, REGULATOR, access_tx=access.tx_hash.to_0x_hex(), legal_basis=basis)
    with pytest.raises(AccessDenied, match=f"^{regulator} no longer holds the regulator role.$"):
        vault.read(request)
    refused = vault.log_entries(borrower)[-1]
    assert (refused.action, refused.decision) == ("regulator-read", "refused")


def _tamper(vault: Vault, sql: str) -> None:
    with sqlite3.connect(vault.data_path) as db:
        db.execute(sql)


def _logged_vault(vault: Vault, data: DataEnv) -> Vault:
    vault.store(data.address(BORROWER), "income", INCOME_DOC)
    for _ in range(3):
        with pytest.raises(AccessDenied):
            vault.read(_request(data, LENDER))
    assert vault.verify_log().ok
    assert vault.verify_log().entries == 4
    return vault


def test_log_detects_an_edited_entry(vault: Vault, data: DataEnv) -> None:
    _logged_vault(vault, data)
    _tamper(
        vault, "UPDATE access_log SET entry = replace(entry, 'refused', 'granted') WHERE seq = 2"
    )
    check = vault.verify_log()
    assert not check.ok
    assert check.problems == ["Entry 2 was edited: its hash does not match its content."]


def test_log_detects_a_deleted_entry(vault: Vault, data: DataEnv) -> None:
    _logged_vault(vault, data)
    _tamper(vault, "DELETE FROM access_log WHERE seq = 3")
    check = vault.verify_log()
    assert "Entry 3 is missing (the next entry is 4)." in check.problems
    assert "Entry 4 does not follow the entry before it." in check.problems


def test_log_detects_a_truncated_end_and_a_rehashed_edit(vault: Vault, data: DataEnv) -> None:
    _logged_vault(vault, data)
    _tamper(vault, "DELETE FROM access_log WHERE seq = 4")
    assert "the key store's head is entry 4" in " ".join(vault.verify_log().problems)


def test_erasure_shreds_keys_and_salts(vault: Vault, data: DataEnv) -> None:
    borrower = data.address(BORROWER)
    stored = vault.store(borrower, "income", INCOME_DOC)
    signed = data.sign(EMPLOYER, BORROWER, "income", stored.claim_hash)
    attestation_id, _ = data.attestations.submit(signed, borrower)
    vault.link_attestation(stored.document_id, attestation_id)
    assert vault.document_for_attestation(attestation_id) == stored.document_id
    assert data.attestations.verify(
        attestation_id, INCOME_DOC, vault.salt(stored.document_id)
    ).valid
    with sqlite3.connect(vault.key_path) as keys:
        (key,) = keys.execute("SELECT data_key FROM data_keys").fetchone()
    result = vault.erase(borrower, requested_by=borrower)
    assert result == {"documents": 1, "keys_destroyed": 1, "salts_destroyed": 1}
    assert vault.is_erased(borrower)
    key_bytes = vault.key_path.read_bytes()
    assert key not in key_bytes and stored.salt not in key_bytes
    with pytest.raises(DocumentErased):
        vault.read(_request(data, BORROWER))
    assert vault.salt(stored.document_id) is None
    verification = data.attestations.verify(
        attestation_id, INCOME_DOC, vault.salt(stored.document_id)
    )
    assert not verification.valid and "erased" in verification.reason
    # The on-chain attestation itself is untouched (only unlinkable now).
    assert data.attestations.get(attestation_id).claim_hash == stored.claim_hash
    assert [e.action for e in vault.log_entries(borrower)][-2:] == ["erase", "read"]
    assert vault.verify_log().ok
