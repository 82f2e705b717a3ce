// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AmountDue, ILoanLedger, LoanStatus, LoanView} from "../interfaces/ILoanLedger.sol";
import {FLAG_ADVANCE, Loan, TokenInfo} from "../LoanLedgerStorage.sol";
import {LoanAccounting} from "./LoanAccounting.sol";
import {LoanSchedule} from "./LoanSchedule.sol";

/// @title LoanViews
/// @notice The ledger's read-only views of a loan (its stored state, quotes, days past due,
///         installments), kept out of the ledger's bytecode: the same accounting as the
///         repayment path, evaluated on a copy in memory.
/// @dev An external (linked) library called by DELEGATECALL from the ledger's views; it reads
///      the ledger's storage through the pointers it is given and writes nothing.
library LoanViews {
    using LoanSchedule for LoanSchedule.Curve;

    /// @notice Loan `loanId` as stored (see {ILoanLedger.loan}).
    function loan(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint16 tokenId => TokenInfo) storage tokens,
        uint256 loanId
    ) internal view returns (LoanView memory v) {
        LoanAccounting.Work memory w = LoanAccounting.load(loans[loanId], loanId);
        TokenInfo memory token = tokens[SafeCast.toUint16(w.tokenId)];
        v.borrower = w.borrower;
        v.lender = w.lender;
        v.token = token.token;
        v.decimals = token.decimals;
        v.status = w.status;
        v.kind = w.kind;
        v.principal = w.principal;
        v.principalOutstanding = w.basePrincipal - w.paidPrincipal;
        v.aprBps = w.aprBps;
        v.penaltyAprBps = w.penaltyAprBps;
        v.lateFeeBps = w.lateFeeBps;
        v.defaultAfterDays = w.defaultAfterDays;
        v.periodSeconds = w.period;
        v.gracePeriodSeconds = w.grace;
        v.installments = w.installments;
        v.installmentsPaid = w.paidCount;
        v.installmentsAssessedLate = w.lateCount;
        v.baseIndex = w.baseIndex;
        v.basePrincipal = w.basePrincipal;
        v.segmentStart = w.segmentStart;
        v.paidPrincipal = w.paidPrincipal;
        v.paidInterest = w.paidInterest;
        v.feesOwed = w.fees;
        v.penaltyOwed = w.penalty;
        v.carriedInterest = w.carried;
        v.lastAccrual = w.lastAccrual;
        v.bucket = w.bucket;
        v.advanceInterest = w.advance;
        v.advancePending = w.flags & FLAG_ADVANCE != 0;
        v.periodMonths = w.months;
        v.dayCount = w.dayCount;
        v.utcOffsetMinutes = w.offset / 60;
        v.anchorDay = w.anchorDay;
        v.interestOnly = w.interestOnly;
        v.roundingExp = w.roundingExp;
        v.oddDays = w.oddDays;
        v.calendarMonth = w.calendarMonth;
        v.holidayPeriods = w.holidayPeriods;
        v.forbearanceFrom = w.pauseFrom;
        v.forbearanceTo = w.pauseTo;
    }

    /// @notice Behind {ILoanLedger.loan}: its result ABI-encoded (the ledger returns it as is).
    function loanEncoded(
        mapping(uint256 loanId => Loan) storage loans,
        mapping(uint16 tokenId => TokenInfo) storage tokens,
        uint256 loanId
    ) external view returns (bytes memory) {
        return abi.encode(loan(loans, tokens, loanId));
    }

    /// @notice Behind {ILoanLedger.amountDue}: its result ABI-encoded.
    function amountDueEncoded(
        mapping(uint256 loanId => Loan) storage loans,
        uint256 loanId,
        uint256 t
    ) external view returns (bytes memory) {
        return abi.encode(amountDue(loans, loanId, t));
    }

    /// @notice Behind {ILoanLedger.payoffAmount}.
    function payoff(mapping(uint256 loanId => Loan) storage loans, uint256 loanId)
        external
        view
        returns (uint256)
    {
        return amountDue(loans, loanId, block.timestamp).payoff;
    }

    /// @notice What loan `loanId` owes at `t` (see {ILoanLedger.amountDue}).
    function amountDue(mapping(uint256 loanId => Loan) storage loans, uint256 loanId, uint256 t)
        internal
        view
        returns (AmountDue memory q)
    {
        if (t < block.timestamp) revert ILoanLedger.TimestampInPast(t, block.timestamp);
        LoanAccounting.Work memory w = LoanAccounting.load(loans[loanId], loanId);
        LoanSchedule.Curve memory c = LoanAccounting.curve(w);
        LoanAccounting.accrue(w, c, t);
        q = LoanAccounting.owed(w, c, t);
    }

    /// @notice Behind {ILoanLedger.daysPastDue}.
    function daysPastDue(mapping(uint256 loanId => Loan) storage loans, uint256 loanId)
        external
        view
        returns (uint256)
    {
        LoanAccounting.Work memory w = LoanAccounting.load(loans[loanId], loanId);
        if (w.status == LoanStatus.Closed) return 0;
        LoanAccounting.accrue(w, LoanAccounting.curve(w), block.timestamp);
        return LoanAccounting.daysPastDue(w, block.timestamp);
    }

    /// @notice Behind {ILoanLedger.installment}.
    function installment(mapping(uint256 loanId => Loan) storage loans, uint256 loanId, uint256 number)
        external
        view
        returns (uint256 dueDate, uint256 principal, uint256 interest)
    {
        LoanAccounting.Work memory w = LoanAccounting.load(loans[loanId], loanId);
        if (number <= w.baseIndex || number > w.installments) {
            revert ILoanLedger.InstallmentOutOfRange(loanId, number, w.baseIndex + 1, w.installments);
        }
        (principal, interest) = LoanAccounting.curve(w).part(number - w.baseIndex);
        dueDate = LoanAccounting.dueDate(w, number);
    }
}
