// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {AmountDue, ILoanLedger} from "../interfaces/ILoanLedger.sol";
import {FLAG_ADVANCE, FLAG_CALENDAR, HolidayProposal, Loan} from "../LoanLedgerStorage.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCalendar} from "./LoanCalendar.sol";
import {LoanLimits} from "./LoanLimits.sol";
import {LoanReports} from "./LoanReports.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanRelief
/// @notice Relief a servicer grants a borrower in difficulty, kept out of the ledger's
///         bytecode: payment holidays (proposed by the servicer, accepted by the borrower) and
///         forbearance (a pause of the delinquency clock, set by the servicer).
/// @dev An external (linked) library: the ledger calls it by DELEGATECALL, so it reads and
///      writes the ledger's storage through the pointers it is given, `msg.sender` is the
///      ledger's caller and its events are the ledger's ({ILoanLedger} events). The ledger's
///      entry points check roles and hold the reentrancy lock. A holiday or a forbearance
///      puts a plain loan's slot 6 in use (FLAG_CALENDAR): its all-zero calendar is the plain
///      one. Mirrored by the relief replay in `loanservicing/ledger/replay.py`.
///
///      A holiday of N installments from installment k = d + 1 (d: installments due now) is a
///      new segment from installment d + N, starting at the old due date of installment d + N,
///      over the same remaining installments, each N periods later (the term is N periods
///      longer). The interest of the skipped periods on the outstanding principal is
///      capitalised up front and kept as interest paid ahead over those N periods
///      (FLAG_ADVANCE, `holidayPeriods` N), so a payoff during the holiday pays it to the day.
library LoanRelief {
    /// @notice The most installments one holiday may skip (`holidayPeriods` is 8 bits).
    uint256 internal constant MAX_HOLIDAY = type(uint8).max;

    /// @notice Records a holiday proposal for loan `loanId` (see {ILoanLedger.proposeHoliday}).
    /// @param loans the ledger's loans by id
    /// @param holidays the ledger's holiday proposals by loan id
    function proposeHoliday(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint256 loanId => HolidayProposal) storage holidays,
        uint256 loanId,
        uint16 fromInstallment,
        uint16 count,
        uint40 deadline
    ) external {
        LoanAccounting.Work memory w = LoanAccounting.load(loans[loanId], loanId);
        LoanAccounting.requireActive(w);
        uint256 next = LoanAccounting.dueCount(w, block.timestamp, 0) + 1;
        if (fromInstallment < next || fromInstallment > w.installments) {
            revert ILoanLedger.HolidayOutOfRange(loanId, fromInstallment, next, w.installments);
        }
        _checkLength(w, count);
        if (deadline <= block.timestamp) {
            revert ILoanLedger.InvalidDeadline(deadline, block.timestamp);
        }
        holidays[loanId] = HolidayProposal(fromInstallment, count, deadline);
        emit ILoanLedger.HolidayProposed(loanId, msg.sender, fromInstallment, count, deadline);
    }

    /// @notice Withdraws the pending holiday proposal of loan `loanId`.
    /// @param holidays the ledger's holiday proposals by loan id
    function withdrawHoliday(
        mapping(uint256 loanId => HolidayProposal) storage holidays,
        uint256 loanId
    ) external {
        if (holidays[loanId].deadline == 0) revert ILoanLedger.NoHolidayProposal(loanId);
        delete holidays[loanId];
        emit ILoanLedger.HolidayWithdrawn(loanId, msg.sender);
    }

    /// @notice Applies the pending holiday of loan `loanId`, accepted by its borrower under
    ///         the terms it names (see {ILoanLedger.acceptHoliday}).
    /// @param loans the ledger's loans by id
    /// @param holidays the ledger's holiday proposals by loan id
    function acceptHoliday(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint256 loanId => HolidayProposal) storage holidays,
        uint256 loanId,
        uint16 fromInstallment,
        uint16 count,
        uint40 deadline
    ) external {
        Loan storage s = loans[loanId];
        LoanAccounting.Work memory w = LoanAccounting.load(s, loanId);
        LoanAccounting.requireBorrower(w);
        HolidayProposal memory p = holidays[loanId];
        if (p.deadline == 0) revert ILoanLedger.NoHolidayProposal(loanId);
        if (
            p.fromInstallment != fromInstallment || p.count != count || p.deadline != deadline
        ) revert ILoanLedger.HolidayTermsMismatch(loanId);
        if (block.timestamp > p.deadline) {
            revert ILoanLedger.HolidayExpired(loanId, p.deadline, block.timestamp);
        }
        LoanSchedule.Curve memory c = LoanAccounting.curve(w);
        LoanAccounting.accrue(w, c, block.timestamp); // nothing late: charges nothing
        AmountDue memory q = LoanAccounting.owed(w, c, block.timestamp);
        if (q.interest + q.principal != 0 || w.flags & FLAG_ADVANCE != 0) {
            revert ILoanLedger.HolidayNotCurrent(loanId, q.interest + q.principal);
        }
        uint256 d = LoanAccounting.dueCount(w, block.timestamp, 0);
        if (p.fromInstallment != d + 1) {
            revert ILoanLedger.HolidayOutOfRange(loanId, p.fromInstallment, d + 1, d + 1);
        }
        _checkLength(w, p.count);
        delete holidays[loanId];
        (uint256 capitalised, uint256 principal) = _capitalise(w, q, d, p.count);
        // As at origination: the schedule's interest stays within the amounts' 96 bits.
        uint256 maxPrincipal = LoanLimits.maxPrincipal(
            w.aprBps, w.installments - d, LoanAccounting.periodDays(w), w.dayCount
        );
        if (principal > maxPrincipal) revert ILoanLedger.InvalidPrincipal(principal, maxPrincipal);
        uint256 start = LoanAccounting.dueDate(w, d + p.count);
        LoanAccounting.resetSegment(w, d + p.count, w.installments + p.count, principal, start);
        w.flags |= FLAG_ADVANCE | FLAG_CALENDAR;
        w.advance = capitalised;
        w.holidayPeriods = p.count;
        // Interest-only installments not yet reached move with the schedule.
        if (w.interestOnly > d) {
            w.interestOnly += p.count;
            s.calendar.interestOnly = SafeCast.toUint16(w.interestOnly);
        }
        LoanAccounting.store(s, w);
        emit ILoanLedger.ScheduleReset(
            loanId, w.baseIndex, w.installments, principal, start, w.aprBps, w.period
        );
        emit ILoanLedger.HolidayGranted(
            loanId, msg.sender, p.fromInstallment, p.count, capitalised, principal
        );
    }

    /// @dev The holiday's interest on the outstanding principal over its `count` periods
    ///      (the first period's odd days included when it is the loan's first), simple
    ///      interest by the loan's day count, rounded down to the rounding unit; and the new
    ///      principal: outstanding plus it, less the interest already paid for the running
    ///      period (which the holiday's interest covers).
    function _capitalise(
        LoanAccounting.Work memory w,
        AmountDue memory q,
        uint256 d,
        uint256 count
    ) private pure returns (uint256 capitalised, uint256 principal) {
        uint256 outstanding = w.basePrincipal - w.paidPrincipal;
        int256 days_ = int256(LoanAccounting.periodDays(w) * count);
        if (d == 0) days_ += w.oddDays;
        (uint256 rateNum, uint256 rateDen) =
            LoanSchedule.periodRate(w.aprBps, uint256(days_), w.dayCount);
        uint256 unit = 10 ** w.roundingExp;
        capitalised = (outstanding * rateNum) / rateDen / unit * unit;
        uint256 paidAhead = w.runningInterest - q.currentInterest;
        if (outstanding + capitalised <= paidAhead) revert ILoanLedger.NothingToRestructure(w.id);
        principal = outstanding + capitalised - paidAhead;
    }

    function _checkLength(LoanAccounting.Work memory w, uint256 count) private pure {
        uint256 maxCount = type(uint16).max - w.installments;
        if (maxCount > MAX_HOLIDAY) maxCount = MAX_HOLIDAY;
        if (count == 0 || count > maxCount) revert ILoanLedger.InvalidHolidayLength(count, maxCount);
    }

    // =====================================================================================
    // Forbearance
    // =====================================================================================

    /// @notice Sets, extends or ends loan `loanId`'s forbearance window (see
    ///         {ILoanLedger.forbear}).
    /// @param loans the ledger's loans by id
    /// @param registry the credit registry the ledger reports to
    function forbear(
        mapping(uint256 loanId => Loan) storage loans,
        ICreditRegistry registry,
        uint256 loanId,
        uint256 fromDay,
        uint256 toDay
    ) external {
        Loan storage s = loans[loanId];
        (LoanAccounting.Work memory w, LoanAccounting.Accrual memory a, uint256 today) =
            _checkpoint(s, loanId);
        // A window that has begun and still runs is changed by naming its first date again.
        bool change = w.pauseTo >= today && w.pauseFrom <= today && fromDay == w.pauseFrom;
        if (
            toDay > type(uint24).max || toDay + 1 < fromDay
                || (change ? toDay + 1 < today : toDay < fromDay || fromDay < today)
        ) revert ILoanLedger.InvalidForbearance(fromDay, toDay, today);
        if (
            !change && w.pauseTo != 0 && w.pauseFrom <= today
                && (w.pauseTo >= today || _stillMatters(w))
        ) {
            revert ILoanLedger.ForbearanceInEffect(loanId, w.pauseFrom, w.pauseTo);
        }
        bool ended = toDay < today;
        w.pauseFrom = toDay < fromDay ? 0 : fromDay; // ended on its first date: removed
        w.pauseTo = toDay < fromDay ? 0 : toDay;
        _apply(s, w, a, registry);
        if (ended) {
            emit ILoanLedger.ForbearanceEnded(loanId, msg.sender, toDay);
            return;
        }
        emit ILoanLedger.ForbearanceGranted(loanId, msg.sender, fromDay, toDay);
        if (!change) {
            LoanReports.send(
                registry,
                loanId,
                abi.encodeCall(
                    ICreditRegistry.reportForbearance, (w.borrower, loanId, fromDay, toDay)
                )
            );
        }
    }

    /// @dev Loads an active loan and brings its charges current under the window in force.
    function _checkpoint(Loan storage s, uint256 loanId)
        private
        view
        returns (LoanAccounting.Work memory w, LoanAccounting.Accrual memory a, uint256 today)
    {
        w = LoanAccounting.load(s, loanId);
        LoanAccounting.requireActive(w);
        a = LoanAccounting.accrue(w, LoanAccounting.curve(w), block.timestamp);
        today = LoanCalendar.localDay(block.timestamp, w.offset);
    }

    /// @dev Whether an ended window still changes a figure: an installment due before its end
    ///      is unpaid.
    function _stillMatters(LoanAccounting.Work memory w) private pure returns (bool) {
        return LoanAccounting.dueCount(w, LoanAccounting.pauseEnd(w), 0) > w.paidCount;
    }

    /// @dev Stores the loan with its new window and bucket, with the checkpoint's events and
    ///      the credit report of a bucket change.
    function _apply(
        Loan storage s,
        LoanAccounting.Work memory w,
        LoanAccounting.Accrual memory a,
        ICreditRegistry registry
    ) private {
        uint256 dpd = LoanAccounting.daysPastDue(w, block.timestamp);
        uint8 oldBucket = w.bucket;
        w.bucket = LoanAccounting.bucketOf(dpd);
        w.flags |= FLAG_CALENDAR;
        LoanAccounting.store(s, w);
        s.calendar.pauseFrom = uint24(w.pauseFrom); // <= type(uint24).max, checked
        s.calendar.pauseTo = uint24(w.pauseTo);
        LoanAccounting.emitAccrual(w, a);
        if (w.bucket != oldBucket) {
            emit ILoanLedger.DelinquencyBucketChanged(w.id, oldBucket, w.bucket, dpd);
        }
        uint256 reported = LoanAccounting.reportedDaysPastDue(w, block.timestamp);
        if (a.missed != 0 || (w.bucket != oldBucket && (reported != 0 || oldBucket != 0))) {
            LoanReports.delinquency(registry, w.borrower, w.id, a.missed, reported);
        }
    }
}
