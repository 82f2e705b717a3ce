// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DayCount, ILoanLedger} from "../interfaces/ILoanLedger.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanLimits
/// @notice The bounds on loan terms, checked at origination and again for restructured terms;
///         the ledger exposes each one as a public constant.
library LoanLimits {
    uint256 internal constant MAX_PRINCIPAL = type(uint96).max;
    uint256 internal constant MAX_INSTALLMENTS = 480;
    uint256 internal constant MIN_PERIOD = 1 days;
    uint256 internal constant MAX_PERIOD = 366 days;
    uint256 internal constant MAX_PERIOD_MONTHS = 12;
    uint256 internal constant MAX_RATE_BPS = 10_000;
    uint256 internal constant MAX_LATE_FEE_BPS = 2_500;
    uint256 internal constant MAX_GRACE = 90 days;
    uint256 internal constant MAX_DEFAULT_DAYS = 3650;

    /// @dev Reverts with {ILoanLedger.InvalidRate}, {ILoanLedger.InvalidInstallments},
    ///      {ILoanLedger.InvalidPeriod} or {ILoanLedger.DayCountNotSupported} when a
    ///      schedule's terms are out of bounds: a period is whole days (`months` zero) or 1..12
    ///      calendar months (`period` zero), 30/360 going with months and only with months.
    function validateSchedule(
        uint256 aprBps,
        uint256 installments,
        uint256 period,
        uint256 months,
        DayCount dayCount
    ) internal pure {
        if (aprBps > MAX_RATE_BPS) revert ILoanLedger.InvalidRate(aprBps, MAX_RATE_BPS);
        if (installments == 0 || installments > MAX_INSTALLMENTS) {
            revert ILoanLedger.InvalidInstallments(installments, MAX_INSTALLMENTS);
        }
        if (
            months == 0
                ? period < MIN_PERIOD || period > MAX_PERIOD || period % 1 days != 0
                : period != 0 || months > MAX_PERIOD_MONTHS
        ) revert ILoanLedger.InvalidPeriod(period, MIN_PERIOD, MAX_PERIOD);
        if ((months != 0) != (dayCount == DayCount.Thirty360)) {
            revert ILoanLedger.DayCountNotSupported(months, dayCount);
        }
    }

    /// @dev The largest principal whose scheduled principal plus interest (at most that of a
    ///      bullet loan with one more period for an odd first period, P (1 + r (m + 1))) fits
    ///      the 96-bit amounts the ledger stores; rounded down.
    function maxPrincipal(uint256 aprBps, uint256 installments, uint256 days_, DayCount dayCount)
        internal
        pure
        returns (uint256)
    {
        (uint256 rateNum, uint256 rateDen) = LoanSchedule.periodRate(aprBps, days_, dayCount);
        return (MAX_PRINCIPAL * rateDen) / (rateDen + rateNum * (installments + 1));
    }
}
