// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILoanLedger, OriginationTerms, ScheduleKind} from "../interfaces/ILoanLedger.sol";
import {Calendar, Loan} from "../LoanLedgerStorage.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCalendar} from "./LoanCalendar.sol";

/// @title LoanCalendarTerms
/// @notice A new loan's calendar when it is not the plain one: calendar months, another day
///         count or UTC offset, rounding, interest-only installments or an odd first period.
///         Checks those terms and writes the loan's segment start and slot 6.
/// @dev An external (linked) library, called by DELEGATECALL from the ledger's `originate`
///      (so a plain loan's origination pays nothing for it); it writes the ledger's storage
///      through the pointer it is given. Mirrored by `origination_calendar` in
///      `loanservicing/ledger/calendar_terms.py`.
library LoanCalendarTerms {
    /// @notice Checks the calendar terms of `t` and stores loan `s`'s calendar (slot 6): the
    ///         anchor day, the odd first period's days and the other terms; returns the
    ///         segment start (the end of the date one period before the first due date, in the
    ///         loan's offset) for the ledger to store.
    /// @dev Reverts with {ILoanLedger.InvalidUtcOffset}, {ILoanLedger.InvalidInterestOnly},
    ///      {ILoanLedger.InvalidRounding}, or {ILoanLedger.InvalidFirstDueDate} unless the
    ///      first due date is after today and at most two periods from today.
    function store(Loan storage s, OriginationTerms memory t)
        external
        returns (uint40 segmentStart)
    {
        int256 minutes_ = t.utcOffsetMinutes;
        if (minutes_ < -720 || minutes_ > 840 || minutes_ % 15 != 0) {
            revert ILoanLedger.InvalidUtcOffset(minutes_);
        }
        if (t.interestOnly >= t.installments || (t.kind == ScheduleKind.Bullet && t.interestOnly != 0)) {
            revert ILoanLedger.InvalidInterestOnly(t.interestOnly, t.installments);
        }
        if (t.roundingExp > 18) revert ILoanLedger.InvalidRounding(t.roundingExp);
        int256 offset = minutes_ * 60;
        uint256 today = LoanCalendar.localDay(block.timestamp, offset);
        uint256 first = LoanCalendar.localDay(t.firstDueDate, offset);
        uint256 months = t.periodMonths;
        uint256 latest;
        if (months == 0) {
            latest = today + 2 * (t.periodSeconds / 1 days);
        } else {
            (,, uint256 dayOfMonth) = LoanCalendar.civilFromDays(today);
            latest = LoanCalendar.dayInMonth(LoanCalendar.monthOf(today) + 2 * months, dayOfMonth);
        }
        if (first <= today || first > latest) {
            revert ILoanLedger.InvalidFirstDueDate(
                t.firstDueDate,
                LoanCalendar.dayEnd(today, offset) + 1,
                LoanCalendar.dayEnd(latest, offset)
            );
        }
        uint256 anchor;
        uint256 start;
        uint256 regular; // day-count days of a regular period (see _installment)
        uint256 firstDays; // day-count days of the first period
        if (months == 0) {
            regular = t.periodSeconds / 1 days;
            start = first - regular;
            firstDays = first - today;
        } else {
            anchor = LoanCalendar.anchorOf(first);
            start = LoanCalendar.dayInMonth(LoanCalendar.monthOf(first) - months, anchor);
            regular = 30 * months;
            firstDays = LoanCalendar.days360(today, first);
        }
        segmentStart = SafeCast.toUint40(LoanCalendar.dayEnd(start, offset));
        s.calendar = Calendar(
            t.periodMonths,
            t.dayCount,
            t.utcOffsetMinutes,
            uint8(anchor), // <= 31
            t.roundingExp,
            t.interestOnly,
            SafeCast.toInt16(int256(firstDays) - int256(regular)),
            months != 0 ? SafeCast.toUint24(LoanCalendar.monthOf(start)) : 0,
            t.roundingExp != 0 ? _installment(t, regular) : 0,
            0, // no period paid ahead
            0, // no forbearance
            0
        );
    }

    /// @dev The rounded annuity installment of the loan's first segment (0: none).
    function _installment(OriginationTerms memory t, uint256 regular) private pure returns (uint96) {
        return SafeCast.toUint96(
            LoanAccounting.curveOf(
                t.kind,
                t.principal,
                t.installments,
                t.aprBps,
                regular,
                t.dayCount,
                t.interestOnly,
                t.roundingExp,
                0,
                0
            ).installment
        );
    }
}
