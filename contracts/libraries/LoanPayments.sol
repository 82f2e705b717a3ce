// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {ILoanLedger} from "../interfaces/ILoanLedger.sol";

/// @title LoanPayments
/// @notice Moving a repayment to the lender so that the lender's side can never block it.
/// @dev Internal library: inlined into the ledger (the on-time path) and LoanRepayments.
library LoanPayments {
    using SafeERC20 for IERC20;

    /// @dev Pulls `amount` from the payer to the lender; when the token refuses that transfer
    ///      (for example a blocklist naming the lender), pulls it into the ledger instead and
    ///      holds it as the lender's claimable balance ({ILoanLedger.RepaymentHeld}). A payer
    ///      who cannot pay still reverts.
    function collect(
        mapping(address lender => mapping(address token => uint256 amount)) storage claimable,
        uint256 loanId,
        address token,
        address lender,
        uint256 amount
    ) internal {
        if (IERC20(token).trySafeTransferFrom(msg.sender, lender, amount)) return;
        uint256 held = claimable[lender][token] + amount;
        claimable[lender][token] = held;
        emit ILoanLedger.RepaymentHeld(loanId, lender, token, amount, held);
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
    }
}
