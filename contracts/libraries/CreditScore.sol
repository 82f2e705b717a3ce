// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CreditRecord, ScoreFactors} from "../interfaces/ICreditRegistry.sol";

/// @title CreditScore
/// @notice The published formula of the registry's credit score, 300 to 850 (0: no history),
///         from a credit record's figures alone, so anyone can recompute it from the chain:
///         300 + onTime + history + closed + standing - worst - misses - defaults, kept
///         within 300..850, where
///         - onTime (0..250): 250 x the share of reported installments paid on time (in grace
///           counts as on time), of paid on time + paid late + missed;
///         - history (0..100): 100 x installments reported / 48, at most 100;
///         - closed (0..100): 20 a loan closed, at most 5 loans;
///         - standing (0..100): days past due now: 100 current, 60 at 1-30, 30 at 31-60, 10
///           at 61-90, 0 beyond;
///         - worst (0..50, deducted): 50 x the worst days past due ever / 180, at most 50;
///         - misses (0..50, deducted): 5 a missed installment, at most 10;
///         - defaults (0..300, deducted): 150 a default, at most 2.
///         Forbearances are not held against the borrower. Integer arithmetic, rounding down.
/// @dev Pure: no storage, no loop. Inputs are the record's saturating counters, so nothing
///      here overflows.
library CreditScore {
    uint256 internal constant MIN_SCORE = 300;
    uint256 internal constant MAX_SCORE = 850;

    /// @notice The score of `r` and its parts; 0 and no parts when no loan was ever reported.
    function scoreOf(CreditRecord memory r)
        internal
        pure
        returns (uint256 score, ScoreFactors memory f)
    {
        if (r.loansOpened == 0) return (0, f);
        uint256 reported = uint256(r.paidOnTime) + r.paidLate + r.missed;
        if (reported != 0) f.onTime = uint16((250 * uint256(r.paidOnTime)) / reported);
        f.history = uint16(reported >= 48 ? 100 : (100 * reported) / 48);
        f.closed = uint16(r.loansClosed >= 5 ? 100 : 20 * uint256(r.loansClosed));
        f.standing = _standing(r.currentDaysPastDue);
        f.worst = uint16(r.maxDaysPastDue >= 180 ? 50 : (50 * uint256(r.maxDaysPastDue)) / 180);
        f.misses = uint16(r.missed >= 10 ? 50 : 5 * uint256(r.missed));
        f.defaults = uint16(r.defaults >= 2 ? 300 : 150 * uint256(r.defaults));
        uint256 plus = MIN_SCORE + f.onTime + f.history + f.closed + f.standing;
        uint256 minus = uint256(f.worst) + f.misses + f.defaults;
        score = plus > MIN_SCORE + minus ? plus - minus : MIN_SCORE;
        if (score > MAX_SCORE) score = MAX_SCORE;
    }

    function _standing(uint256 daysPastDue) private pure returns (uint16) {
        if (daysPastDue == 0) return 100;
        if (daysPastDue <= 30) return 60;
        if (daysPastDue <= 60) return 30;
        if (daysPastDue <= 90) return 10;
        return 0;
    }
}
