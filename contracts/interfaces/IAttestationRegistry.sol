// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice What kind of party an attester is. `None` marks an address that is not registered.
enum AttesterKind {
    None,
    Employer,
    IncomeVerifier,
    KycProvider,
    CreditBureau
}

/// @notice A registered attester.
/// @dev One slot: kind (8) | active (8) | registeredAt (40).
struct Attester {
    AttesterKind kind;
    bool active;
    uint40 registeredAt;
}

/// @notice One attestation as stored on chain: no personal data, only a salted hash of the
///         off-chain document (`claimHash`) and the claim's type.
/// @dev Four slots:
///      slot 0: attester (160) | issuedAt (40) | validUntil (40)
///      slot 1: subject (160) | revokedAt (40)       revokedAt == 0: not revoked
///      slot 2: claimType (256)
///      slot 3: claimHash (256)
struct Attestation {
    address attester;
    uint40 issuedAt;
    uint40 validUntil;
    address subject;
    uint40 revokedAt;
    bytes32 claimType;
    bytes32 claimHash;
}

/// @title Attestation registry interface: attesters vouch for facts about a borrower with
///        EIP-712 signatures over salted hashes; anyone may submit a signature.
interface IAttestationRegistry {
    // ----------------------------------------------------------------- errors
    error ZeroAddress();
    error InvalidAttesterKind(uint8 kind);
    error AttesterNotRegistered(address attester);
    error AttesterAlreadyRegistered(address attester, AttesterKind kind);
    /// @notice `signature` is not `attester`'s (EOA: wrong signer; contract: ERC-1271 refused).
    error InvalidAttestationSignature(address attester, bytes32 digest);
    /// @notice The signed `validUntil` has passed (or is not after the submission time).
    error AttestationExpired(uint256 validUntil, uint256 chainTime);
    /// @notice The attester's `nonce` was used by an earlier attestation (a replay).
    error NonceAlreadyUsed(address attester, uint256 nonce);
    error AttestationNotFound(uint256 attestationId);
    error NotAttester(uint256 attestationId, address caller, address attester);
    error AttestationAlreadyRevoked(uint256 attestationId, uint256 revokedAt);

    // ----------------------------------------------------------------- events
    /// @notice The admin registered `attester` as a `kind`.
    event AttesterRegistered(address indexed attester, AttesterKind kind);
    /// @notice The admin removed `attester`; its attestations no longer count as valid.
    event AttesterRemoved(address indexed attester);
    /// @notice An attestation signed by `attester` was recorded.
    event AttestationSubmitted(
        uint256 indexed attestationId,
        address indexed attester,
        address indexed subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint256 issuedAt,
        uint256 validUntil,
        uint256 nonce,
        address submitter
    );
    /// @notice The attester revoked attestation `attestationId`.
    event AttestationRevoked(
        uint256 indexed attestationId, address indexed attester, address indexed subject
    );

    // ------------------------------------------------------------ entry points
    function registerAttester(address attester, AttesterKind kind) external;
    function removeAttester(address attester) external;
    function submitAttestation(
        address attester,
        address subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint40 validUntil,
        uint256 nonce,
        bytes calldata signature
    ) external returns (uint256 attestationId);
    function revokeAttestation(uint256 attestationId) external;

    function attester(address account) external view returns (Attester memory);
    function attestation(uint256 attestationId) external view returns (Attestation memory);
    function attestationCount() external view returns (uint256);
    function isNonceUsed(address attester, uint256 nonce) external view returns (bool);
    function latestAttestationId(address subject, bytes32 claimType, address attester)
        external
        view
        returns (uint256);
    function isValid(uint256 attestationId) external view returns (bool);
    function attestationDigest(
        address subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint40 validUntil,
        uint256 nonce
    ) external view returns (bytes32);
}
