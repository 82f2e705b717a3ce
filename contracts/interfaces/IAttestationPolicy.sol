// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOriginationPolicy} from "./IOriginationPolicy.sol";

/// @title Attestation policy interface: per lender, the claim types a borrower must hold valid
///        attestations of, from attesters the lender trusts, before the lender may lend.
interface IAttestationPolicy is IOriginationPolicy {
    // ----------------------------------------------------------------- errors
    /// @notice An address argument (admin, registry, lender) is the zero address.
    error ZeroAddress();
    /// @notice Only the lender itself may set its own requirements (a policy admin sets a floor
    ///         with `setFloor`).
    /// @param caller the account that tried
    /// @param lender the lender whose requirements it tried to set
    error NotLenderOrAdmin(address caller, address lender);
    /// @notice More claim types or trusted attesters than a check may read.
    /// @param count the number given
    /// @param max the most allowed
    error TooManyRequirements(uint256 count, uint256 max);
    /// @notice Claim types were required but no attester is trusted to attest them.
    /// @param lender the lender
    error NoTrustedAttesters(address lender);
    /// @notice `borrower` holds no valid (registered attester, unrevoked, unexpired)
    ///         attestation of `claimType` from any attester `lender` trusts.
    ///         `latestAttestationId` is the newest such attestation found (0: none at all), to
    ///         look up why it does not count (expired or revoked).
    /// @param lender the lender
    /// @param borrower the borrower
    /// @param claimType the claim type missing
    /// @param latestAttestationId the newest attestation of that type from a trusted attester
    error RequiredAttestationMissing(
        address lender, address borrower, bytes32 claimType, uint256 latestAttestationId
    );

    // ----------------------------------------------------------------- events
    /// @notice `lender`'s requirements were replaced (empty `claimTypes`: none).
    /// @param lender the lender
    /// @param setBy the account that set them (the lender or a policy admin)
    /// @param claimTypes the claim types now required
    /// @param trustedAttesters the attesters now trusted
    event RequirementsSet(
        address indexed lender, address indexed setBy, bytes32[] claimTypes, address[] trustedAttesters
    );

    /// @notice A policy admin replaced `lender`'s floor: requirements the lender cannot lift.
    /// @param lender the lender
    /// @param setBy the policy admin
    /// @param claimTypes the claim types now required at least
    /// @param trustedAttesters the attesters trusted for them
    event FloorSet(
        address indexed lender, address indexed setBy, bytes32[] claimTypes, address[] trustedAttesters
    );

    // ------------------------------------------------------------ entry points
    /// @notice Replaces `lender`'s requirements: borrowers need a valid attestation of every
    ///         type in `claimTypes` from one of `trustedAttesters`. Empty `claimTypes` lifts
    ///         them.
    /// @dev The lender itself only. Emits {RequirementsSet}. The floor a policy admin set
    ///      ({setFloor}) applies as well and is not affected.
    /// @param lender the lender
    /// @param claimTypes the claim types to require (at most MAX_CLAIM_TYPES)
    /// @param trustedAttesters the attesters to trust (at most MAX_TRUSTED_ATTESTERS)
    function setRequirements(
        address lender,
        bytes32[] calldata claimTypes,
        address[] calldata trustedAttesters
    ) external;

    /// @notice Replaces `lender`'s floor: requirements checked beside the lender's own, which
    ///         the lender cannot lift. Empty `claimTypes` lifts the floor.
    /// @dev POLICY_ADMIN_ROLE only. Emits {FloorSet}.
    /// @param lender the lender
    /// @param claimTypes the claim types to require (at most MAX_CLAIM_TYPES)
    /// @param trustedAttesters the attesters to trust for them (at most MAX_TRUSTED_ATTESTERS)
    function setFloor(
        address lender,
        bytes32[] calldata claimTypes,
        address[] calldata trustedAttesters
    ) external;

    /// @notice The floor a policy admin set for `lender`.
    /// @param lender the lender
    /// @return claimTypes the claim types required
    /// @return trustedAttesters the attesters trusted
    function floor(address lender)
        external
        view
        returns (bytes32[] memory claimTypes, address[] memory trustedAttesters);

    /// @notice `lender`'s own required claim types and trusted attesters.
    /// @param lender the lender
    /// @return claimTypes the claim types required
    /// @return trustedAttesters the attesters trusted
    function requirements(address lender)
        external
        view
        returns (bytes32[] memory claimTypes, address[] memory trustedAttesters);
}
