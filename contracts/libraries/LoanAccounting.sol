// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AmountDue, DayCount, ILoanLedger, LoanStatus, ScheduleKind} from "../interfaces/ILoanLedger.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {
    Calendar, FLAG_ADVANCE, FLAG_CALENDAR, FLAG_CARRIED, FLAG_CHARGES, FLAG_LIVE, Loan
} from "../LoanLedgerStorage.sol";
import {LoanCalendar} from "./LoanCalendar.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanAccounting
/// @notice What a loan owes and how a payment is applied, on a working copy of the loan in
///         memory: late charges, amounts owed, the repayment waterfall, installments settled,
///         days past due and the delinquency bucket. One computation serves payments, quotes,
///         assessment, default and restructuring. Mirrored line for line by
///         `loanservicing/ledger/accounting.py`.
///
/// Short names, in lender words:
/// | name  | meaning                                                                          |
/// |-------|----------------------------------------------------------------------------------|
/// | `w`   | the loan being serviced (working copy in memory, amounts widened to uint256)     |
/// | `c`   | the repayment schedule of the segment in force (see LoanSchedule.Curve)          |
/// | `q`   | the amount due: past due, current installment, remaining principal, payoff       |
/// | `a`   | what a checkpoint charged: late fee, penalty interest, installments missed       |
/// | `al`  | how a repayment was split over fees, penalty, interest, principal, prepayment    |
/// | `t`   | the time of the checkpoint or quote                                              |
/// | `d`   | installments (absolute numbers) due before `t`                                   |
/// | `jd`  | the same count within the segment in force (`d - baseIndex`)                     |
/// | `k0`  | installments already assessed late (past their grace period) before this check   |
/// | `k1`  | installments past their grace period at `t`                                      |
/// | `u0`  | unpaid principal and interest of the installments already assessed late          |
/// | `cp`  | cumulative principal due through an installment                                  |
/// | `ci`  | cumulative interest due through an installment                                   |
/// | `cpd` | cumulative principal due through installment `d`                                 |
/// | `cid` | cumulative interest due through installment `d`                                  |
/// | `cp1` | cumulative principal due through the current installment (`d + 1`)               |
/// | `ci1` | cumulative interest due through the current installment (`d + 1`)                |
/// | `dd`  | installments due before the default date                                         |
/// | `dpd` | days past due                                                                    |
///
/// Installment numbers are absolute (1..installments); a segment covers `baseIndex + 1 ..
/// installments` and amortises `basePrincipal`. Every amount rounds in the borrower's favour
/// (see LoanSchedule); charges round down.
library LoanAccounting {
    using LoanSchedule for LoanSchedule.Curve;

    /// @dev Working copy of a loan in memory; amounts widened to uint256.
    struct Work {
        uint256 id;
        address borrower;
        address lender;
        uint256 tokenId;
        uint256 installments;
        uint256 aprBps;
        uint256 penaltyAprBps;
        uint256 lateFeeBps;
        uint256 defaultAfterDays;
        uint256 principal;
        uint256 basePrincipal;
        uint256 paidPrincipal;
        uint256 period;
        uint256 grace;
        uint256 paidInterest;
        uint256 segmentStart;
        uint256 lastAccrual;
        LoanStatus status;
        ScheduleKind kind;
        uint8 bucket;
        uint8 flags;
        uint256 baseIndex;
        uint256 paidCount;
        uint256 lateCount;
        uint256 fees;
        uint256 penalty;
        uint256 carried;
        // Interest paid for the running period before a prepaid segment begins (FLAG_ADVANCE).
        uint256 advance;
        // Scheduled interest of the running period, set by `owed` (not stored).
        uint256 runningInterest;
        // The calendar (slot 6; all zero for a plain loan).
        uint256 months;
        DayCount dayCount;
        int256 offset; // UTC offset in seconds
        uint256 anchorDay;
        uint256 roundingExp;
        uint256 interestOnly;
        int256 oddDays;
        uint256 calendarMonth;
        // The segment's rounded annuity installment as derived (0: not known; see Calendar).
        uint256 installment;
        // Periods the interest paid ahead covers while FLAG_ADVANCE is set (0: one).
        uint256 holidayPeriods;
        // The forbearance window: local day numbers, both paused (pauseTo 0: none).
        uint256 pauseFrom;
        uint256 pauseTo;
    }

    /// @dev What a checkpoint charged.
    struct Accrual {
        uint256 lateFee;
        uint256 penalty;
        uint256 missed;
    }

    /// @dev How one repayment was split.
    struct Allocation {
        uint256 fees;
        uint256 penalty;
        uint256 interest;
        uint256 principal;
        uint256 prepaid;
        uint256 total;
        uint256 rebate;
    }

    /// @dev What a repayment changed, for events and the credit report.
    struct Outcome {
        uint256 onTime;
        uint256 late;
        uint256 daysPastDue;
        uint8 oldBucket;
        bool afterDefault;
    }

    // =====================================================================================
    // Accrual and amounts owed (one computation for payments and quotes)
    // =====================================================================================

    /// @dev Brings charges current to `t` in memory: late fees for installments newly past
    ///      grace, penalty interest on unpaid late amounts. Active loans only.
    function accrue(Work memory w, LoanSchedule.Curve memory c, uint256 t)
        internal
        pure
        returns (Accrual memory a)
    {
        if (w.flags & FLAG_ADVANCE != 0 && t > w.segmentStart) {
            // The prepaid segment's first period has begun: what was paid ahead is earned.
            w.flags &= ~FLAG_ADVANCE;
            w.advance = 0;
        }
        if (w.status != LoanStatus.Active) return a;
        {
            // Installments with nothing due are settled when they fall due: never a miss,
            // never paid late. Afterwards `paidCount` is exact for every installment due.
            // (After default the count stays as it was at default.)
            uint256 d = dueCount(w, t, 0);
            if (d > w.paidCount) w.paidCount = paidThrough(w, c, d);
        }
        uint256 k0 = w.lateCount;
        uint256 k1 = pastGraceCount(w, t);
        bool lateUnpaid = k0 > w.paidCount;
        // Nothing unpaid is or became late: nothing to charge or record (the fast repayment
        // path relies on this to leave the same state as this one).
        if (!lateUnpaid && k1 <= w.paidCount) return a;
        uint256 u0 = lateUnpaid ? unpaidThrough(w, c, k0) : 0;
        if (u0 != 0 && t > w.lastAccrual) {
            // u0 < 2^97, penaltyAprBps <= 1e4, elapsed < 2^40: no overflow. Paused time
            // (forbearance) accrues nothing.
            uint256 elapsed = t - w.lastAccrual - paused(w, w.lastAccrual, t);
            a.penalty = (u0 * w.penaltyAprBps * elapsed) / LoanSchedule.RATE_DEN;
        }
        if (k1 > k0) {
            uint256 newlyLate = unpaidThrough(w, c, k1) - u0;
            a.lateFee = (newlyLate * w.lateFeeBps) / LoanSchedule.BPS;
            // Penalty from the end of its grace period, in unpaused time.
            uint256 due = dueDate(w, k1);
            uint256 late = t - due - paused(w, due, t);
            if (late > w.grace) {
                a.penalty += (newlyLate * w.penaltyAprBps * (late - w.grace)) / LoanSchedule.RATE_DEN;
            }
            uint256 from = k0 > w.paidCount ? k0 : w.paidCount;
            a.missed = k1 > from ? withAmountDue(w, c, from, k1) : 0;
            w.lateCount = k1;
        }
        w.fees += a.lateFee;
        w.penalty += a.penalty;
        w.lastAccrual = t;
    }

    /// @dev What is owed at `t`, after `accrue(w, c, t)`.
    function owed(Work memory w, LoanSchedule.Curve memory c, uint256 t)
        internal
        pure
        returns (AmountDue memory q)
    {
        if (w.status == LoanStatus.Closed) return q;
        uint256 outstanding = w.basePrincipal - w.paidPrincipal;
        q.fees = w.fees;
        q.penalty = w.penalty;
        if (w.status == LoanStatus.Defaulted) {
            // Accelerated at default: interest due through the default date, all principal.
            uint256 dd = dueCount(w, w.lastAccrual, 0);
            (, uint256 cidDef) = c.cumulative(dd - w.baseIndex);
            q.interest = w.carried + _sub(cidDef, w.paidInterest);
            q.principal = outstanding;
        } else {
            uint256 d = dueCount(w, t, 0);
            uint256 jd = d - w.baseIndex;
            (uint256 cpd, uint256 cid) = c.cumulative(jd);
            q.interest = w.carried + _sub(cid, w.paidInterest);
            q.principal = _sub(cpd, w.paidPrincipal);
            uint256 paidAhead; // paid towards the running period's interest
            uint256 periodStart;
            if (jd < c.count) {
                q.nextInstallment = d + 1;
                q.nextDueDate = dueDate(w, d + 1);
            }
            if (w.flags & FLAG_ADVANCE != 0) {
                // A prepaid segment that has not begun: the running period is the one before
                // it (a payment holiday: its periods), its interest paid in full (a holiday:
                // capitalised); no installment of the segment is running yet.
                w.runningInterest = w.advance;
                paidAhead = w.advance;
                periodStart = _dueDateAt(w, -int256(_aheadPeriods(w)));
            } else if (jd < c.count) {
                (uint256 cp1, uint256 ci1) = c.cumulative(jd + 1);
                q.currentInterest = _sub(ci1, _max(w.paidInterest, cid));
                q.currentPrincipal = _sub(cp1, _max(w.paidPrincipal, cpd));
                w.runningInterest = ci1 - cid;
                paidAhead = w.runningInterest - q.currentInterest;
                periodStart = dueDate(w, d);
            }
            q.remainingPrincipal = outstanding - q.principal - q.currentPrincipal;
            // The loan's first period runs from origination (a first due date nearer or
            // farther than a period away: `oddDays`), which is the stored `lastAccrual` until
            // the first checkpoint that charges anything (none can before the first due date).
            uint256 length = periodDays(w);
            if (w.flags & FLAG_ADVANCE != 0) length *= _aheadPeriods(w);
            if (w.flags & FLAG_ADVANCE != 0 ? w.baseIndex == _aheadPeriods(w) : d == 0) {
                if (w.oddDays > 0 || w.lastAccrual > periodStart) periodStart = w.lastAccrual;
                length = uint256(int256(length) + w.oddDays);
            }
            // Interest to the day: the running period's interest times the day-count days
            // from its start date to the date of `t`, over its days, rounded down.
            // (No period running: nothing to earn, periodStart and runningInterest are 0.)
            uint256 elapsed = periodStart == 0 ? 0 : daysBetween(w, periodStart, t);
            uint256 earned =
                elapsed >= length ? w.runningInterest : (w.runningInterest * elapsed) / length;
            if (earned > paidAhead) {
                q.accruedInterest = earned - paidAhead;
            } else {
                // Credited back at payoff; never more than leaves one unit of principal to pay
                // (binds only when a period's interest exceeds the principal left after it).
                q.interestRebate = _min(paidAhead - earned, outstanding - 1);
            }
        }
        q.pastDue = q.fees + q.penalty + q.interest + q.principal;
        q.payoff = q.pastDue + q.accruedInterest + q.currentPrincipal + q.remainingPrincipal
            - q.interestRebate;
        q.daysPastDue = daysPastDue(w, t);
    }

    // =====================================================================================
    // Repayment
    // =====================================================================================

    /// @dev Splits `amount` (capped at the payoff) by the waterfall and applies it to the
    ///      charges and cumulative paid amounts in memory.
    function allocate(Work memory w, AmountDue memory q, uint256 amount)
        internal
        pure
        returns (Allocation memory al)
    {
        if (amount == 0 || q.payoff == 0) revert ILoanLedger.ZeroAmount();
        if (amount >= q.payoff) return _allocatePayoff(w, q);
        uint256 rest = amount;
        al.total = rest;
        (al.fees, rest) = _take(rest, q.fees);
        (al.penalty, rest) = _take(rest, q.penalty);
        uint256 interestPastDue;
        (interestPastDue, rest) = _take(rest, q.interest);
        uint256 principalPastDue;
        (principalPastDue, rest) = _take(rest, q.principal);
        uint256 interestCurrent;
        (interestCurrent, rest) = _take(rest, q.currentInterest);
        uint256 principalCurrent;
        (principalCurrent, rest) = _take(rest, q.currentPrincipal);
        al.prepaid = rest;
        al.interest = interestPastDue + interestCurrent;
        al.principal = principalPastDue + principalCurrent + rest;

        w.fees -= al.fees;
        w.penalty -= al.penalty;
        uint256 fromCarried = interestPastDue < w.carried ? interestPastDue : w.carried;
        w.carried -= fromCarried;
        w.paidInterest += al.interest - fromCarried;
        w.paidPrincipal += principalPastDue + principalCurrent + rest;
    }

    /// @dev A repayment of the payoff: every charge, past-due amount and the running period's
    ///      interest to the day, then all principal, less the interest paid ahead (rebate).
    function _allocatePayoff(Work memory w, AmountDue memory q)
        private
        pure
        returns (Allocation memory al)
    {
        al.total = q.payoff;
        al.fees = q.fees;
        al.penalty = q.penalty;
        al.interest = q.interest + q.accruedInterest;
        al.rebate = q.interestRebate;
        al.principal = w.basePrincipal - w.paidPrincipal - al.rebate;
        w.fees = 0;
        w.penalty = 0;
        w.paidInterest += al.interest - w.carried;
        w.carried = 0;
        w.paidPrincipal = w.basePrincipal;
    }

    /// @dev The whole effect of a repayment of up to `amount` at the current block, in memory:
    ///      accrual, allocation, installments settled (on time or late), closing, bucket.
    ///      Emits {ILoanLedger.ScheduleReset} on a prepayment.
    function applyRepayment(Work memory w, uint256 amount)
        internal
        returns (Allocation memory al, Accrual memory a, Outcome memory o)
    {
        LoanSchedule.Curve memory c = curve(w);
        a = accrue(w, c, block.timestamp);
        uint256 oldPaidCount = w.paidCount;
        AmountDue memory q = owed(w, c, block.timestamp);
        al = allocate(w, q, amount);
        o.oldBucket = w.bucket;
        o.afterDefault = w.status == LoanStatus.Defaulted;
        if (w.status == LoanStatus.Active) {
            uint256 assessedLate = w.lateCount;
            advance(w, c, q, al);
            uint256 lateEnd = assessedLate < w.paidCount ? assessedLate : w.paidCount;
            o.late = lateEnd > oldPaidCount ? lateEnd - oldPaidCount : 0;
            o.onTime = w.paidCount - oldPaidCount - o.late;
        }
        if (w.basePrincipal == w.paidPrincipal) {
            // Closed, in one canonical form whatever the path (one payoff, or prepayments and
            // then a payoff): an empty segment after the installments settled.
            resetSegment(w, w.paidCount, w.installments, 0, dueDate(w, w.paidCount));
            w.flags &= ~FLAG_ADVANCE;
            w.advance = 0;
            w.status = LoanStatus.Closed;
            w.bucket = 0;
        } else {
            o.daysPastDue = daysPastDue(w, block.timestamp);
            if (w.status == LoanStatus.Active) w.bucket = bucketOf(o.daysPastDue);
        }
    }

    /// @dev After an allocation on an active loan: finds the installments now fully paid and,
    ///      on a prepayment, starts a new segment over the remaining installments (emitting
    ///      {ILoanLedger.ScheduleReset}). A payoff settles the running installment.
    function advance(
        Work memory w,
        LoanSchedule.Curve memory c,
        AmountDue memory q,
        Allocation memory al
    ) internal {
        uint256 d = q.nextInstallment == 0 ? w.installments : q.nextInstallment - 1;
        bool running = w.flags & FLAG_ADVANCE == 0 && q.nextInstallment != 0;
        if (w.paidPrincipal == w.basePrincipal) {
            // Paid off: everything due and the running installment are settled.
            uint256 settled = running ? d + 1 : d;
            if (settled > w.paidCount) w.paidCount = settled;
            return;
        }
        if (al.prepaid != 0) {
            // Everything due and the running installment are paid: re-amortise what is left
            // over the remaining installments, from the running installment's due date. The
            // running period's interest, paid in full, is kept for a payoff before that date
            // (credited back to the day). A prepayment before that date changes only the
            // principal: paying `a` then `b` equals paying `a + b`.
            uint256 outstanding = w.basePrincipal - w.paidPrincipal;
            uint256 base = d;
            if (running) {
                base = d + 1;
                w.advance = w.runningInterest;
                w.holidayPeriods = 0;
                w.flags |= FLAG_ADVANCE;
            }
            resetSegment(w, base, w.installments, outstanding, dueDate(w, base));
            emit ILoanLedger.ScheduleReset(
                w.id, base, w.installments, outstanding, w.segmentStart, w.aprBps, w.period
            );
            return;
        }
        // The waterfall pays past-due interest and principal before the current installment,
        // so the quote and the split tell which installments are now settled.
        if (al.principal >= q.principal && al.interest >= q.interest) {
            uint256 count = d;
            if (
                q.nextInstallment != 0 && al.principal >= q.principal + q.currentPrincipal
                    && al.interest >= q.interest + q.currentInterest
            ) count = d + 1;
            if (count > w.paidCount) w.paidCount = count;
        } else {
            w.paidCount = paidThrough(w, c, d);
        }
    }

    /// @dev Largest installment number n in [paidCount, d) whose cumulative principal and
    ///      interest are fully paid: binary search, at most log2(480) + 1 rounds.
    function paidThrough(Work memory w, LoanSchedule.Curve memory c, uint256 d)
        internal
        pure
        returns (uint256)
    {
        uint256 lo = w.paidCount - w.baseIndex;
        uint256 hi = d - w.baseIndex;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            (uint256 cp, uint256 ci) = c.cumulative(mid);
            if (cp <= w.paidPrincipal && ci <= w.paidInterest) lo = mid;
            else hi = mid - 1;
        }
        return lo + w.baseIndex;
    }

    /// @dev Starts a schedule segment: installments `baseIndex + 1 .. installments` amortise
    ///      `principal`, the first falling due one period after `start`.
    function resetSegment(
        Work memory w,
        uint256 baseIndex,
        uint256 installments,
        uint256 principal,
        uint256 start
    ) internal pure {
        w.baseIndex = baseIndex;
        w.installments = installments;
        w.basePrincipal = principal;
        w.segmentStart = start;
        w.paidPrincipal = 0;
        w.paidInterest = 0;
        w.paidCount = baseIndex;
        w.lateCount = baseIndex;
        w.installment = 0; // a new segment: derived again
    }

    // =====================================================================================
    // Schedule positions and delinquency
    // =====================================================================================

    /// @dev Unpaid scheduled principal and interest of installments 1..k (absolute numbers).
    function unpaidThrough(Work memory w, LoanSchedule.Curve memory c, uint256 k)
        internal
        pure
        returns (uint256)
    {
        (uint256 cp, uint256 ci) = c.cumulative(k - w.baseIndex);
        return _sub(cp, w.paidPrincipal) + _sub(ci, w.paidInterest);
    }

    /// @dev Number of installments (absolute) whose due date plus `offset` is before `t`.
    function dueCount(Work memory w, uint256 t, uint256 offset) internal pure returns (uint256) {
        if (t <= w.segmentStart + offset) return w.baseIndex;
        return countDue(
            t - offset,
            w.segmentStart,
            w.period,
            w.baseIndex,
            w.installments,
            w.months,
            w.calendarMonth,
            w.anchorDay,
            w.offset
        );
    }

    /// @dev Installments (absolute, at most `installments`) due before `t`, for `t` after the
    ///      segment's start. A due date is the last second of a date in the loan's offset, so
    ///      an installment is due before `t` when `t`'s date is after its due date. Periods of
    ///      days: whole periods since the segment's start. Calendar months: installment n
    ///      falls due in month `calendarMonth + n * months`, so the months to `t`'s month in
    ///      whole periods, less one when that period's due date is not yet before `t`'s date.
    function countDue(
        uint256 t,
        uint256 segmentStart,
        uint256 period,
        uint256 baseIndex,
        uint256 installments,
        uint256 months,
        uint256 calendarMonth,
        uint256 anchorDay,
        int256 utcOffset
    ) internal pure returns (uint256 n) {
        if (months == 0) {
            n = baseIndex + (t - segmentStart - 1) / period;
        } else {
            (uint256 y, uint256 m, uint256 d) =
                LoanCalendar.civilFromDays(LoanCalendar.localDay(t, utcOffset));
            uint256 month = y * 12 + m - 1;
            n = (month - calendarMonth) / months;
            if (n != 0 && calendarMonth + n * months == month) {
                // Due this month: on day `anchorDay`, or the month's last day when shorter.
                uint256 dueDay = anchorDay;
                if (dueDay > 28) {
                    uint256 last = LoanCalendar.daysInMonth(y, m);
                    if (dueDay > last) dueDay = last;
                }
                if (dueDay >= d) n -= 1;
            }
        }
        return n < installments ? n : installments;
    }

    /// @dev Due date of installment `number` (absolute) of the segment in force: the last
    ///      second of its date in the loan's offset.
    function dueDate(Work memory w, uint256 number) internal pure returns (uint256) {
        return _dueDateAt(w, int256(number) - int256(w.baseIndex));
    }

    /// @dev Due date of the segment's installment `j` (relative; -1: the period before it).
    function _dueDateAt(Work memory w, int256 j) private pure returns (uint256) {
        if (w.months == 0) return uint256(int256(w.segmentStart) + j * int256(w.period));
        uint256 month =
            uint256(int256(w.calendarMonth) + (int256(w.baseIndex) + j) * int256(w.months));
        return LoanCalendar.dayEnd(LoanCalendar.dayInMonth(month, w.anchorDay), w.offset);
    }

    /// @dev While FLAG_ADVANCE is set: the periods the interest paid ahead covers, ending at
    ///      the segment's start (a payment holiday: its installments; else one).
    function _aheadPeriods(Work memory w) private pure returns (uint256) {
        return w.holidayPeriods == 0 ? 1 : w.holidayPeriods;
    }

    /// @dev Day-count days of a regular period: 30 a month (30/360), else its days.
    function periodDays(Work memory w) internal pure returns (uint256) {
        return w.months != 0 ? 30 * w.months : w.period / 1 days;
    }

    /// @dev Day-count days from the date of `from` to the date of `to` (0 when not later).
    function daysBetween(Work memory w, uint256 from, uint256 to) internal pure returns (uint256) {
        if (to <= from) return 0;
        uint256 a = LoanCalendar.localDay(from, w.offset);
        uint256 b = LoanCalendar.localDay(to, w.offset);
        return w.dayCount == DayCount.Thirty360 ? LoanCalendar.days360(a, b) : b - a;
    }

    /// @dev Days past due at `t`: whole days, rounded up, since the due date of the oldest
    ///      installment due before `t` that is not fully paid (one second late is one day past
    ///      due). Needs `paidCount` exact at `t` (after `accrue(w, c, t)` or a repayment), so
    ///      installments of zero amount count as paid.
    ///      Paused time (forbearance) is not counted.
    function daysPastDue(Work memory w, uint256 t) internal pure returns (uint256) {
        uint256 d = dueCount(w, t, 0);
        if (w.paidCount >= d) return 0;
        uint256 due = dueDate(w, w.paidCount + 1);
        return (t - due - paused(w, due, t) + 1 days - 1) / 1 days;
    }

    /// @dev Days past due as the credit registry is told: 0 while the oldest unpaid installment
    ///      is inside its grace period (lateness inside grace is not delinquency).
    function reportedDaysPastDue(Work memory w, uint256 t) internal pure returns (uint256) {
        if (pastGraceCount(w, t) <= w.paidCount) return 0;
        return daysPastDue(w, t);
    }

    /// @dev Installments (absolute) past their grace period at `t`: due more than `grace`
    ///      ago in unpaused time. Before a forbearance and once its end is more than `grace`
    ///      behind, as without one; while it runs, as at its start (nothing newly late); in
    ///      between, as `t` less the paused time (an installment due during it is late `grace`
    ///      after its end).
    function pastGraceCount(Work memory w, uint256 t) internal pure returns (uint256) {
        if (w.pauseTo == 0 || t > pauseEnd(w) + w.grace) return dueCount(w, t, w.grace);
        return dueCount(w, t - paused(w, 0, t), w.grace);
    }

    /// @dev The last second of installment `k`'s (absolute) grace period, as {pastGraceCount}
    ///      reads it: `grace` after its due date, later by the paused time when the window
    ///      starts before then, and at the latest `grace` after the window's end.
    function graceEnd(Work memory w, uint256 k) internal pure returns (uint256) {
        uint256 e = dueDate(w, k) + w.grace;
        if (w.pauseTo == 0) return e;
        uint256 lo = LoanCalendar.dayEnd(w.pauseFrom - 1, w.offset);
        if (e < lo) return e;
        uint256 hi = pauseEnd(w) + w.grace;
        uint256 shifted = e + (hi - w.grace - lo);
        if (shifted < hi) return shifted;
        return e > hi ? e : hi;
    }

    /// @dev Seconds of `(a, b]` inside the forbearance window (0 without one).
    function paused(Work memory w, uint256 a, uint256 b) internal pure returns (uint256) {
        if (w.pauseTo == 0) return 0;
        uint256 lo = LoanCalendar.dayEnd(w.pauseFrom - 1, w.offset); // its first date begins
        uint256 hi = pauseEnd(w);
        if (a > lo) lo = a;
        if (b < hi) hi = b;
        return hi > lo ? hi - lo : 0;
    }

    /// @dev The last second of the forbearance window's last date.
    function pauseEnd(Work memory w) internal pure returns (uint256) {
        return LoanCalendar.dayEnd(w.pauseTo, w.offset);
    }

    /// @dev Whether the loan may be declared in default at `t`: its days past due reach the
    ///      threshold and its oldest unpaid installment is past its grace period.
    function defaultDue(Work memory w, uint256 t) internal pure returns (bool) {
        return daysPastDue(w, t) >= w.defaultAfterDays && reportedDaysPastDue(w, t) != 0;
    }

    /// @dev Installments in `(from, to]` (absolute numbers) with an amount scheduled: every
    ///      installment of an interest-bearing schedule; for an interest-free one, those with a
    ///      principal part (a bullet's last; an equal split's all, or, with fewer units of
    ///      principal than installments, those where the cumulative principal steps up).
    function withAmountDue(Work memory w, LoanSchedule.Curve memory c, uint256 from, uint256 to)
        internal
        pure
        returns (uint256)
    {
        if (c.rateNum != 0) return to - from;
        uint256 a = from - w.baseIndex;
        uint256 b = to - w.baseIndex;
        uint256 m = c.count;
        if (c.kind == ScheduleKind.Bullet) return b >= m && a < m ? 1 : 0;
        if (c.principal >= m) return b - a;
        return (c.principal * b) / m - (c.principal * a) / m;
    }

    /// @dev Delinquency bucket of a number of days past due: 0 current, 1: 1-30, 2: 31-60,
    ///      3: 61-90, 4: over 90.
    function bucketOf(uint256 dpd) internal pure returns (uint8) {
        if (dpd == 0) return 0;
        if (dpd <= 30) return 1;
        if (dpd <= 60) return 2;
        if (dpd <= 90) return 3;
        return 4;
    }

    /// @dev The schedule of the segment in force: the loan's rate per period by its day count,
    ///      the interest-only installments left in it, the odd first period's interest (first
    ///      segment only) and the rounding unit.
    function curve(Work memory w) internal pure returns (LoanSchedule.Curve memory) {
        return curveOf(
            w.kind,
            w.basePrincipal,
            w.installments - w.baseIndex,
            w.aprBps,
            periodDays(w),
            w.dayCount,
            w.interestOnly > w.baseIndex ? w.interestOnly - w.baseIndex : 0,
            w.roundingExp,
            w.baseIndex == 0 ? w.oddDays : int256(0),
            w.installment
        );
    }

    /// @dev {curve} from terms: `count` installments amortise `principal` over periods of
    ///      `days_` day-count days, the first `io` interest only; the first installment has
    ///      `oddDays` days of interest more (or less), counted with the rest of its interest;
    ///      amounts round to 10^roundingExp units (roundingExp <= 18); `installment`
    ///      is the rounded annuity installment when already derived (0: derive it).
    function curveOf(
        ScheduleKind kind,
        uint256 principal,
        uint256 count,
        uint256 aprBps,
        uint256 days_,
        DayCount dayCount,
        uint256 io,
        uint256 roundingExp,
        int256 oddDays,
        uint256 installment
    ) internal pure returns (LoanSchedule.Curve memory c) {
        (uint256 rateNum, uint256 rateDen) = LoanSchedule.periodRate(aprBps, days_, dayCount);
        c = LoanSchedule.curve(
            kind, principal, count, rateNum, rateDen, io, _unit(roundingExp), installment
        );
        // The odd first period's interest, times rateDen: |oddDays| < 2^15, aprBps < 2^16,
        // principal < 2^96, so no overflow.
        if (oddDays != 0) c.odd = int256(principal * aprBps) * oddDays;
    }

    /// @dev 10^e for e <= 18.
    function _unit(uint256 e) private pure returns (uint256) {
        unchecked {
            return 10 ** e;
        }
    }

    // =====================================================================================
    // Storage <-> memory
    // =====================================================================================

    /// @dev Reverts with {ILoanLedger.LoanNotActive} unless the loan in `w` is active.
    function requireActive(Work memory w) internal pure {
        if (w.status != LoanStatus.Active) revert ILoanLedger.LoanNotActive(w.id, w.status);
    }

    /// @dev Reverts unless the caller is the borrower of the loan in `w`
    ///      ({ILoanLedger.NotBorrower}) and the loan is active.
    function requireBorrower(Work memory w) internal view {
        if (msg.sender != w.borrower) revert ILoanLedger.NotBorrower(w.id, msg.sender);
        requireActive(w);
    }

    /// @dev Reads loan `loanId` into memory; reverts with {ILoanLedger.LoanNotFound} when it
    ///      does not exist. Slots 4 and 5 are read only when their flags are set.
    function load(Loan storage s, uint256 loanId) internal view returns (Work memory w) {
        w.borrower = s.borrower;
        if (w.borrower == address(0)) revert ILoanLedger.LoanNotFound(loanId);
        w.id = loanId;
        w.tokenId = s.tokenId;
        w.installments = s.installments;
        w.aprBps = s.aprBps;
        w.penaltyAprBps = s.penaltyAprBps;
        w.lateFeeBps = s.lateFeeBps;
        w.defaultAfterDays = s.defaultAfterDays;
        w.lender = s.lender;
        w.principal = s.principal;
        w.basePrincipal = s.basePrincipal;
        w.paidPrincipal = s.paidPrincipal;
        w.period = s.periodSeconds;
        w.grace = s.gracePeriodSeconds;
        w.paidInterest = s.paidInterest;
        w.segmentStart = s.segmentStart;
        w.lastAccrual = s.lastAccrual;
        w.status = s.status;
        w.kind = s.kind;
        w.bucket = s.bucket;
        w.flags = s.flags;
        w.baseIndex = s.baseIndex;
        w.paidCount = s.paidCount;
        w.lateCount = s.lateCount;
        if (w.flags & FLAG_CHARGES != 0) {
            w.fees = s.feesOwed;
            w.penalty = s.penaltyOwed;
        }
        if (w.flags & (FLAG_CARRIED | FLAG_ADVANCE) != 0) {
            w.carried = s.carriedInterest;
            w.advance = s.advanceInterest;
        }
        if (w.flags & FLAG_CALENDAR != 0) loadCalendar(s, w);
    }

    /// @dev Reads slot 6 (the calendar) into `w`.
    function loadCalendar(Loan storage s, Work memory w) internal view {
        Calendar memory k = s.calendar; // one SLOAD
        w.months = k.periodMonths;
        w.dayCount = k.dayCount;
        w.offset = int256(k.utcOffsetMinutes) * 60;
        w.anchorDay = k.anchorDay;
        w.roundingExp = k.roundingExp;
        w.interestOnly = k.interestOnly;
        w.oddDays = k.oddDays;
        w.calendarMonth = k.calendarMonth;
        w.installment = k.installment;
        w.holidayPeriods = k.holidayPeriods;
        w.pauseFrom = k.pauseFrom;
        w.pauseTo = k.pauseTo;
    }

    /// @dev Writes back the mutable fields; terms in slots 0 and 1 change only on restructure.
    ///      Narrowings: amounts stay at or under the loan's principal and scheduled interest
    ///      (bounded to 96 bits at origination), counts under MAX_INSTALLMENTS plus the
    ///      restructured installments (checked to fit 16 bits), times under 2^40; charges
    ///      saturate.
    function store(Loan storage s, Work memory w) internal {
        uint8 flags = (w.fees | w.penalty) != 0 ? FLAG_LIVE | FLAG_CHARGES : FLAG_LIVE;
        if (w.carried != 0) flags |= FLAG_CARRIED;
        flags |= w.flags & (FLAG_ADVANCE | FLAG_CALENDAR);
        uint8 was = s.flags;
        if (w.aprBps != s.aprBps || w.installments != s.installments) {
            s.aprBps = SafeCast.toUint16(w.aprBps);
            s.installments = SafeCast.toUint16(w.installments);
        }
        _storeSegment(s, w);
        _storePaid(s, w, flags);
        if ((flags | was) & FLAG_CHARGES != 0) {
            // Charges are bounded by the principal times rates over time; saturate rather than
            // revert so that a repayment can never be blocked.
            s.feesOwed = _to96(w.fees);
            s.penaltyOwed = _to96(w.penalty);
        }
        if ((flags | was) & (FLAG_CARRIED | FLAG_ADVANCE) != 0) {
            s.carriedInterest = SafeCast.toUint96(w.carried);
            s.advanceInterest = SafeCast.toUint96(w.advance);
        }
        if (flags & FLAG_CALENDAR != 0 && (flags | was) & FLAG_ADVANCE != 0) {
            // The periods paid ahead (a prepayment: one; a holiday: its own), also when one
            // paid-ahead period ended and another began in the same call; 0 without
            // FLAG_ADVANCE (the field then means nothing).
            uint8 periods = flags & FLAG_ADVANCE != 0 ? SafeCast.toUint8(w.holidayPeriods) : 0;
            if (periods != s.calendar.holidayPeriods) s.calendar.holidayPeriods = periods;
        }
        if (
            flags & FLAG_CALENDAR != 0 && w.roundingExp != 0 && w.installment == 0
                && w.basePrincipal != 0
        ) {
            // A new segment (or one whose installment is not rounded): keep its installment.
            uint256 installment = curve(w).installment;
            if (installment != s.calendar.installment) {
                s.calendar.installment = SafeCast.toUint96(installment);
            }
        }
    }

    /// @dev Slot 2 of `store`: every field narrowed first, then written together (so that the
    ///      optimizer makes it one slot write).
    function _storeSegment(Loan storage s, Work memory w) private {
        uint96 basePrincipal = SafeCast.toUint96(w.basePrincipal);
        uint40 segmentStart = SafeCast.toUint40(w.segmentStart);
        uint40 lastAccrual = SafeCast.toUint40(w.lastAccrual);
        uint16 lateCount = SafeCast.toUint16(w.lateCount);
        uint32 period = SafeCast.toUint32(w.period);
        s.basePrincipal = basePrincipal;
        s.segmentStart = segmentStart;
        s.lastAccrual = lastAccrual;
        s.lateCount = lateCount;
        s.periodSeconds = period;
    }

    /// @dev Slot 3 of `store`, the same way.
    function _storePaid(Loan storage s, Work memory w, uint8 flags) private {
        uint96 paidPrincipal = SafeCast.toUint96(w.paidPrincipal);
        uint96 paidInterest = SafeCast.toUint96(w.paidInterest);
        uint16 baseIndex = SafeCast.toUint16(w.baseIndex);
        uint16 paidCount = SafeCast.toUint16(w.paidCount);
        s.paidPrincipal = paidPrincipal;
        s.paidInterest = paidInterest;
        s.status = w.status;
        s.bucket = w.bucket;
        s.flags = flags;
        s.baseIndex = baseIndex;
        s.paidCount = paidCount;
    }

    /// @dev Emits {ILoanLedger.ChargesAccrued} when a checkpoint charged or recorded anything.
    function emitAccrual(Work memory w, Accrual memory a) internal {
        if (a.lateFee != 0 || a.penalty != 0 || a.missed != 0) {
            emit ILoanLedger.ChargesAccrued(
                w.id, a.lateFee, a.penalty, a.missed, w.lateCount, w.fees, w.penalty
            );
        }
    }

    // =====================================================================================
    // Arithmetic
    // =====================================================================================

    function _take(uint256 available, uint256 owed_) private pure returns (uint256 taken, uint256 rest) {
        taken = available < owed_ ? available : owed_;
        rest = available - taken;
    }

    function _sub(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _to96(uint256 x) private pure returns (uint96) {
        return x > type(uint96).max ? type(uint96).max : uint96(x);
    }
}
