// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IAttestationPolicy} from "./interfaces/IAttestationPolicy.sol";
import {IAttestationRegistry} from "./interfaces/IAttestationRegistry.sol";
import {IOriginationPolicy} from "./interfaces/IOriginationPolicy.sol";

/// @title AttestationPolicy
/// @notice An origination policy for LoanLedger: each lender lists the claim types (for example
///         keccak256("income"), keccak256("employment")) a borrower must hold and the attesters
///         it trusts; `checkOrigination` reverts with {RequiredAttestationMissing} unless, for
///         every listed type, one trusted attester's newest attestation about the borrower is
///         valid in the registry (registered attester, unrevoked, unexpired). A lender without
///         requirements is not restricted.
///
/// Who sets requirements: the lender itself (`setRequirements`: they only restrict its own
/// loans) and a holder of POLICY_ADMIN_ROLE (`setFloor`: a risk officer imposing a floor on a
/// lender). Both apply; a lender cannot lift its floor.
/// @dev Storage: per lender, two dynamic arrays (at most MAX_CLAIM_TYPES and
///      MAX_TRUSTED_ATTESTERS entries) so that a check costs a bounded number of reads.
contract AttestationPolicy is IAttestationPolicy, AccessControl {
    /// @notice Role allowed to set any lender's requirements.
    bytes32 public constant POLICY_ADMIN_ROLE = keccak256("POLICY_ADMIN_ROLE");
    uint256 public constant MAX_CLAIM_TYPES = 8;
    uint256 public constant MAX_TRUSTED_ATTESTERS = 8;

    /// @notice The registry whose attestations this policy reads.
    IAttestationRegistry public immutable registry;

    struct Requirement {
        bytes32[] claimTypes;
        address[] trustedAttesters;
    }

    mapping(address lender => Requirement) private _requirements;
    mapping(address lender => Requirement) private _floors;

    /// @param admin holder of DEFAULT_ADMIN_ROLE and POLICY_ADMIN_ROLE
    /// @param registry_ the attestation registry
    constructor(address admin, IAttestationRegistry registry_) {
        if (admin == address(0) || address(registry_) == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ADMIN_ROLE, admin);
        registry = registry_;
    }

    /// @inheritdoc IAttestationPolicy
    function setRequirements(
        address lender,
        bytes32[] calldata claimTypes,
        address[] calldata trustedAttesters
    ) external {
        if (lender == address(0)) revert ZeroAddress();
        if (msg.sender != lender) revert NotLenderOrAdmin(msg.sender, lender);
        _set(_requirements[lender], lender, claimTypes, trustedAttesters);
        emit RequirementsSet(lender, msg.sender, claimTypes, trustedAttesters);
    }

    /// @inheritdoc IAttestationPolicy
    function setFloor(
        address lender,
        bytes32[] calldata claimTypes,
        address[] calldata trustedAttesters
    ) external onlyRole(POLICY_ADMIN_ROLE) {
        if (lender == address(0)) revert ZeroAddress();
        _set(_floors[lender], lender, claimTypes, trustedAttesters);
        emit FloorSet(lender, msg.sender, claimTypes, trustedAttesters);
    }

    function _set(
        Requirement storage r,
        address lender,
        bytes32[] calldata claimTypes,
        address[] calldata trustedAttesters
    ) private {
        if (claimTypes.length > MAX_CLAIM_TYPES) {
            revert TooManyRequirements(claimTypes.length, MAX_CLAIM_TYPES);
        }
        if (trustedAttesters.length > MAX_TRUSTED_ATTESTERS) {
            revert TooManyRequirements(trustedAttesters.length, MAX_TRUSTED_ATTESTERS);
        }
        if (claimTypes.length != 0 && trustedAttesters.length == 0) revert NoTrustedAttesters(lender);
        r.claimTypes = claimTypes;
        r.trustedAttesters = trustedAttesters;
    }

    /// @inheritdoc IOriginationPolicy
    /// @dev Reverts with {RequiredAttestationMissing} when `borrower` lacks a valid attestation
    ///      of a type `lender` requires from an attester `lender` trusts.
    function checkOrigination(address lender, address borrower)
        external
        view
        override(IOriginationPolicy)
    {
        _check(_floors[lender], lender, borrower);
        _check(_requirements[lender], lender, borrower);
    }

    function _check(Requirement storage r, address lender, address borrower) private view {
        uint256 types = r.claimTypes.length;
        uint256 attesters = r.trustedAttesters.length;
        for (uint256 i; i < types; ++i) {
            bytes32 claimType = r.claimTypes[i];
            uint256 newest;
            bool satisfied;
            for (uint256 j; j < attesters && !satisfied; ++j) {
                uint256 id = registry.latestAttestationId(borrower, claimType, r.trustedAttesters[j]);
                if (id == 0) continue;
                if (id > newest) newest = id;
                satisfied = registry.isValid(id);
            }
            if (!satisfied) revert RequiredAttestationMissing(lender, borrower, claimType, newest);
        }
    }

    /// @inheritdoc IAttestationPolicy
    function floor(address lender)
        external
        view
        returns (bytes32[] memory claimTypes, address[] memory trustedAttesters)
    {
        Requirement storage r = _floors[lender];
        return (r.claimTypes, r.trustedAttesters);
    }

    /// @inheritdoc IAttestationPolicy
    function requirements(address lender)
        external
        view
        returns (bytes32[] memory claimTypes, address[] memory trustedAttesters)
    {
        Requirement storage r = _requirements[lender];
        return (r.claimTypes, r.trustedAttesters);
    }
}
