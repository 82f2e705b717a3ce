// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {ILoanLedger, LoanStatus} from "../interfaces/ILoanLedger.sol";
import {Loan, TokenInfo} from "../LoanLedgerStorage.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanPayments} from "./LoanPayments.sol";
import {LoanReports} from "./LoanReports.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanRepayments
/// @notice Every repayment the ledger's on-time path does not take (arrears, charges,
///         prepayments, payoffs, recoveries after default) and the keeper's `assess`: the
///         general accounting of LoanAccounting applied to storage, with its events, credit
///         reports and the token transfer.
/// @dev An external (linked) library: the ledger calls it by DELEGATECALL, so it writes the
///      ledger's storage through the pointers it is given, `msg.sender` is the payer (or the
///      keeper) and its events are the ledger's ({ILoanLedger} events). The ledger's entry
///      points hold the reentrancy lock. Mirrored by `loanservicing/ledger/replay.py`.
library LoanRepayments {
    using LoanAccounting for LoanAccounting.Work;
    using LoanAccounting for Loan;

    /// @notice Applies a repayment of up to `amount` to loan `loanId` by the waterfall (or the
    ///         payoff when `amount` reaches it) and collects it for the lender.
    /// @dev Behind {ILoanLedger.repay}. Emits {ILoanLedger.ChargesAccrued},
    ///      {ILoanLedger.RepaymentApplied}, {ILoanLedger.DelinquencyBucketChanged},
    ///      {ILoanLedger.ScheduleReset}, {ILoanLedger.InterestRebated},
    ///      {ILoanLedger.LoanClosed} and {ILoanLedger.RepaymentHeld} when they apply; reports to
    ///      `registry`.
    /// @param loans the ledger's loans by id
    /// @param tokens the ledger's tokens by id
    /// @param claimable the ledger's held repayments by lender and token
    /// @param registry the credit registry the ledger reports to
    /// @return paid the amount pulled from the payer
    function repay(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint16 tokenId => TokenInfo) storage tokens,
        mapping(address lender => mapping(address token => uint256 amount)) storage claimable,
        ICreditRegistry registry,
        uint256 loanId,
        uint256 amount
    ) external returns (uint256 paid) {
        Loan storage s = loans[loanId];
        LoanAccounting.Work memory w = s.load(loanId);
        if (w.status == LoanStatus.Closed) revert ILoanLedger.LoanNotActive(loanId, w.status);
        (
            LoanAccounting.Allocation memory al,
            LoanAccounting.Accrual memory a,
            LoanAccounting.Outcome memory o
        ) = w.applyRepayment(amount);
        paid = al.total;
        s.store(w);
        w.emitAccrual(a);
        emit ILoanLedger.RepaymentApplied(
            loanId,
            msg.sender,
            al.fees,
            al.penalty,
            al.interest,
            al.principal,
            w.basePrincipal - w.paidPrincipal,
            w.paidCount,
            w.status
        );
        if (w.bucket != o.oldBucket) {
            emit ILoanLedger.DelinquencyBucketChanged(loanId, o.oldBucket, w.bucket, o.daysPastDue);
        }
        if (al.rebate != 0) emit ILoanLedger.InterestRebated(loanId, al.rebate);
        bool closed = w.status == LoanStatus.Closed;
        if (closed) emit ILoanLedger.LoanClosed(loanId, w.borrower, o.afterDefault);

        TokenInfo memory token = tokens[SafeCast.toUint16(w.tokenId)];
        uint256 reported = closed ? 0 : LoanAccounting.reportedDaysPastDue(w, block.timestamp);
        if (a.missed != 0 || reported != 0 || o.oldBucket != 0) {
            LoanReports.delinquency(registry, w.borrower, loanId, a.missed, reported);
        }
        LoanReports.repayment(
            registry, w.borrower, loanId, o.onTime, o.late, paid * token.scale, closed
        );
        LoanPayments.collect(claimable, loanId, token.token, w.lender, paid);
    }

    /// @notice Brings loan `loanId`'s stored delinquency current (see {ILoanLedger.assess}).
    /// @dev Behind {ILoanLedger.assess}. Emits {ILoanLedger.ChargesAccrued} and
    ///      {ILoanLedger.DelinquencyBucketChanged} when they apply; reports misses and bucket
    ///      changes to `registry` (days past due only once past grace).
    /// @param loans the ledger's loans by id
    /// @param registry the credit registry the ledger reports to
    function assess(
        mapping(uint256 loanId => Loan) storage loans,
        ICreditRegistry registry,
        uint256 loanId
    ) external {
        Loan storage s = loans[loanId];
        LoanAccounting.Work memory w = s.load(loanId);
        if (w.status != LoanStatus.Active) revert ILoanLedger.LoanNotActive(loanId, w.status);
        LoanSchedule.Curve memory c = w.curve();
        LoanAccounting.Accrual memory a = w.accrue(c, block.timestamp);
        uint256 dpd = w.daysPastDue(block.timestamp);
        uint8 oldBucket = w.bucket;
        w.bucket = LoanAccounting.bucketOf(dpd);
        // Installments with nothing due that fell due are settled again at every checkpoint,
        // so settling them alone is not stored (it would change the loan without an event).
        if (a.missed == 0 && a.lateFee == 0 && a.penalty == 0 && w.bucket == oldBucket) return;
        s.store(w);
        w.emitAccrual(a);
        if (w.bucket != oldBucket) emit ILoanLedger.DelinquencyBucketChanged(loanId, oldBucket, w.bucket, dpd);
        // The registry hears of misses and of days past due once past grace; a loan that fell
        // behind but is still inside its grace period is not delinquent there.
        uint256 reported = w.reportedDaysPastDue(block.timestamp);
        if (a.missed != 0 || (w.bucket != oldBucket && (reported != 0 || oldBucket != 0))) {
            LoanReports.delinquency(registry, w.borrower, loanId, a.missed, reported);
        }
    }
}
