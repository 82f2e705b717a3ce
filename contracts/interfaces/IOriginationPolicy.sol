// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Origination policy: risk control at the door.
/// @notice A ledger with a policy set calls `checkOrigination` before every origination; the
///         policy reverts with a named error to refuse the loan (for example when the borrower
///         lacks valid attestations that the lender requires).
interface IOriginationPolicy {
    /// @notice Reverts when `lender` may not lend to `borrower` now.
    function checkOrigination(address lender, address borrower) external view;
}
