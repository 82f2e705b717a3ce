// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {ILoanLedger} from "../interfaces/ILoanLedger.sol";

/// @title LoanTokens
/// @notice The check a token passes once, at the first origination in it: a rarely used path
///         of the ledger kept out of its bytecode.
/// @dev An external (linked) library, called by DELEGATECALL from the ledger's `originate`
///      only when the token is not registered yet.
library LoanTokens {
    /// @notice The decimals of `token`; reverts with {ILoanLedger.UnsupportedToken} unless
    ///         `token` is a contract whose `decimals()` answers at most 18.
    function decimalsOf(address token) external view returns (uint8 decimals) {
        // A high-level call to an address without code reverts before `try` can catch it.
        if (token.code.length == 0) revert ILoanLedger.UnsupportedToken(token);
        try IERC20Metadata(token).decimals() returns (uint8 d) {
            decimals = d;
        } catch {
            revert ILoanLedger.UnsupportedToken(token);
        }
        if (decimals > 18) revert ILoanLedger.UnsupportedToken(token);
    }
}
