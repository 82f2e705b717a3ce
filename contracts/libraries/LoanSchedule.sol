// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ScheduleKind} from "../interfaces/ILoanLedger.sol";

/// @title LoanSchedule
/// @notice Repayment schedules in closed form: cumulative principal and interest due through
///         installment `j` of a segment, with no loop over installments and no storage.
/// @dev A segment amortises `principal` over `count` installments of `period` seconds at
///      `aprBps`; the periodic rate is r = aprBps * period / (10_000 * 365 days).
///
///      Rounding (always in the borrower's favour): both cumulative amounts are rounded DOWN
///      from their exact values, so through any installment the borrower never owes more
///      principal or interest than the exact schedule, each installment's principal and
///      interest part is within one unit of the exact one, and the principal parts sum to
///      exactly `principal` (cumulative principal through the last installment is exact).
///
///      Annuity: with v = 1 / (1 + r), the balance after j installments is
///      B(j) = P (1 - v^(m-j)) / (1 - v^m) and the constant installment A = P r / (1 - v^m), so
///      cumulative principal = P (v^(m-j) - v^m) / (1 - v^m) and cumulative interest
///      = P (j r - (v^(m-j) - v^m)) / (1 - v^m). Powers of v are 36-decimal fixed point.
///      Equal principal: cumulative principal P j / m, cumulative interest
///      P r j (2m - j + 1) / (2m) (exact rationals). Bullet: principal P at j = m, interest P r j.
library LoanSchedule {
    /// @dev Fixed-point scale of v and r for annuities.
    uint256 internal constant SCALE = 1e36;
    uint256 internal constant YEAR = 365 days;
    uint256 internal constant BPS = 10_000;
    /// @dev Denominator of the periodic rate: r = rateNum / RATE_DEN.
    uint256 internal constant RATE_DEN = BPS * YEAR;

    /// @notice A schedule segment prepared for repeated evaluation in one call.
    struct Curve {
        ScheduleKind kind;
        uint256 principal;
        uint256 count;
        uint256 rateNum;
        uint256 v;
        uint256 vm;
        uint256 rate;
    }

    /// @notice Prepares a segment; the annuity constants are computed once here.
    function curve(ScheduleKind kind, uint256 principal, uint256 count, uint256 aprBps, uint256 period)
        internal
        pure
        returns (Curve memory c)
    {
        c.kind = kind;
        c.principal = principal;
        c.count = count;
        c.rateNum = aprBps * period;
        if (kind == ScheduleKind.Annuity && c.rateNum != 0) {
            // v rounded down, r rounded down: both keep amounts owed at or under exact.
            c.v = (SCALE * RATE_DEN) / (RATE_DEN + c.rateNum);
            c.vm = pow(c.v, count);
            c.rate = (SCALE * c.rateNum) / RATE_DEN;
        }
    }

    /// @notice Cumulative principal and interest due through installment `j` (0..count) of
    ///         the segment, each rounded down.
    function cumulative(Curve memory c, uint256 j)
        internal
        pure
        returns (uint256 principalDue, uint256 interestDue)
    {
        if (j > c.count) j = c.count;
        uint256 p = c.principal;
        uint256 m = c.count;
        if (j == 0 || m == 0) return (0, 0);
        if (c.rateNum == 0) {
            // Interest-free: equal principal for annuity and equal-principal kinds.
            principalDue = c.kind == ScheduleKind.Bullet ? (j == m ? p : 0) : (p * j) / m;
            return (principalDue, 0);
        }
        if (c.kind == ScheduleKind.Annuity) {
            // Bounds: p < 2^96 and every fixed-point factor <= count * SCALE < 2^129,
            // so no product below reaches 2^256.
            uint256 dv = pow(c.v, m - j);
            dv = dv > c.vm ? dv - c.vm : 0;
            uint256 denom = SCALE - c.vm;
            principalDue = j == m ? p : (p * dv) / denom;
            uint256 jr = j * c.rate;
            interestDue = jr > dv ? (p * (jr - dv)) / denom : 0;
        } else if (c.kind == ScheduleKind.EqualPrincipal) {
            principalDue = (p * j) / m;
            interestDue = (p * c.rateNum * j * (2 * m - j + 1)) / (2 * m * RATE_DEN);
        } else {
            principalDue = j == m ? p : 0;
            interestDue = (p * c.rateNum * j) / RATE_DEN;
        }
    }

    /// @notice Principal and interest parts of installment `j` (1..count) of the segment.
    function part(Curve memory c, uint256 j) internal pure returns (uint256 principal, uint256 interest) {
        (uint256 p1, uint256 i1) = cumulative(c, j);
        (uint256 p0, uint256 i0) = cumulative(c, j - 1);
        principal = p1 > p0 ? p1 - p0 : 0;
        interest = i1 > i0 ? i1 - i0 : 0;
    }

    /// @notice x^e in SCALE fixed point for x <= SCALE, rounded down at every step.
    /// @dev Square-and-multiply: at most 9 squarings for the exponents used here (< 512).
    ///      x, r <= SCALE = 1e36, so x * x <= 1e72 < 2^256.
    function pow(uint256 x, uint256 e) internal pure returns (uint256 r) {
        if (e == 0) return SCALE;
        unchecked {
            r = e & 1 != 0 ? x : SCALE;
            for (e >>= 1; e != 0; e >>= 1) {
                x = (x * x) / SCALE;
                if (e & 1 != 0) r = (r * x) / SCALE;
            }
        }
    }
}
