// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOriginationPolicy} from "./IOriginationPolicy.sol";

/// @title Attestation policy interface: per lender, the claim types a borrower must hold valid
///        attestations of, from attesters the lender trusts, before the lender may lend.
interface IAttestationPolicy is IOriginationPolicy {
    // ----------------------------------------------------------------- errors
    error ZeroAddress();
    /// @notice Only the lender itself or a policy admin may set a lender's requirements.
    error NotLenderOrAdmin(address caller, address lender);
    error TooManyRequirements(uint256 count, uint256 max);
    error NoTrustedAttesters(address lender);
    /// @notice `borrower` holds no valid (registered attester, unrevoked, unexpired)
    ///         attestation of `claimType` from any attester `lender` trusts.
    ///         `latestAttestationId` is the newest such attestation found (0: none at all), to
    ///         look up why it does not count (expired or revoked).
    error RequiredAttestationMissing(
        address lender, address borrower, bytes32 claimType, uint256 latestAttestationId
    );

    // ----------------------------------------------------------------- events
    /// @notice `lender`'s requirements were replaced (empty `claimTypes`: none).
    event RequirementsSet(
        address indexed lender, address indexed setBy, bytes32[] claimTypes, address[] trustedAttesters
    );

    // ------------------------------------------------------------ entry points
    function setRequirements(
        address lender,
        bytes32[] calldata claimTypes,
        address[] calldata trustedAttesters
    ) external;
    function requirements(address lender)
        external
        view
        returns (bytes32[] memory claimTypes, address[] memory trustedAttesters);
}
