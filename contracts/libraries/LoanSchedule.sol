// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DayCount, ScheduleKind} from "../interfaces/ILoanLedger.sol";

/// @title LoanSchedule
/// @notice Repayment schedules in closed form: cumulative principal and interest due through
///         installment `j` of a segment, with no loop over installments and no storage.
/// @dev A segment amortises `principal` over `count` installments at the periodic rate
///      r = rateNum / rateDen (aprBps times the period's day-count days, over 10,000 times the
///      convention's year of 360 or 365 days). Its first `io` installments are interest only
///      (P r each); the other n = count - io amortise. `odd / rateDen` is added to the interest
///      of the first installment (and so to every cumulative amount from it on): the interest
///      of a first period longer or shorter than a regular one (`odd` = P aprBps oddDays).
///      `unit` is the rounding unit of installment amounts.
///
///      Unrounded (unit 1), both cumulative amounts are rounded DOWN from their exact values,
///      so through any installment the borrower never owes more principal or interest than
///      the exact schedule, and the principal parts sum to exactly `principal`.
///      Annuity: with v = 1 / (1 + r), the balance after i amortising installments is
///      B(i) = P (1 - v^(n-i)) / (1 - v^n) and the installment A = P r / (1 - v^n), so
///      cumulative principal = P (v^(n-i) - v^n) / (1 - v^n) and cumulative interest
///      = P (i r - (v^(n-i) - v^n)) / (1 - v^n). Powers of v are 36-decimal fixed point.
///      Equal principal: cumulative principal P i / n, cumulative interest
///      P r i (2n - i + 1) / (2n). Bullet: principal P at the last installment, interest P r j.
///
///      Rounded (unit > 1): an annuity's installment is A rounded to the nearest unit (half
///      up; down when rounding up could leave the last installment negative: when
///      (A' - A)(n - 1) >= A v^n), every installment but the last is exactly A', split as the
///      textbook table splits it: the balance grows by r and falls by A', so cumulative
///      principal = (A' - P r)((1 + r)^i - 1) / r, rounded up (interest = i A' less that, so
///      rounded down); the last installment pays the balance and its period's interest. For
///      the other kinds, and the interest-only and odd parts, every cumulative amount before
///      the last installment is rounded down to a whole unit, so each installment is too. A
///      rounded annuity falls back to the unrounded one when A' would not cover a period's
///      interest or (1 + r)^n exceeds 2^64.
library LoanSchedule {
    /// @dev Fixed-point scale of v and r for annuities.
    uint256 internal constant SCALE = 1e36;
    uint256 internal constant YEAR = 365 days;
    uint256 internal constant BPS = 10_000;
    /// @dev Denominator of penalty interest, by the second: aprBps * seconds / RATE_DEN.
    uint256 internal constant RATE_DEN = BPS * YEAR;

    /// @notice A schedule segment prepared for repeated evaluation in one call.
    struct Curve {
        ScheduleKind kind;
        uint256 principal;
        uint256 count;
        uint256 rateNum;
        uint256 rateDen;
        uint256 io;
        uint256 unit;
        int256 odd;
        // annuity constants
        uint256 v;
        uint256 vn;
        uint256 rate;
        uint256 installment; // rounded annuity installment (0: unrounded)
        uint256 excess; // A' * rateDen - P * rateNum, for the rounded annuity
    }

    /// @notice The periodic rate rateNum / rateDen of `aprBps` over a period of `days`
    ///         day-count days: over a year of 365 days (actual/365) or 360 (the others).
    function periodRate(uint256 aprBps, uint256 days_, DayCount dayCount)
        internal
        pure
        returns (uint256 rateNum, uint256 rateDen)
    {
        rateNum = aprBps * days_;
        rateDen = BPS * (dayCount == DayCount.Actual365 ? 365 : 360);
    }

    /// @notice Prepares a segment; the annuity constants are computed once here. The odd
    ///         first period's interest (`odd`) is set apart: it changes no constant.
    ///         `installment`: the rounded annuity installment when already derived (0: derive
    ///         it here when `unit > 1`).
    function curve(
        ScheduleKind kind,
        uint256 principal,
        uint256 count,
        uint256 rateNum,
        uint256 rateDen,
        uint256 io,
        uint256 unit,
        uint256 installment
    ) internal pure returns (Curve memory c) {
        unchecked {
            c.kind = kind;
            c.principal = principal;
            c.count = count;
            c.rateNum = rateNum;
            c.rateDen = rateDen;
            c.io = io < count ? io : 0;
            c.unit = unit;
            if (kind == ScheduleKind.Annuity && rateNum != 0 && count != 0) {
                // v rounded down, r rounded down: both keep amounts owed at or under exact.
                c.v = (SCALE * rateDen) / (rateDen + rateNum);
                if (installment != 0) {
                    // Derived before (by _roundInstallment, from these same terms).
                    c.installment = installment;
                    c.excess = installment * rateDen - principal * rateNum;
                } else {
                    c.rate = (SCALE * rateNum) / rateDen;
                    c.vn = pow(c.v, count - c.io);
                    if (unit > 1 && c.vn > SCALE >> 64) _roundInstallment(c);
                }
            }
        }
    }

    /// @dev The rounded annuity installment A' (see the library's notes), or none.
    function _roundInstallment(Curve memory c) private pure {
        unchecked {
            uint256 p = c.principal;
            uint256 n = c.count - c.io;
            uint256 exact = (p * c.rate) / (SCALE - c.vn);
            uint256 a = ((exact + c.unit / 2) / c.unit) * c.unit;
            if (a > exact && (a - exact) * (n - 1) * SCALE >= exact * c.vn) a -= c.unit;
            if (a * c.rateDen <= p * c.rateNum) return;
            c.installment = a;
            c.excess = a * c.rateDen - p * c.rateNum;
        }
    }

    /// @notice Cumulative principal and interest due through installment `j` (0..count) of
    ///         the segment.
    function cumulative(Curve memory c, uint256 j)
        internal
        pure
        returns (uint256 principalDue, uint256 interestDue)
    {
        unchecked {
            if (j > c.count) j = c.count;
            if (j == 0 || c.count == 0) return (0, 0);
            if (c.io == 0 && c.kind == ScheduleKind.Annuity && c.rateNum != 0) {
                // The common case: an annuity from its first installment.
                (principalDue, interestDue) = _annuity(c, j, c.count);
                if (c.odd != 0) interestDue = _interest(c, 0, interestDue, j == c.count);
                return (principalDue, interestDue);
            }
            uint256 p = c.principal;
            uint256 io = c.io;
            // Interest-only installments first (j <= io), then the amortising part i = j - io.
            uint256 ioPart = j < io ? j : io;
            uint256 i = j - ioPart;
            uint256 n = c.count - io;
            uint256 num; // interest-only, equal-principal or bullet interest, times rateDen
            if (c.kind == ScheduleKind.Bullet) {
                principalDue = j == c.count ? p : 0;
                num = p * c.rateNum * j;
            } else if (c.rateNum == 0) {
                principalDue = i == n ? p : _floor((p * i) / n, c.unit);
                return (principalDue, 0);
            } else {
                num = p * c.rateNum * ioPart;
                if (c.kind == ScheduleKind.EqualPrincipal) {
                    principalDue = i == n ? p : _floor((p * i) / n, c.unit);
                    // Interest on the falling balance, over the common denominator 2n.
                    num = num * 2 * n + p * c.rateNum * i * (2 * n - i + 1);
                    num /= 2 * n;
                }
            }
            uint256 amortised; // interest of the amortising part of an annuity
            if (c.kind == ScheduleKind.Annuity && i != 0) {
                (principalDue, amortised) = _annuity(c, i, n);
            }
            interestDue = _interest(c, num, amortised, j == c.count);
        }
    }

    /// @dev Cumulative interest: `(num + odd) / rateDen` (the interest-only, equal-principal or
    ///      bullet parts and the odd first period's), rounded down to a whole unit unless
    ///      `last`, plus `amortised` (an annuity's, whole installments already); never below
    ///      zero.
    function _interest(Curve memory c, uint256 num, uint256 amortised, bool last)
        private
        pure
        returns (uint256)
    {
        unchecked {
            // Every term is below 2^200 in magnitude: no overflow. One division, rounded down
            // (towards minus infinity).
            int256 n = int256(num) + c.odd;
            int256 d = int256(c.rateDen);
            int256 x = n / d;
            if (n < 0 && n % d != 0) x -= 1;
            uint256 unit = c.unit;
            if (!last && unit > 1) {
                // Rounded down to a multiple of the unit (towards minus infinity).
                int256 r = x % int256(unit);
                x -= r < 0 ? r + int256(unit) : r;
            }
            x += int256(amortised);
            return x > 0 ? uint256(x) : 0;
        }
    }

    /// @dev Cumulative principal and interest of the amortising part through its installment
    ///      `i` (1..n).
    function _annuity(Curve memory c, uint256 i, uint256 n)
        private
        pure
        returns (uint256 principalDue, uint256 interestDue)
    {
        unchecked {
            uint256 p = c.principal;
            if (c.installment == 0) {
                // Bounds: p < 2^96 and every fixed-point factor <= count * SCALE < 2^129,
                // so no product below reaches 2^256.
                uint256 dv = pow(c.v, n - i);
                dv = dv > c.vn ? dv - c.vn : 0;
                uint256 denom = SCALE - c.vn;
                principalDue = i == n ? p : (p * dv) / denom;
                uint256 ir = i * c.rate;
                interestDue = ir > dv ? (p * (ir - dv)) / denom : 0;
                return (principalDue, interestDue);
            }
            uint256 k = i == n ? n - 1 : i;
            uint256 cp = _rounded(c, k);
            uint256 total = k * c.installment;
            interestDue = total > cp ? total - cp : 0;
            if (i == n) {
                // The last installment: the balance left and its period's interest.
                interestDue += ((p - cp) * c.rateNum) / c.rateDen;
                cp = p;
            }
            principalDue = cp;
        }
    }

    /// @dev Cumulative principal of a rounded annuity through amortising installment `k`
    ///      (0..n-1): excess ((1 + r)^k - 1) / (r rateDen), rounded up, at most the principal.
    ///      v^k >= v^n > 2^-64 and excess < 2^119: no product reaches 2^256.
    function _rounded(Curve memory c, uint256 k) private pure returns (uint256) {
        unchecked {
            if (k == 0) return 0;
            uint256 vk = pow(c.v, k);
            uint256 den = c.rateNum * vk;
            uint256 cp = (c.excess * (SCALE - vk) + den - 1) / den;
            return cp < c.principal ? cp : c.principal;
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

    /// @dev `x` rounded down to a multiple of `unit`.
    function _floor(uint256 x, uint256 unit) private pure returns (uint256) {
        return unit > 1 ? x - x % unit : x;
    }
}
