// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A borrower's consent to one viewer.
/// @dev One slot: categories (8) | grantedAt (40) | expiresAt (40). `categories == 0`: none.
///      Valid while `block.timestamp <= expiresAt` (the expiry second itself is included).
struct Consent {
    uint8 categories;
    uint40 grantedAt;
    uint40 expiresAt;
}

/// @title Consent registry interface: borrowers grant viewers access to categories of their
///        off-chain data; regulators' accesses are recorded with a hash of their legal basis.
/// @dev Category bits: identity = 1, employment = 2, income = 4, repayment history = 8,
///      contact = 16.
interface IConsentRegistry {
    // ----------------------------------------------------------------- errors
    /// @notice An address argument (admin, viewer, borrower) is the zero address.
    error ZeroAddress();
    /// @notice The categories are empty or contain bits outside `allowedMask`.
    /// @param categories the categories asked for
    /// @param allowedMask every category bit there is
    error InvalidCategories(uint256 categories, uint256 allowedMask);
    /// @notice A grant's expiry must be after now.
    /// @param expiresAt the expiry asked for
    /// @param chainTime the current block's timestamp
    error ExpiryNotInFuture(uint256 expiresAt, uint256 chainTime);
    /// @notice A borrower cannot grant consent to itself.
    /// @param account the borrower, who is also the viewer
    error SelfConsent(address account);
    /// @notice `borrower` has granted `viewer` nothing to revoke.
    /// @param borrower the borrower (the caller)
    /// @param viewer the viewer
    error NoConsent(address borrower, address viewer);
    /// @notice A regulator's access needs the hash of a stated legal basis.
    /// @param regulator the regulator (the caller)
    error EmptyLegalBasis(address regulator);

    // ----------------------------------------------------------------- events
    /// @notice `borrower` let `viewer` read `categories` until `expiresAt` (replacing any
    ///         earlier grant to that viewer).
    /// @param borrower the borrower
    /// @param viewer the viewer
    /// @param categories the category bits granted
    /// @param expiresAt the last second the grant counts
    event ConsentGranted(
        address indexed borrower, address indexed viewer, uint8 categories, uint256 expiresAt
    );
    /// @notice `borrower` withdrew every category from `viewer`.
    /// @param borrower the borrower
    /// @param viewer the viewer
    /// @param categories the category bits withdrawn
    event ConsentRevoked(address indexed borrower, address indexed viewer, uint8 categories);
    /// @notice A regulator accessed `categories` of `borrower`'s data under the legal basis
    ///         whose keccak256 is `legalBasisHash`.
    /// @param accessId the record's id
    /// @param regulator the regulator
    /// @param borrower the borrower whose data is accessed
    /// @param categories the category bits accessed
    /// @param legalBasisHash keccak256 of the stated legal basis
    event RegulatorAccessed(
        uint256 indexed accessId,
        address indexed regulator,
        address indexed borrower,
        uint8 categories,
        bytes32 legalBasisHash
    );

    // ------------------------------------------------------------ entry points
    /// @notice The caller (a borrower) lets `viewer` read `categories` until `expiresAt`
    ///         (inclusive), replacing any earlier grant to `viewer`.
    /// @dev Anyone, for their own data. Emits {ConsentGranted}.
    /// @param viewer the account allowed to read
    /// @param categories the category bits granted
    /// @param expiresAt the last second the grant counts
    function grantConsent(address viewer, uint8 categories, uint40 expiresAt) external;

    /// @notice The caller (a borrower) withdraws every category from `viewer` at once.
    /// @dev Anyone, for their own data; reverts with {NoConsent} when nothing is granted.
    ///      Emits {ConsentRevoked} with the categories withdrawn.
    /// @param viewer the viewer
    function revokeConsent(address viewer) external;

    /// @notice Records that the calling regulator accesses `categories` of `borrower`'s data
    ///         under the legal basis hashed in `legalBasisHash` (keccak256 of its text).
    /// @dev REGULATOR_ROLE only. Emits {RegulatorAccessed}; the vault checks that event.
    /// @param borrower the borrower whose data is accessed
    /// @param categories the category bits accessed
    /// @param legalBasisHash keccak256 of the stated legal basis
    /// @return accessId the record's id (ids start at 1)
    function recordRegulatorAccess(address borrower, uint8 categories, bytes32 legalBasisHash)
        external
        returns (uint256 accessId);

    /// @notice The grant of `borrower` to `viewer` as stored (it may have expired).
    /// @param borrower the borrower
    /// @param viewer the viewer
    function consent(address borrower, address viewer) external view returns (Consent memory);

    /// @notice Whether `viewer` may read every category in `categories` of `borrower`'s data
    ///         now (`block.timestamp <= expiresAt`).
    /// @param borrower the borrower
    /// @param viewer the viewer
    /// @param categories the category bits to read
    function hasConsent(address borrower, address viewer, uint8 categories)
        external
        view
        returns (bool);

    /// @notice Number of regulator accesses recorded (the highest access id).
    function regulatorAccessCount() external view returns (uint256);
}
