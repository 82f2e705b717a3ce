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
    /// @notice An address argument (admin, attester, subject) is the zero address.
    error ZeroAddress();
    /// @notice `None` is not a kind an attester can be registered as.
    /// @param kind the kind asked for
    error InvalidAttesterKind(uint8 kind);
    /// @notice The address is not a registered (active) attester.
    /// @param attester the address
    error AttesterNotRegistered(address attester);
    /// @notice The address is already a registered attester.
    /// @param attester the address
    /// @param kind the kind it is registered as
    error AttesterAlreadyRegistered(address attester, AttesterKind kind);
    /// @notice `signature` is not `attester`'s (EOA: wrong signer; contract: ERC-1271 refused).
    /// @param attester the attester named in the submission
    /// @param digest the EIP-712 digest the signature should sign
    error InvalidAttestationSignature(address attester, bytes32 digest);
    /// @notice The signed `validUntil` has passed (or is not after the submission time).
    /// @param validUntil the signed expiry
    /// @param chainTime the current block's timestamp
    error AttestationExpired(uint256 validUntil, uint256 chainTime);
    /// @notice The attester's `nonce` was used by an earlier attestation (a replay).
    /// @param attester the attester
    /// @param nonce the nonce
    error NonceAlreadyUsed(address attester, uint256 nonce);
    /// @notice No attestation has id `attestationId` (ids start at 1).
    /// @param attestationId the id asked for
    error AttestationNotFound(uint256 attestationId);
    /// @notice Only the attestation's attester may revoke it.
    /// @param attestationId the attestation
    /// @param caller the account that tried
    /// @param attester its attester
    error NotAttester(uint256 attestationId, address caller, address attester);
    /// @notice The attestation was revoked already.
    /// @param attestationId the attestation
    /// @param revokedAt when it was revoked
    error AttestationAlreadyRevoked(uint256 attestationId, uint256 revokedAt);
    /// @notice The attester already has a newer statement about this subject and claim type:
    ///         a signature held back (with a lower nonce) cannot replace it, not even after
    ///         that newer attestation was revoked.
    /// @param attester the attester
    /// @param nonce the nonce of the signature submitted
    /// @param latestNonce the nonce of the attester's latest attestation of this subject and type
    error StaleAttestation(address attester, uint256 nonce, uint256 latestNonce);

    // ----------------------------------------------------------------- events
    /// @notice The admin registered `attester` as a `kind`.
    /// @param attester the attester
    /// @param kind what kind of party it is
    event AttesterRegistered(address indexed attester, AttesterKind kind);
    /// @notice The admin removed `attester`; its attestations no longer count as valid.
    /// @param attester the attester
    event AttesterRemoved(address indexed attester);
    /// @notice An attestation signed by `attester` was recorded.
    /// @param attestationId the new attestation's id
    /// @param attester the attester who signed it
    /// @param subject the borrower it is about
    /// @param claimType the type of the claim, e.g. keccak256("income")
    /// @param claimHash the salted hash of the off-chain document
    /// @param issuedAt when it was recorded
    /// @param validUntil the last second it counts
    /// @param nonce the attester's single-use nonce
    /// @param submitter the account that submitted the signature
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
    /// @param attestationId the attestation
    /// @param attester its attester
    /// @param subject the borrower it is about
    event AttestationRevoked(
        uint256 indexed attestationId, address indexed attester, address indexed subject
    );

    // ------------------------------------------------------------ entry points
    /// @notice Registers `attester` as an attester of `kind`.
    /// @dev Admin only. Emits {AttesterRegistered}.
    /// @param attester the address to register
    /// @param kind what kind of party it is (not None)
    function registerAttester(address attester, AttesterKind kind) external;

    /// @notice Removes attester `attester`; its attestations stop counting as valid and it can
    ///         issue no more.
    /// @dev Admin only. Emits {AttesterRemoved}.
    /// @param attester the registered attester
    function removeAttester(address attester) external;

    /// @notice Records an attestation that `attester` signed off chain.
    /// @dev Anyone may call (a relayer, the borrower, a lender). Reverts with
    ///      {AttesterNotRegistered}, {AttestationExpired} (validUntil not after now),
    ///      {NonceAlreadyUsed} (replay) or {InvalidAttestationSignature}. Emits
    ///      {AttestationSubmitted}.
    /// @param attester the registered attester who signed
    /// @param subject the borrower it is about
    /// @param claimType the type of the claim
    /// @param claimHash the salted hash of the off-chain document
    /// @param validUntil the last second it counts
    /// @param nonce the attester's single-use nonce
    /// @param signature the attester's EIP-712 signature (or ERC-1271 data)
    /// @return attestationId the new attestation's id (ids start at 1)
    function submitAttestation(
        address attester,
        address subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint40 validUntil,
        uint256 nonce,
        bytes calldata signature
    ) external returns (uint256 attestationId);

    /// @notice Revokes attestation `attestationId`.
    /// @dev Only its attester (a contract-wallet attester calls through its wallet). Emits
    ///      {AttestationRevoked}.
    /// @param attestationId the attestation
    function revokeAttestation(uint256 attestationId) external;

    /// @notice The registration of `account` (kind None: never registered).
    /// @param account the address
    function attester(address account) external view returns (Attester memory);

    /// @notice Attestation `attestationId`; reverts with {AttestationNotFound} for unknown ids.
    /// @param attestationId the attestation
    function attestation(uint256 attestationId) external view returns (Attestation memory);

    /// @notice Number of attestations ever submitted (the highest id).
    function attestationCount() external view returns (uint256);

    /// @notice Whether `attester` already used `nonce`.
    /// @param attester the attester
    /// @param nonce the nonce
    function isNonceUsed(address attester, uint256 nonce) external view returns (bool);

    /// @notice The newest attestation of `claimType` about `subject` by `attester` (0: none).
    /// @param subject the borrower
    /// @param claimType the type of the claim
    /// @param attester the attester
    function latestAttestationId(address subject, bytes32 claimType, address attester)
        external
        view
        returns (uint256);

    /// @notice Whether attestation `attestationId` counts now: it exists, is not revoked, has
    ///         not expired (`block.timestamp <= validUntil`) and its attester is registered
    ///         and was already registered when it was issued (re-registering an attester
    ///         does not revive its earlier attestations).
    /// @param attestationId the attestation
    function isValid(uint256 attestationId) external view returns (bool);

    /// @notice The EIP-712 digest an attester signs for these fields (for off-chain tooling).
    /// @param subject the borrower
    /// @param claimType the type of the claim
    /// @param claimHash the salted hash of the off-chain document
    /// @param validUntil the last second it counts
    /// @param nonce the attester's single-use nonce
    function attestationDigest(
        address subject,
        bytes32 claimType,
        bytes32 claimHash,
        uint40 validUntil,
        uint256 nonce
    ) external view returns (bytes32);
}
