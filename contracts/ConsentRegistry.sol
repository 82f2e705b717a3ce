// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {Consent, IConsentRegistry} from "./interfaces/IConsentRegistry.sol";

/// @title ConsentRegistry
/// @notice Borrowers decide who may read which categories of their off-chain data (the vault
///         checks this registry before decrypting anything). Categories are bits: identity = 1,
///         employment = 2, income = 4, repayment history = 8, contact (the e-mail address notices
///         are sent to) = 16. A grant lasts until `expiresAt`
///         inclusive and can be revoked at any time.
///
/// Regulators (REGULATOR_ROLE) need no consent, but cannot read silently: every access is first
/// recorded here with the keccak256 of the stated legal basis, and the vault accepts a regulator
/// read only against such a record.
/// @dev Storage: `_consents[borrower][viewer]` one slot (see {Consent}); `_regulatorAccessCount`.
contract ConsentRegistry is IConsentRegistry, AccessControl {
    /// @notice Role whose holders may access data under a recorded legal basis.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    uint8 public constant IDENTITY = 1;
    uint8 public constant EMPLOYMENT = 2;
    uint8 public constant INCOME = 4;
    uint8 public constant REPAYMENT_HISTORY = 8;
    uint8 public constant CONTACT = 16;
    uint8 public constant ALL_CATEGORIES = 31;

    mapping(address borrower => mapping(address viewer => Consent)) private _consents;
    uint256 private _regulatorAccessCount;

    /// @param admin holder of DEFAULT_ADMIN_ROLE (grants REGULATOR_ROLE)
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IConsentRegistry
    function grantConsent(address viewer, uint8 categories, uint40 expiresAt) external {
        if (viewer == address(0)) revert ZeroAddress();
        if (viewer == msg.sender) revert SelfConsent(viewer);
        if (categories == 0 || categories & ~ALL_CATEGORIES != 0) {
            revert InvalidCategories(categories, ALL_CATEGORIES);
        }
        if (expiresAt <= block.timestamp) revert ExpiryNotInFuture(expiresAt, block.timestamp);
        _consents[msg.sender][viewer] =
            Consent({categories: categories, grantedAt: SafeCast.toUint40(block.timestamp), expiresAt: expiresAt});
        emit ConsentGranted(msg.sender, viewer, categories, expiresAt);
    }

    /// @inheritdoc IConsentRegistry
    function revokeConsent(address viewer) external {
        Consent storage c = _consents[msg.sender][viewer];
        uint8 categories = c.categories;
        if (categories == 0) revert NoConsent(msg.sender, viewer);
        delete _consents[msg.sender][viewer];
        emit ConsentRevoked(msg.sender, viewer, categories);
    }

    /// @inheritdoc IConsentRegistry
    function recordRegulatorAccess(address borrower, uint8 categories, bytes32 legalBasisHash)
        external
        onlyRole(REGULATOR_ROLE)
        returns (uint256 accessId)
    {
        if (borrower == address(0)) revert ZeroAddress();
        if (categories == 0 || categories & ~ALL_CATEGORIES != 0) {
            revert InvalidCategories(categories, ALL_CATEGORIES);
        }
        if (legalBasisHash == bytes32(0)) revert EmptyLegalBasis(msg.sender);
        accessId = ++_regulatorAccessCount;
        emit RegulatorAccessed(accessId, msg.sender, borrower, categories, legalBasisHash);
    }

    /// @inheritdoc IConsentRegistry
    function consent(address borrower, address viewer) external view returns (Consent memory) {
        return _consents[borrower][viewer];
    }

    /// @inheritdoc IConsentRegistry
    function hasConsent(address borrower, address viewer, uint8 categories)
        external
        view
        returns (bool)
    {
        Consent memory c = _consents[borrower][viewer];
        return categories != 0 && c.categories & categories == categories
            && block.timestamp <= c.expiresAt;
    }

    /// @inheritdoc IConsentRegistry
    function regulatorAccessCount() external view returns (uint256) {
        return _regulatorAccessCount;
    }
}
