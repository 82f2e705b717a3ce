// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {AmountDue, ILoanLedger, LoanStatus} from "../interfaces/ILoanLedger.sol";
import {FLAG_ADVANCE, FLAG_CALENDAR, Loan, Proposal} from "../LoanLedgerStorage.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanCalendar} from "./LoanCalendar.sol";
import {LoanLimits} from "./LoanLimits.sol";
import {LoanReports} from "./LoanReports.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanRestructuring
/// @notice Restructuring, a rarely used path of the ledger kept out of its bytecode: the
///         servicer proposes new terms, the borrower accepts them and the outstanding principal
///         is re-amortised from then on.
/// @dev An external (linked) library: the ledger calls it by DELEGATECALL, so it reads and
///      writes the ledger's storage (through the pointers it is given), `msg.sender` is the
///      ledger's caller, and its events are the ledger's ({ILoanLedger} events). The ledger's
///      entry points check roles and hold the reentrancy lock before calling it. Mirrored by
///      the restructuring replay in `loanservicing/ledger/replay.py`.
library LoanRestructuring {
    /// @notice Terms of a proposal as the borrower names them on acceptance.
    struct Terms {
        uint16 aprBps;
        uint16 installments;
        uint32 periodSeconds;
        uint40 deadline;
    }

    /// @notice Records the proposal of new terms for the rest of loan `loanId` (replacing any
    ///         earlier one) and emits {ILoanLedger.RestructureProposed}.
    /// @dev Behind {ILoanLedger.proposeRestructure}; active loans only.
    /// @param loans the ledger's loans by id
    /// @param proposals the ledger's proposals by loan id
    function propose(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint256 loanId => Proposal) storage proposals,
        uint256 loanId,
        uint16 aprBps,
        uint16 installments,
        uint32 periodSeconds,
        uint40 deadline
    ) external {
        Loan storage s = loans[loanId];
        LoanStatus status = s.status;
        if (s.borrower == address(0)) revert ILoanLedger.LoanNotFound(loanId);
        if (status != LoanStatus.Active) revert ILoanLedger.LoanNotActive(loanId, status);
        // Slot 6 is all zero for a plain loan: a period of days under actual/365.
        LoanLimits.validateSchedule(
            aprBps, installments, periodSeconds, s.calendar.periodMonths, s.calendar.dayCount
        );
        if (deadline <= block.timestamp) {
            revert ILoanLedger.InvalidDeadline(deadline, block.timestamp);
        }
        proposals[loanId] = Proposal(aprBps, installments, periodSeconds, deadline);
        emit ILoanLedger.RestructureProposed(
            loanId, msg.sender, aprBps, installments, periodSeconds, deadline
        );
    }

    /// @notice Withdraws the pending proposal for loan `loanId`.
    /// @dev Behind {ILoanLedger.withdrawRestructure}. Emits {ILoanLedger.RestructureWithdrawn}.
    /// @param proposals the ledger's proposals by loan id
    function withdraw(mapping(uint256 loanId => Proposal) storage proposals, uint256 loanId)
        external
    {
        if (proposals[loanId].deadline == 0) revert ILoanLedger.NoRestructureProposal(loanId);
        delete proposals[loanId];
        emit ILoanLedger.RestructureWithdrawn(loanId, msg.sender);
    }

    /// @notice Applies the pending proposal for loan `loanId`, accepted by its borrower under
    ///         the terms it names: charges are brought current, unpaid interest due and the
    ///         running period's interest to the day are carried over (interest paid ahead is
    ///         credited against principal), and a new segment of the proposal's installments
    ///         starts at the end of today (in the loan's offset; a loan due in calendar months
    ///         is then due on today's day of the month). The loan is current again.
    /// @dev Behind {ILoanLedger.acceptRestructure}; the caller must be the borrower; reverts
    ///      with {ILoanLedger.RestructureTermsMismatch} unless `named` is the pending proposal
    ///      and with {ILoanLedger.DefaultDue} when the loan's default is already due. Emits
    ///      {ILoanLedger.ChargesAccrued} (when charges were brought current),
    ///      {ILoanLedger.ScheduleReset}, {ILoanLedger.LoanRestructured} and
    ///      {ILoanLedger.DelinquencyBucketChanged} when the bucket changes; reports misses to
    ///      `registry`.
    /// @param loans the ledger's loans by id
    /// @param proposals the ledger's proposals by loan id
    /// @param registry the credit registry the ledger reports to
    function accept(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint256 loanId => Proposal) storage proposals,
        uint256 loanId,
        Terms calldata named,
        ICreditRegistry registry
    ) external {
        Loan storage s = loans[loanId];
        LoanAccounting.Work memory w = LoanAccounting.load(s, loanId);
        LoanAccounting.requireBorrower(w);
        Proposal memory p = proposals[loanId];
        if (p.deadline == 0) revert ILoanLedger.NoRestructureProposal(loanId);
        if (
            p.aprBps != named.aprBps || p.installments != named.installments
                || p.periodSeconds != named.periodSeconds || p.deadline != named.deadline
        ) revert ILoanLedger.RestructureTermsMismatch(loanId);
        if (block.timestamp > p.deadline) {
            revert ILoanLedger.RestructureExpired(loanId, p.deadline, block.timestamp);
        }
        LoanSchedule.Curve memory c = LoanAccounting.curve(w);
        LoanAccounting.Accrual memory a = LoanAccounting.accrue(w, c, block.timestamp);
        if (LoanAccounting.defaultDue(w, block.timestamp)) {
            revert ILoanLedger.DefaultDue(
                loanId, LoanAccounting.daysPastDue(w, block.timestamp), w.defaultAfterDays
            );
        }
        uint256 d = LoanAccounting.dueCount(w, block.timestamp, 0);
        // As a payoff would: unpaid interest due and the running period's interest to the day
        // carry over; interest paid ahead of that is credited against principal.
        AmountDue memory q = LoanAccounting.owed(w, c, block.timestamp);
        w.carried = q.interest + q.accruedInterest;
        uint256 outstanding = w.basePrincipal - w.paidPrincipal - q.interestRebate;
        w.advance = 0;
        w.flags &= ~FLAG_ADVANCE;
        if (outstanding == 0) revert ILoanLedger.NothingToRestructure(loanId);
        w.period = p.periodSeconds;
        uint256 maxPrincipal = LoanLimits.maxPrincipal(
            p.aprBps, p.installments, LoanAccounting.periodDays(w), w.dayCount
        );
        if (outstanding > maxPrincipal) revert ILoanLedger.InvalidPrincipal(outstanding, maxPrincipal);
        if (d + p.installments > type(uint16).max) {
            revert ILoanLedger.InvalidInstallments(d + p.installments, type(uint16).max);
        }
        delete proposals[loanId];
        w.aprBps = p.aprBps;
        _newCalendar(s, w, d, d + p.installments, outstanding);
        uint8 oldBucket = w.bucket;
        w.bucket = 0;
        LoanAccounting.store(s, w);
        LoanAccounting.emitAccrual(w, a);
        emit ILoanLedger.ScheduleReset(
            loanId, d, w.installments, outstanding, w.segmentStart, w.aprBps, w.period
        );
        emit ILoanLedger.LoanRestructured(
            loanId, msg.sender, outstanding, w.carried, w.fees, w.penalty
        );
        if (oldBucket != 0) emit ILoanLedger.DelinquencyBucketChanged(loanId, oldBucket, 0, 0);
        if (a.missed != 0 || oldBucket != 0) {
            LoanReports.delinquency(registry, w.borrower, loanId, a.missed, 0);
        }
    }

    /// @dev The restructured segment: installments `base + 1 .. installments` amortise
    ///      `principal` from the end of today in the loan's offset; a calendar loan's slot 6
    ///      gets today as its anchor, no odd first period and no interest-only installments.
    function _newCalendar(
        Loan storage s,
        LoanAccounting.Work memory w,
        uint256 base,
        uint256 installments,
        uint256 principal
    ) private {
        uint256 today = LoanCalendar.localDay(block.timestamp, w.offset);
        LoanAccounting.resetSegment(
            w, base, installments, principal, LoanCalendar.dayEnd(today, w.offset)
        );
        if (w.flags & FLAG_CALENDAR != 0) {
            if (w.months != 0) {
                // Installment `base + 1` falls due a period after today.
                w.anchorDay = LoanCalendar.anchorOf(today);
                w.calendarMonth = LoanCalendar.monthOf(today) - base * w.months;
                s.calendar.anchorDay = uint8(w.anchorDay); // <= 31
                s.calendar.calendarMonth = SafeCast.toUint24(w.calendarMonth);
            }
            w.interestOnly = 0;
            w.oddDays = 0;
            s.calendar.interestOnly = 0;
            s.calendar.oddDays = 0;
        }
    }
}
