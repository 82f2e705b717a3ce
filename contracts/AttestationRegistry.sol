// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {
    Attestation,
    Attester,
    AttesterKind,
    IAttestationRegistry
} from "./interfaces/IAttestationRegistry.sol";

/// @title AttestationRegistry
/// @notice Registered attesters (employers, income verifiers, KYC providers, credit bureaus)
///         vouch for facts about a borrower by signing EIP-712 typed data off chain:
///         `Attestation(address subject,bytes32 claimType,bytes32 claimHash,uint40 validUntil,
///         uint256 nonce)`. Anyone may submit the signature, so the attester pays no gas. The
///         signature is checked with SignatureChecker: an EOA's ECDSA signature or a contract
///         wallet's ERC-1271 `isValidSignature`.
///
/// Nothing personal is stored or logged: `claimHash` is a salted hash of the off-chain document
/// (keccak256(salt || canonical JSON)); the salt stays off chain and is destroyed on erasure,
/// which makes the hash unlinkable to the person.
///
/// Validity: an attestation counts while it is not revoked, `block.timestamp <= validUntil`, and
/// its attester is still registered (removing a compromised attester voids its attestations).
/// @dev Storage: `_attesters` one slot per attester (see {Attester}); `_attestations` four slots
///      per attestation (see {Attestation}); nonces are single-use per attester, in any order.
contract AttestationRegistry is IAttestationRegistry, AccessControl, EIP712 {
    /// @notice EIP-712 type hash of the signed attestation.
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address subject,bytes32 claimType,bytes32 claimHash,uint40 validUntil,uint256 nonce)"
    );

    mapping(address account => Attester) private _attesters;
    mapping(uint256 attestationId => Attestation) private _attestations;
    mapping(address attester => mapping(uint256 nonce => bool used)) private _usedNonces;
    mapping(address subject => mapping(bytes32 claimType => mapping(address attester => uint256 id)))
        private _latest;
    mapping(uint256 attestationId => uint256 nonce) private _nonceOf;
    uint256 private _attestationCount;

    /// @param admin holder of DEFAULT_ADMIN_ROLE (registers and removes attesters)
    constructor(address admin) EIP712("LoanServicingAttestations", "1") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IAttestationRegistry
    function registerAttester(address account, AttesterKind kind)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert ZeroAddress();
        if (kind == AttesterKind.None) revert InvalidAttesterKind(uint8(kind));
        Attester storage a = _attesters[account];
        if (a.active) revert AttesterAlreadyRegistered(account, a.kind);
        a.kind = kind;
        a.active = true;
        a.registeredAt = SafeCast.toUint40(block.timestamp);
        emit AttesterRegistered(account, kind);
    }

    /// @inheritdoc IAttestationRegistry
    function removeAttester(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Attester storage a = _attesters[account];
        if (!a.active) revert AttesterNotRegistered(account);
        a.active = false;
        emit AttesterRemoved(account);
    }

    /// @inheritdoc IAttestationRegistry
    function submitAttestation(
        address attester_,
        address subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint40 validUntil,
        uint256 nonce,
        bytes calldata signature
    ) external returns (uint256 attestationId) {
        if (subject == address(0)) revert ZeroAddress();
        if (!_attesters[attester_].active) revert AttesterNotRegistered(attester_);
        if (validUntil <= block.timestamp) revert AttestationExpired(validUntil, block.timestamp);
        if (_usedNonces[attester_][nonce]) revert NonceAlreadyUsed(attester_, nonce);
        uint256 latest = _latest[subject][claimType][attester_];
        // An attester's nonces order its statements about a subject and type: one signed
        // before the latest (held back by someone) can never take its place.
        if (latest != 0 && nonce <= _nonceOf[latest]) {
            revert StaleAttestation(attester_, nonce, _nonceOf[latest]);
        }
        bytes32 digest = _digest(subject, claimType, claimHash, validUntil, nonce);
        if (!SignatureChecker.isValidSignatureNow(attester_, digest, signature)) {
            revert InvalidAttestationSignature(attester_, digest);
        }
        _usedNonces[attester_][nonce] = true;
        attestationId = ++_attestationCount;
        _attestations[attestationId] = Attestation({
            attester: attester_,
            issuedAt: SafeCast.toUint40(block.timestamp),
            validUntil: validUntil,
            subject: subject,
            revokedAt: 0,
            claimType: claimType,
            claimHash: claimHash
        });
        _latest[subject][claimType][attester_] = attestationId;
        _nonceOf[attestationId] = nonce;
        emit AttestationSubmitted(
            attestationId,
            attester_,
            subject,
            claimType,
            claimHash,
            block.timestamp,
            validUntil,
            nonce,
            msg.sender
        );
    }

    /// @inheritdoc IAttestationRegistry
    function revokeAttestation(uint256 attestationId) external {
        Attestation storage a = _existing(attestationId);
        if (msg.sender != a.attester) revert NotAttester(attestationId, msg.sender, a.attester);
        if (a.revokedAt != 0) revert AttestationAlreadyRevoked(attestationId, a.revokedAt);
        a.revokedAt = SafeCast.toUint40(block.timestamp);
        emit AttestationRevoked(attestationId, msg.sender, a.subject);
    }

    /// @inheritdoc IAttestationRegistry
    function attester(address account) external view returns (Attester memory) {
        return _attesters[account];
    }

    /// @inheritdoc IAttestationRegistry
    function attestation(uint256 attestationId) external view returns (Attestation memory) {
        return _existing(attestationId);
    }

    /// @inheritdoc IAttestationRegistry
    function attestationCount() external view returns (uint256) {
        return _attestationCount;
    }

    /// @inheritdoc IAttestationRegistry
    function isNonceUsed(address attester_, uint256 nonce) external view returns (bool) {
        return _usedNonces[attester_][nonce];
    }

    /// @inheritdoc IAttestationRegistry
    function latestAttestationId(address subject, bytes32 claimType, address attester_)
        external
        view
        returns (uint256)
    {
        return _latest[subject][claimType][attester_];
    }

    /// @inheritdoc IAttestationRegistry
    function isValid(uint256 attestationId) external view returns (bool) {
        Attestation storage a = _attestations[attestationId];
        // Only attestations issued since the attester's current registration count: removing
        // an attester and registering it again does not revive what it signed before.
        Attester storage who = _attesters[a.attester];
        return a.attester != address(0) && a.revokedAt == 0 && block.timestamp <= a.validUntil
            && who.active && a.issuedAt >= who.registeredAt;
    }

    /// @inheritdoc IAttestationRegistry
    function attestationDigest(
        address subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint40 validUntil,
        uint256 nonce
    ) external view returns (bytes32) {
        return _digest(subject, claimType, claimHash, validUntil, nonce);
    }

    function _digest(
        address subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint40 validUntil,
        uint256 nonce
    ) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(ATTESTATION_TYPEHASH, subject, claimType, claimHash, validUntil, nonce))
        );
    }

    function _existing(uint256 attestationId) private view returns (Attestation storage a) {
        a = _attestations[attestationId];
        if (a.attester == address(0)) revert AttestationNotFound(attestationId);
    }
}
