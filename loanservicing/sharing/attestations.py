"""Attestations: EIP-712 signing, salted claim hashes, submission, verification, revocation.

An attester (an employer, an income verifier, a KYC provider, a credit bureau) vouches for a
fact about a borrower without publishing it: the chain only sees

    claim_hash = keccak256(salt || canonical_json(document))

where ``salt`` is 32 random bytes kept in the vault's key store. Destroying the salt (erasure)
makes the hash unlinkable: nobody can test a guessed document against it any more.

The attester signs the EIP-712 typed data ``Attestation(address subject, bytes32 claimType,
bytes32 claimHash, uint40 validUntil, uint256 nonce)`` in the domain
``LoanServicingAttestations`` / ``1`` / chain id / registry address; anyone may submit it.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, Hash32
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import call, send
from loanservicing.sharing.errors import DataSharingError

__all__ = [
    "ATTESTER_KINDS",
    "CLAIM_CATEGORIES",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "AttestationClient",
    "AttestationRecord",
    "SignedAttestation",
    "Verification",
    "attestation_digest",
    "attestation_nonce",
    "attestation_typed_data",
    "canonical_json",
    "claim_hash",
    "claim_type_id",
    "claim_type_label",
    "new_salt",
    "sign_attestation",
    "sign_attestation_for_wallet",
]

DOMAIN_NAME = "LoanServicingAttestations"
DOMAIN_VERSION = "1"

ATTESTER_KINDS: dict[str, int] = {
    "employer": 1,
    "income-verifier": 2,
    "kyc-provider": 3,
    "credit-bureau": 4,
}

CLAIM_CATEGORIES: dict[str, int] = {
    "identity": 1,
    "employment": 2,
    "income": 4,
    "repayment-history": 8,
    "contact": 16,
}
"""Claim types and the consent category bit each one's document belongs to. ``contact`` is the
borrower's e-mail address (``{"email": ...}``), which the servicer reads to send notices."""

_ATTESTATION_TYPE = [
    {"name": "subject", "type": "address"},
    {"name": "claimType", "type": "bytes32"},
    {"name": "claimHash", "type": "bytes32"},
    {"name": "validUntil", "type": "uint40"},
    {"name": "nonce", "type": "uint256"},
]


def attestation_nonce() -> int:
    """A fresh attestation nonce: nanoseconds since the epoch, then 64 random bits.

    The registry accepts an attester's attestation of a subject and claim type only with a
    nonce above the one of the attester's latest such attestation (so a signature held back
    cannot replace a newer one, even once that one is revoked); nonces from this function grow
    with the time of signing and never repeat."""
    return (time.time_ns() << 64) | secrets.randbits(64)


def claim_type_id(label: str) -> bytes:
    """The on-chain bytes32 of a claim type: keccak256 of its label (``income`` ...)."""
    if label not in CLAIM_CATEGORIES:
        known = ", ".join(CLAIM_CATEGORIES)
        raise DataSharingError(f"Unknown claim type {label!r}; the claim types are: {known}.")
    return bytes(Web3.keccak(text=label))


def claim_type_label(type_id: bytes) -> str:
    """The label of an on-chain claim type, or its hex when it is not one of ours."""
    for label in CLAIM_CATEGORIES:
        if bytes(Web3.keccak(text=label)) == bytes(type_id):
            return label
    return "0x" + bytes(type_id).hex()


def canonical_json(document: Any) -> bytes:
    """The one byte string a JSON document hashes as: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def claim_hash(document: Any, salt: bytes) -> bytes:
    """keccak256(salt || canonical_json(document)); ``salt`` is 32 random bytes."""
    if len(salt) != 32:
        raise DataSharingError("A claim salt must be exactly 32 bytes.")
    return bytes(Web3.keccak(salt + canonical_json(document)))


@dataclass(frozen=True)
class SignedAttestation:
    """An attestation signed off chain, ready for anyone to submit."""

    attester: ChecksumAddress
    subject: ChecksumAddress
    claim_type: bytes
    claim_hash: bytes
    valid_until: int
    nonce: int
    signature: bytes


@dataclass(frozen=True)
class AttestationRecord:
    """An attestation as stored on chain."""

    attestation_id: int
    attester: ChecksumAddress
    subject: ChecksumAddress
    claim_type: bytes
    claim_hash: bytes
    issued_at: int
    valid_until: int
    revoked_at: int

    @property
    def revoked(self) -> bool:
        return self.revoked_at != 0


@dataclass(frozen=True)
class Verification:
    """The outcome of checking an attestation against a document."""

    valid: bool
    reason: str


def attestation_typed_data(
    registry: ChecksumAddress,
    chain_id: int,
    subject: ChecksumAddress,
    claim_type: bytes,
    claim_hash_: bytes,
    valid_until: int,
    nonce: int,
) -> dict[str, Any]:
    """The full EIP-712 message (domain, types, primary type, message)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Attestation": _ATTESTATION_TYPE,
        },
        "primaryType": "Attestation",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": registry,
        },
        "message": {
            "subject": subject,
            "claimType": claim_type,
            "claimHash": claim_hash_,
            "validUntil": valid_until,
            "nonce": nonce,
        },
    }


def _signable(typed: dict[str, Any]) -> SignableMessage:
    return encode_typed_data(full_message=typed)


def attestation_digest(typed: dict[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest of ``typed`` (what a contract wallet's owner signs)."""
    message = _signable(typed)
    return bytes(Web3.keccak(b"\x19" + message.version + message.header + message.body))


def sign_attestation(
    attester: LocalAccount,
    registry: ChecksumAddress,
    chain_id: int,
    subject: ChecksumAddress,
    claim_type: bytes,
    claim_hash_: bytes,
    valid_until: int,
    nonce: int | None = None,
) -> SignedAttestation:
    """Sign an attestation as the EOA ``attester``; by default a nonce that orders it after the
    attester's earlier ones (:func:`attestation_nonce`)."""
    nonce = attestation_nonce() if nonce is None else nonce
    typed = attestation_typed_data(
        registry, chain_id, subject, claim_type, claim_hash_, valid_until, nonce
    )
    signature = attester.sign_message(_signable(typed)).signature
    return SignedAttestation(
        attester.address, subject, claim_type, claim_hash_, valid_until, nonce, bytes(signature)
    )


def sign_attestation_for_wallet(
    owner: LocalAccount,
    wallet: ChecksumAddress,
    registry: ChecksumAddress,
    chain_id: int,
    subject: ChecksumAddress,
    claim_type: bytes,
    claim_hash_: bytes,
    valid_until: int,
    nonce: int | None = None,
) -> SignedAttestation:
    """Sign for an ERC-1271 contract-wallet attester whose owner signs the raw digest."""
    nonce = attestation_nonce() if nonce is None else nonce
    typed = attestation_typed_data(
        registry, chain_id, subject, claim_type, claim_hash_, valid_until, nonce
    )
    signature = owner.unsafe_sign_hash(Hash32(attestation_digest(typed))).signature
    return SignedAttestation(
        wallet, subject, claim_type, claim_hash_, valid_until, nonce, bytes(signature)
    )


_ERC1271_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "isValidSignature",
        "stateMutability": "view",
        "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
        "outputs": [{"name": "", "type": "bytes4"}],
    }
]
_ERC1271_MAGIC = bytes.fromhex("1626ba7e")


class AttestationClient:
    """Registers attesters, submits, reads, verifies and revokes attestations."""

    def __init__(self, w3: Web3, registry: Contract, decoder: RevertDecoder) -> None:
        self.w3 = w3
        self.registry = registry
        self.decoder = decoder

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def register_attester(
        self, admin: ChecksumAddress, attester: ChecksumAddress, kind: str
    ) -> HexBytes:
        if kind not in ATTESTER_KINDS:
            known = ", ".join(ATTESTER_KINDS)
            raise DataSharingError(f"Unknown attester kind {kind!r}; the kinds are: {known}.")
        fn = self.registry.functions.registerAttester(attester, ATTESTER_KINDS[kind])
        receipt = send(self.w3, fn, admin, self.decoder, "Registering the attester")
        return HexBytes(receipt["transactionHash"])

    def sign(
        self,
        attester: LocalAccount,
        subject: ChecksumAddress,
        claim_type: bytes,
        claim_hash_: bytes,
        valid_until: int,
        nonce: int | None = None,
    ) -> SignedAttestation:
        return sign_attestation(
            attester,
            self.registry.address,
            self.chain_id,
            subject,
            claim_type,
            claim_hash_,
            valid_until,
            nonce,
        )

    def submit(self, signed: SignedAttestation, submitter: ChecksumAddress) -> tuple[int, HexBytes]:
        """Submit ``signed`` from ``submitter`` (any account); returns (id, tx hash)."""
        fn = self.registry.functions.submitAttestation(
            signed.attester,
            signed.subject,
            signed.claim_type,
            signed.claim_hash,
            signed.valid_until,
            signed.nonce,
            signed.signature,
        )
        receipt = send(self.w3, fn, submitter, self.decoder, "Submitting the attestation")
        (event,) = self.registry.events.AttestationSubmitted().process_receipt(
            receipt, errors=DISCARD
        )
        return int(event["args"]["attestationId"]), HexBytes(receipt["transactionHash"])

    def revoke(self, attestation_id: int, attester: ChecksumAddress) -> HexBytes:
        fn = self.registry.functions.revokeAttestation(attestation_id)
        receipt = send(self.w3, fn, attester, self.decoder, "Revoking the attestation")
        return HexBytes(receipt["transactionHash"])

    def get(self, attestation_id: int) -> AttestationRecord:
        raw = call(
            self.registry.functions.attestation(attestation_id),
            self.decoder,
            "Reading the attestation",
        )
        attester, issued_at, valid_until, subject, revoked_at, claim_type, hash_ = raw
        return AttestationRecord(
            attestation_id,
            Web3.to_checksum_address(attester),
            Web3.to_checksum_address(subject),
            bytes(claim_type),
            bytes(hash_),
            int(issued_at),
            int(valid_until),
            int(revoked_at),
        )

    def submitted_signature(self, attestation_id: int) -> tuple[int, bytes] | None:
        """The (nonce, signature) the attestation was submitted with, read back from the
        submitting transaction's calldata; None when it was submitted through another
        contract (the calldata is then not a direct ``submitAttestation``)."""
        logs = self.registry.events.AttestationSubmitted().get_logs(
            from_block=0, argument_filters={"attestationId": attestation_id}
        )
        if not logs:
            return None
        tx = self.w3.eth.get_transaction(logs[0]["transactionHash"])
        try:
            fn, args = self.registry.decode_function_input(tx["input"])
        except ValueError:
            return None
        if fn.fn_name != "submitAttestation":
            return None
        return int(args["nonce"]), bytes(args["signature"])

    def signature_is_valid(self, record: AttestationRecord, nonce: int, signature: bytes) -> bool:
        typed = attestation_typed_data(
            self.registry.address,
            self.chain_id,
            record.subject,
            record.claim_type,
            record.claim_hash,
            record.valid_until,
            nonce,
        )
        if self.w3.eth.get_code(record.attester):
            wallet = self.w3.eth.contract(address=record.attester, abi=_ERC1271_ABI)
            try:
                magic = wallet.functions.isValidSignature(
                    attestation_digest(typed), signature
                ).call()
            except Exception:  # a wallet that reverts refuses the signature
                return False
            return bytes(magic) == _ERC1271_MAGIC
        try:
            signer = Account.recover_message(_signable(typed), signature=signature)
        except Exception:  # malformed signature bytes
            return False
        return bool(signer == record.attester)

    def count(self) -> int:
        """How many attestations the registry holds (ids 1 to ``count``)."""
        return int(self.registry.functions.attestationCount().call())

    def verify(self, attestation_id: int, document: Any, salt: bytes | None) -> Verification:
        """Check attestation ``attestation_id`` against ``document`` and its salt: the hash
        matches, the signature is the attester's, not revoked, not expired, attester still
        registered. ``salt`` None means the salt was erased: the claim can no longer be
        matched."""
        count = self.count()
        if not 1 <= attestation_id <= count:
            return Verification(False, f"Attestation {attestation_id} does not exist.")
        record = self.get(attestation_id)
        if salt is None:
            return Verification(
                False, "The claim's salt was erased: the document can no longer be matched."
            )
        if claim_hash(document, salt) != record.claim_hash:
            return Verification(False, "The document does not match the attested claim hash.")
        submitted = self.submitted_signature(attestation_id)
        if submitted is None:
            return Verification(False, "The submitting transaction could not be read.")
        if not self.signature_is_valid(record, *submitted):
            return Verification(False, "The signature is not the attester's.")
        if record.revoked:
            return Verification(False, f"The attester revoked it at {record.revoked_at}.")
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        if now > record.valid_until:
            return Verification(False, f"It expired at {record.valid_until}.")
        attester = self.registry.functions.attester(record.attester).call()
        if not attester[1]:
            return Verification(False, "The attester is no longer registered.")
        return Verification(True, "The document matches a valid, unrevoked attestation.")
