// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title LoanCalendar
/// @notice Civil-calendar arithmetic in closed form (no loop over years or months): dates as
///         day numbers (days since 1970-01-01), months as month numbers (year * 12 + month - 1),
///         the end-of-month rule and the 30/360 day count. Mirrored by
///         `loanservicing/ledger/calendar.py`.
/// @dev Day numbers and civil dates convert by H. Hinnant's `days_from_civil` and
///      `civil_from_days` (400-year eras of 146,097 days), here for dates from 1970 on.
library LoanCalendar {
    uint256 internal constant DAY = 1 days;

    /// @notice Day number of the civil date `y`-`m`-`d` (1970 or later, m 1..12, d 1..31).
    function daysFromCivil(uint256 y, uint256 m, uint256 d) internal pure returns (uint256) {
        unchecked {
            if (m <= 2) y -= 1;
            uint256 era = y / 400;
            uint256 yoe = y - era * 400;
            uint256 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
            uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            return era * 146_097 + doe - 719_468;
        }
    }

    /// @notice Civil date of day number `z`.
    function civilFromDays(uint256 z) internal pure returns (uint256 y, uint256 m, uint256 d) {
        unchecked {
            z += 719_468;
            uint256 era = z / 146_097;
            uint256 doe = z - era * 146_097;
            uint256 yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            uint256 mp = (5 * doy + 2) / 153;
            d = doy - (153 * mp + 2) / 5 + 1;
            m = mp < 10 ? mp + 3 : mp - 9;
            y = yoe + era * 400 + (m <= 2 ? 1 : 0);
        }
    }

    /// @notice Days in month `m` of year `y`.
    function daysInMonth(uint256 y, uint256 m) internal pure returns (uint256) {
        if (m == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
        return (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
    }

    /// @notice Month number of day number `z`.
    function monthOf(uint256 z) internal pure returns (uint256) {
        (uint256 y, uint256 m,) = civilFromDays(z);
        return y * 12 + m - 1;
    }

    /// @notice Day number of day `anchorDay` of month number `month`, or of the month's last
    ///         day when it has fewer days (the end-of-month rule).
    function dayInMonth(uint256 month, uint256 anchorDay) internal pure returns (uint256) {
        uint256 y = month / 12;
        uint256 m = month % 12 + 1;
        uint256 last = daysInMonth(y, m);
        return daysFromCivil(y, m, anchorDay < last ? anchorDay : last);
    }

    /// @notice The anchor day of a schedule first due on day number `z`: its day of the month,
    ///         or 31 when it is the last day of its month (due dates then stay at month ends).
    function anchorOf(uint256 z) internal pure returns (uint256) {
        (uint256 y, uint256 m, uint256 d) = civilFromDays(z);
        return d == daysInMonth(y, m) ? 31 : d;
    }

    /// @notice 30/360 days from day number `a` to day number `b` (US bond basis: a day 31
    ///         counts as 30; at the end, as 30 too when the start is day 30 or 31); 0 when b <= a.
    function days360(uint256 a, uint256 b) internal pure returns (uint256) {
        if (b <= a) return 0;
        (uint256 y1, uint256 m1, uint256 d1) = civilFromDays(a);
        (uint256 y2, uint256 m2, uint256 d2) = civilFromDays(b);
        if (d1 == 31) d1 = 30;
        if (d2 == 31 && d1 == 30) d2 = 30;
        // b > a: the year-and-month part is at least the day part's shortfall (<= 29).
        return (y2 * 360 + m2 * 30 + d2) - (y1 * 360 + m1 * 30 + d1);
    }

    /// @notice The day number of timestamp `t` in a UTC offset of `offset` seconds.
    function localDay(uint256 t, int256 offset) internal pure returns (uint256) {
        return uint256(int256(t) + offset) / DAY;
    }

    /// @notice The last second of day number `z` in a UTC offset of `offset` seconds.
    function dayEnd(uint256 z, int256 offset) internal pure returns (uint256) {
        return uint256(int256((z + 1) * DAY) - 1 - offset);
    }
}
