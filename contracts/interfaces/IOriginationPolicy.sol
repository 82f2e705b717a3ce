// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Origination policy: risk control at the door.
/// @notice A ledger with a policy set calls `checkOrigination` before every origination; the
///         policy reverts with a named error to refuse the loan (for example when the borrower
///         lacks valid attestations that the lender requires).
interface IOriginationPolicy {
    /// @notice Reverts, with an error that says why, when `lender` may not lend to `borrower`
    ///         now.
    /// @dev View; called by the ledger before every origination.
    /// @param lender the lender (the caller of `originate`)
    /// @param borrower the borrower of the loan
    function checkOrigination(address lender, address borrower) external view;
}
