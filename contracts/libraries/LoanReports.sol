// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {ILoanLedger} from "../interfaces/ILoanLedger.sol";

/// @title LoanReports
/// @notice Reports to the credit registry that can never block the servicing event they carry:
///         a registry that refuses (a revoked reporter role, a paused or broken registry) is
///         recorded in {ILoanLedger.CreditReportFailed} and the ledger carries on.
/// @dev Internal library: inlined into the ledger and its linked libraries. A call that failed
///      because the caller left too little gas for it (EIP-150 forwards 63/64) reverts the
///      whole transaction with {ILoanLedger.InsufficientGas}, so nobody can skip a report by
///      choosing the gas limit.
library LoanReports {
    /// @dev Calls `registry` with `data` (an `abi.encodeCall` of an {ICreditRegistry} report).
    function send(ICreditRegistry registry, uint256 loanId, bytes memory data) internal {
        uint256 gasBefore = gasleft();
        (bool ok, bytes memory reason) = address(registry).call(data);
        if (ok) return;
        if (gasleft() <= gasBefore / 64) revert ILoanLedger.InsufficientGas();
        emit ILoanLedger.CreditReportFailed(loanId, bytes4(data), reason);
    }

    /// @dev Reports loan `loanId`'s days past due after grace and newly missed installments.
    function delinquency(
        ICreditRegistry registry,
        address borrower,
        uint256 loanId,
        uint256 missed,
        uint256 daysPastDue
    ) internal {
        send(
            registry,
            loanId,
            abi.encodeCall(ICreditRegistry.reportDelinquency, (borrower, loanId, missed, daysPastDue))
        );
    }

    /// @dev Reports a repayment on loan `loanId` (`amount` in 18-decimal units).
    function repayment(
        ICreditRegistry registry,
        address borrower,
        uint256 loanId,
        uint256 onTime,
        uint256 late,
        uint256 amount,
        bool closed
    ) internal {
        send(
            registry,
            loanId,
            abi.encodeCall(
                ICreditRegistry.reportRepayment, (borrower, loanId, onTime, late, amount, closed)
            )
        );
    }
}
