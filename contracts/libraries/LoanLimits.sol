// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ILoanLedger} from "../interfaces/ILoanLedger.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanLimits
/// @notice The bounds on loan terms, checked at origination and again for restructured terms;
///         the ledger exposes each one as a public constant.
library LoanLimits {
    uint256 internal constant MAX_PRINCIPAL = type(uint96).max;
    uint256 internal constant MAX_INSTALLMENTS = 480;
    uint256 internal constant MIN_PERIOD = 1 days;
    uint256 internal constant MAX_PERIOD = 366 days;
    uint256 internal constant MAX_RATE_BPS = 10_000;
    uint256 internal constant MAX_LATE_FEE_BPS = 2_500;
    uint256 internal constant MAX_GRACE = 90 days;
    uint256 internal constant MAX_DEFAULT_DAYS = 3650;

    /// @dev Reverts with {ILoanLedger.InvalidRate}, {ILoanLedger.InvalidInstallments} or
    ///      {ILoanLedger.InvalidPeriod} when a schedule's terms are out of bounds.
    function validateSchedule(uint256 aprBps, uint256 installments, uint256 period)
        internal
        pure
    {
        if (aprBps > MAX_RATE_BPS) revert ILoanLedger.InvalidRate(aprBps, MAX_RATE_BPS);
        if (installments == 0 || installments > MAX_INSTALLMENTS) {
            revert ILoanLedger.InvalidInstallments(installments, MAX_INSTALLMENTS);
        }
        if (period < MIN_PERIOD || period > MAX_PERIOD) {
            revert ILoanLedger.InvalidPeriod(period, MIN_PERIOD, MAX_PERIOD);
        }
    }

    /// @dev The largest principal whose scheduled principal plus interest (at most that of a
    ///      bullet loan, P (1 + r m)) fits the 96-bit amounts the ledger stores; rounded down.
    function maxPrincipal(uint256 aprBps, uint256 installments, uint256 period)
        internal
        pure
        returns (uint256)
    {
        uint256 rateDen = LoanSchedule.RATE_DEN;
        return (MAX_PRINCIPAL * rateDen) / (rateDen + aprBps * period * installments);
    }
}
