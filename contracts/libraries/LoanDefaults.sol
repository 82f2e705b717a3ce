// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICreditRegistry} from "../interfaces/ICreditRegistry.sol";
import {AmountDue, ILoanLedger, LoanStatus} from "../interfaces/ILoanLedger.sol";
import {Loan, Proposal} from "../LoanLedgerStorage.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanReports} from "./LoanReports.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanDefaults
/// @notice Declaring a loan in default, a rarely used path of the ledger kept out of its
///         bytecode.
/// @dev An external (linked) library: the ledger calls it by DELEGATECALL, so it writes the
///      ledger's storage (through the pointer it is given), `msg.sender` is the ledger's caller
///      (the servicer), and its events are the ledger's ({ILoanLedger} events). The ledger's
///      entry point checks the servicer role and holds the reentrancy lock before calling it.
library LoanDefaults {
    /// @notice Declares loan `loanId` in default once its days past due reach its threshold
    ///         and its oldest unpaid installment is past its grace period: charges are brought
    ///         current and then stop; the loan's bucket is updated; a pending restructuring
    ///         proposal is dropped.
    /// @dev Behind {ILoanLedger.declareDefault}; active loans only. Emits
    ///      {ILoanLedger.ChargesAccrued} (when charges were brought current),
    ///      {ILoanLedger.DelinquencyBucketChanged} (when the bucket changes) and
    ///      {ILoanLedger.LoanDefaulted}; reports misses and the default to `registry`.
    /// @param loans the ledger's loans by id
    /// @param proposals the ledger's restructuring proposals by loan id
    /// @param registry the credit registry the ledger reports to
    function declareDefault(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint256 loanId => Proposal) storage proposals,
        uint256 loanId,
        ICreditRegistry registry
    ) external {
        Loan storage s = loans[loanId];
        LoanAccounting.Work memory w = LoanAccounting.load(s, loanId);
        LoanAccounting.requireActive(w);
        LoanSchedule.Curve memory c = LoanAccounting.curve(w);
        LoanAccounting.Accrual memory a = LoanAccounting.accrue(w, c, block.timestamp);
        uint256 dpd = LoanAccounting.daysPastDue(w, block.timestamp);
        if (dpd < w.defaultAfterDays) {
            revert ILoanLedger.DefaultThresholdNotReached(loanId, dpd, w.defaultAfterDays);
        }
        if (LoanAccounting.reportedDaysPastDue(w, block.timestamp) == 0) {
            revert ILoanLedger.DefaultInsideGrace(
                loanId, LoanAccounting.graceEnd(w, w.paidCount + 1)
            );
        }
        AmountDue memory q = LoanAccounting.owed(w, c, block.timestamp);
        w.status = LoanStatus.Defaulted;
        w.lastAccrual = block.timestamp;
        uint8 oldBucket = w.bucket;
        w.bucket = LoanAccounting.bucketOf(dpd);
        if (proposals[loanId].deadline != 0) delete proposals[loanId];
        LoanAccounting.store(s, w);
        LoanAccounting.emitAccrual(w, a);
        if (w.bucket != oldBucket) {
            emit ILoanLedger.DelinquencyBucketChanged(loanId, oldBucket, w.bucket, dpd);
        }
        emit ILoanLedger.LoanDefaulted(
            loanId,
            msg.sender,
            dpd,
            w.basePrincipal - w.paidPrincipal,
            q.interest,
            w.fees,
            w.penalty
        );
        if (a.missed != 0) LoanReports.delinquency(registry, w.borrower, loanId, a.missed, dpd);
        LoanReports.send(
            registry, loanId, abi.encodeCall(ICreditRegistry.reportDefault, (w.borrower, loanId, dpd))
        );
    }

}
