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
/// @dev Category bits: identity = 1, employment = 2, income = 4, repayment history = 8.
interface IConsentRegistry {
    // ----------------------------------------------------------------- errors
    error ZeroAddress();
    error InvalidCategories(uint256 categories, uint256 allowedMask);
    error ExpiryNotInFuture(uint256 expiresAt, uint256 chainTime);
    error SelfConsent(address account);
    error NoConsent(address borrower, address viewer);
    error EmptyLegalBasis(address regulator);

    // ----------------------------------------------------------------- events
    /// @notice `borrower` let `viewer` read `categories` until `expiresAt` (replacing any
    ///         earlier grant to that viewer).
    event ConsentGranted(
        address indexed borrower, address indexed viewer, uint8 categories, uint256 expiresAt
    );
    /// @notice `borrower` withdrew every category from `viewer`.
    event ConsentRevoked(address indexed borrower, address indexed viewer, uint8 categories);
    /// @notice A regulator accessed `categories` of `borrower`'s data under the legal basis
    ///         whose keccak256 is `legalBasisHash`.
    event RegulatorAccessed(
        uint256 indexed accessId,
        address indexed regulator,
        address indexed borrower,
        uint8 categories,
        bytes32 legalBasisHash
    );

    // ------------------------------------------------------------ entry points
    function grantConsent(address viewer, uint8 categories, uint40 expiresAt) external;
    function revokeConsent(address viewer) external;
    function recordRegulatorAccess(address borrower, uint8 categories, bytes32 legalBasisHash)
        external
        returns (uint256 accessId);

    function consent(address borrower, address viewer) external view returns (Consent memory);
    function hasConsent(address borrower, address viewer, uint8 categories)
        external
        view
        returns (bool);
    function regulatorAccessCount() external view returns (uint256);
}
