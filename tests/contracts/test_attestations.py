"""Attestation registry on a real Anvil: EIP-712 signatures from EOAs and ERC-1271 wallets,
and every refusal by name."""

from __future__ import annotations

from typing import Any

from web3.logs import DISCARD

from loanservicing.chain.node import mine
from loanservicing.sharing.attestations import (
    ATTESTER_KINDS,
    attestation_digest,
    attestation_typed_data,
    claim_hash,
    claim_type_id,
    new_salt,
    sign_attestation_for_wallet,
)
from tests.support.data import (
    ADMIN,
    BORROWER,
    BUREAU,
    DAY,
    EMPLOYER,
    OTHER,
    WALLET_OWNER,
    DataEnv,
)

DOCUMENT = {"employer": "Bäckerei Müller GmbH", "position": "baker", "since": "2019-04-01"}


def _submit_args(signed: Any) -> tuple[Any, ...]:
    return (
        signed.attester,
        signed.subject,
        signed.claim_type,
        signed.claim_hash,
        signed.valid_until,
        signed.nonce,
        signed.signature,
    )


def test_registered_attester_signature_is_recorded_by_any_submitter(data: DataEnv) -> None:
    salt = new_salt()
    signed = data.sign(EMPLOYER, BORROWER, "employment", claim_hash(DOCUMENT, salt))
    employer = data.address(EMPLOYER)
    balance_before = data.w3.eth.get_balance(employer)
    # The borrower submits: the attester pays no gas.
    receipt = data.send(data.registry.functions.submitAttestation(*_submit_args(signed)), BORROWER)
    assert data.w3.eth.get_balance(employer) == balance_before
    (event,) = data.registry.events.AttestationSubmitted().process_receipt(receipt, errors=DISCARD)
    args = event["args"]
    block_time = data.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert args["attestationId"] == 1
    assert args["attester"] == employer
    assert args["subject"] == data.address(BORROWER)
    assert args["claimType"] == claim_type_id("employment")
    assert args["claimHash"] == claim_hash(DOCUMENT, salt)
    assert args["issuedAt"] == block_time
    assert args["validUntil"] == signed.valid_until
    assert args["nonce"] == signed.nonce
    assert args["submitter"] == data.address(BORROWER)

    record = data.attestations.get(1)
    assert (record.attester, record.subject, record.issued_at, record.revoked_at) == (
        employer,
        data.address(BORROWER),
        block_time,
        0,
    )
    assert data.registry.functions.isValid(1).call()
    assert data.registry.functions.isNonceUsed(employer, signed.nonce).call()
    assert (
        data.registry.functions.latestAttestationId(
            data.address(BORROWER), claim_type_id("employment"), employer
        ).call()
        == 1
    )
    # The Python digest is the contract's.
    typed = attestation_typed_data(
        data.registry.address,
        data.w3.eth.chain_id,
        signed.subject,
        signed.claim_type,
        signed.claim_hash,
        signed.valid_until,
        signed.nonce,
    )
    on_chain = data.registry.functions.attestationDigest(
        signed.subject, signed.claim_type, signed.claim_hash, signed.valid_until, signed.nonce
    ).call()
    assert attestation_digest(typed) == bytes(on_chain)
    assert data.attestations.verify(1, DOCUMENT, salt).valid


def test_wrong_signer_is_refused(data: DataEnv) -> None:
    # OTHER signs but the submission claims EMPLOYER signed.
    signed = data.sign(OTHER, BORROWER, "income", claim_hash({"income": 1}, new_salt()))
    args = (data.address(EMPLOYER), *_submit_args(signed)[1:])
    revert = data.reverts(
        "InvalidAttestationSignature", data.registry.functions.submitAttestation(*args), OTHER
    )
    assert revert.args["attester"].lower() == data.address(EMPLOYER).lower()
    # A valid signature over other fields (tampered claim hash) is refused too.
    good = data.sign(EMPLOYER, BORROWER, "income", claim_hash({"income": 1}, new_salt()))
    tampered = list(_submit_args(good))
    tampered[3] = b"\x11" * 32
    data.reverts(
        "InvalidAttestationSignature", data.registry.functions.submitAttestation(*tampered)
    )


def test_expired_signature_is_refused_and_validity_ends_at_the_exact_second(
    data: DataEnv,
) -> None:
    stale = data.sign(EMPLOYER, BORROWER, "income", b"\x01" * 32, valid_for=-1)
    revert = data.reverts(
        "AttestationExpired", data.registry.functions.submitAttestation(*_submit_args(stale))
    )
    assert revert.args["validUntil"] == stale.valid_until

    signed = data.sign(EMPLOYER, BORROWER, "income", b"\x02" * 32, valid_for=10 * DAY)
    data.send(data.registry.functions.submitAttestation(*_submit_args(signed)))
    mine(data.w3, signed.valid_until)
    assert data.registry.functions.isValid(1).call(block_identifier="latest")
    mine(data.w3, signed.valid_until + 1)
    assert not data.registry.functions.isValid(1).call(block_identifier="latest")


def test_replayed_nonce_is_refused(data: DataEnv) -> None:
    signed = data.sign(EMPLOYER, BORROWER, "employment", b"\x03" * 32, nonce=42)
    data.send(data.registry.functions.submitAttestation(*_submit_args(signed)))
    revert = data.reverts(
        "NonceAlreadyUsed", data.registry.functions.submitAttestation(*_submit_args(signed))
    )
    assert revert.args["nonce"] == 42
    assert revert.args["attester"].lower() == data.address(EMPLOYER).lower()
    # Another claim signed with the same nonce is a replay too.
    other = data.sign(EMPLOYER, OTHER, "income", b"\x04" * 32, nonce=42)
    data.reverts(
        "NonceAlreadyUsed", data.registry.functions.submitAttestation(*_submit_args(other))
    )
    # Nonces need not be sequential.
    fresh = data.sign(EMPLOYER, OTHER, "income", b"\x04" * 32, nonce=7)
    data.send(data.registry.functions.submitAttestation(*_submit_args(fresh)))


def test_unregistered_and_removed_attesters(data: DataEnv) -> None:
    signed = data.sign(OTHER, BORROWER, "identity", b"\x05" * 32)
    revert = data.reverts(
        "AttesterNotRegistered", data.registry.functions.submitAttestation(*_submit_args(signed))
    )
    assert revert.args["attester"].lower() == data.address(OTHER).lower()
    # Only the admin registers.
    data.reverts(
        "AccessControlUnauthorizedAccount",
        data.registry.functions.registerAttester(data.address(OTHER), 1),
        OTHER,
    )
    data.reverts(
        "AttesterAlreadyRegistered",
        data.registry.functions.registerAttester(data.address(EMPLOYER), 1),
    )
    data.reverts(
        "InvalidAttesterKind", data.registry.functions.registerAttester(data.address(OTHER), 0)
    )
    # A removed attester's attestations stop counting and it can issue no more.
    good = data.sign(BUREAU, BORROWER, "repayment-history", b"\x06" * 32)
    data.send(data.registry.functions.submitAttestation(*_submit_args(good)))
    assert data.registry.functions.isValid(1).call()
    receipt = data.send(data.registry.functions.removeAttester(data.address(BUREAU)))
    (event,) = data.registry.events.AttesterRemoved().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["attester"] == data.address(BUREAU)
    assert not data.registry.functions.isValid(1).call()
    again = data.sign(BUREAU, BORROWER, "repayment-history", b"\x07" * 32)
    data.reverts(
        "AttesterNotRegistered", data.registry.functions.submitAttestation(*_submit_args(again))
    )


def test_registration_records_kind(data: DataEnv) -> None:
    receipt = data.send(
        data.registry.functions.registerAttester(
            data.address(OTHER), ATTESTER_KINDS["income-verifier"]
        )
    )
    (event,) = data.registry.events.AttesterRegistered().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["kind"] == ATTESTER_KINDS["income-verifier"]
    kind, active, registered_at = data.registry.functions.attester(data.address(OTHER)).call()
    assert (kind, active) == (2, True)
    assert registered_at == data.w3.eth.get_block(receipt["blockNumber"])["timestamp"]


def test_revocation_by_the_attester_only(data: DataEnv) -> None:
    salt = new_salt()
    signed = data.sign(EMPLOYER, BORROWER, "employment", claim_hash(DOCUMENT, salt))
    attestation_id, _ = data.attestations.submit(signed, data.address(BORROWER))
    revert = data.reverts(
        "NotAttester", data.registry.functions.revokeAttestation(attestation_id), BORROWER
    )
    assert revert.args["caller"].lower() == data.address(BORROWER).lower()
    data.reverts("AttestationNotFound", data.registry.functions.revokeAttestation(99), EMPLOYER)
    receipt = data.send(data.registry.functions.revokeAttestation(attestation_id), EMPLOYER)
    (event,) = data.registry.events.AttestationRevoked().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["attestationId"] == attestation_id
    assert event["args"]["subject"] == data.address(BORROWER)
    assert not data.registry.functions.isValid(attestation_id).call()
    assert data.attestations.get(attestation_id).revoked
    data.reverts(
        "AttestationAlreadyRevoked",
        data.registry.functions.revokeAttestation(attestation_id),
        EMPLOYER,
    )
    verification = data.attestations.verify(attestation_id, DOCUMENT, salt)
    assert not verification.valid
    assert "revoked" in verification.reason


def test_erc1271_wallet_attester(data: DataEnv) -> None:
    wallet = data.deploy_wallet(WALLET_OWNER)
    data.send(data.registry.functions.registerAttester(wallet.address, ATTESTER_KINDS["employer"]))
    salt = new_salt()
    hash_ = claim_hash(DOCUMENT, salt)
    now = data.now()
    signed = sign_attestation_for_wallet(
        data.keys[WALLET_OWNER],
        wallet.address,
        data.registry.address,
        data.w3.eth.chain_id,
        data.address(BORROWER),
        claim_type_id("employment"),
        hash_,
        now + 30 * DAY,
    )
    attestation_id, _ = data.attestations.submit(signed, data.address(OTHER))
    record = data.attestations.get(attestation_id)
    assert record.attester == wallet.address
    assert data.registry.functions.isValid(attestation_id).call()
    assert data.attestations.verify(attestation_id, DOCUMENT, salt).valid
    # A key that is not the wallet owner's is refused by the wallet.
    forged = sign_attestation_for_wallet(
        data.keys[OTHER],
        wallet.address,
        data.registry.address,
        data.w3.eth.chain_id,
        data.address(BORROWER),
        claim_type_id("income"),
        hash_,
        now + 30 * DAY,
    )
    data.reverts(
        "InvalidAttestationSignature",
        data.registry.functions.submitAttestation(*_submit_args(forged)),
    )
    # The wallet revokes through its own call.
    revoke = data.registry.encode_abi("revokeAttestation", [attestation_id])
    data.send(wallet.functions.execute(data.registry.address, revoke), WALLET_OWNER)
    assert data.attestations.get(attestation_id).revoked


def test_python_verify_names_what_is_wrong(data: DataEnv) -> None:
    salt = new_salt()
    signed = data.sign(EMPLOYER, BORROWER, "employment", claim_hash(DOCUMENT, salt))
    attestation_id, _ = data.attestations.submit(signed, data.address(ADMIN))
    assert data.attestations.verify(attestation_id, DOCUMENT, salt).valid
    edited = {**DOCUMENT, "position": "manager"}
    assert "does not match" in data.attestations.verify(attestation_id, edited, salt).reason
    assert "does not match" in data.attestations.verify(attestation_id, DOCUMENT, new_salt()).reason
    assert "erased" in data.attestations.verify(attestation_id, DOCUMENT, None).reason
    assert "does not exist" in data.attestations.verify(999, DOCUMENT, salt).reason
    mine(data.w3, signed.valid_until + 1)
    assert "expired" in data.attestations.verify(attestation_id, DOCUMENT, salt).reason
