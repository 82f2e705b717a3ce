// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice One borrower's credit record, aggregated over every loan reported by any ledger.
/// @dev One storage slot: 3 x uint24 + 5 x uint16 + uint96 = 248 bits. `totalRepaid` is in
///      18-decimal units whatever the loan token's decimals, so 6- and 18-decimal tokens add up.
///      `currentDaysPastDue` is the days past due of the latest report for this borrower.
///      Counters saturate instead of overflowing: a report never makes a repayment revert.
struct CreditRecord {
    uint24 paidOnTime;
    uint24 paidLate;
    uint24 missed;
    uint16 currentDaysPastDue;
    uint16 maxDaysPastDue;
    uint16 defaults;
    uint16 loansOpened;
    uint16 loansClosed;
    uint96 totalRepaid;
}

/// @title Credit registry interface: the shared, append-only credit history of borrowers.
/// @notice Ledgers holding the reporter role write one record per borrower in the same
///         transaction as the servicing event they report; anyone may read it.
interface ICreditRegistry {
    /// @notice A reporter (a ledger) opened a loan for `borrower`.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    event LoanOpenedReported(address indexed borrower, address indexed reporter);
    /// @notice Installments settled by a repayment of `amount` (18-decimal units).
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param paidOnTime installments the repayment settled before their grace period ended
    /// @param paidLate installments the repayment settled after their grace period ended
    /// @param daysPastDue the loan's days past due after the repayment
    /// @param amount the amount repaid, in 18-decimal units
    event RepaymentReported(
        address indexed borrower,
        address indexed reporter,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 daysPastDue,
        uint256 amount
    );
    /// @notice Installments that passed their grace period unpaid.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param missed installments that newly passed their grace period unpaid
    /// @param daysPastDue the loan's days past due
    event DelinquencyReported(
        address indexed borrower, address indexed reporter, uint256 missed, uint256 daysPastDue
    );
    /// @notice A loan of `borrower` was declared in default.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param daysPastDue the loan's days past due at default
    event DefaultReported(address indexed borrower, address indexed reporter, uint256 daysPastDue);
    /// @notice A loan of `borrower` was fully repaid (or recovered) and closed.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    event LoanClosedReported(address indexed borrower, address indexed reporter);

    /// @notice Records that a loan was opened for `borrower`.
    /// @dev Reporter role only. Emits {LoanOpenedReported}.
    /// @param borrower the borrower
    function reportLoanOpened(address borrower) external;

    /// @notice Records a repayment: installments it settled on time and late, the days past
    ///         due left after it, the amount in 18-decimal units, and whether it closed the loan.
    /// @dev Reporter role only. Emits {RepaymentReported} and, when `closed`, {LoanClosedReported}.
    /// @param borrower the borrower
    /// @param paidOnTime installments settled before their grace period ended
    /// @param paidLate installments settled after their grace period ended
    /// @param daysPastDue the loan's days past due after the repayment
    /// @param amount the amount repaid, in 18-decimal units
    /// @param closed whether the repayment closed the loan
    function reportRepayment(
        address borrower,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 daysPastDue,
        uint256 amount,
        bool closed
    ) external;

    /// @notice Records installments that passed their grace period unpaid.
    /// @dev Reporter role only. Emits {DelinquencyReported}.
    /// @param borrower the borrower
    /// @param missed installments that newly passed their grace period unpaid
    /// @param daysPastDue the loan's days past due
    function reportDelinquency(address borrower, uint256 missed, uint256 daysPastDue) external;

    /// @notice Records that a loan of `borrower` was declared in default.
    /// @dev Reporter role only. Emits {DefaultReported}.
    /// @param borrower the borrower
    /// @param daysPastDue the loan's days past due at default
    function reportDefault(address borrower, uint256 daysPastDue) external;

    /// @notice The credit record of `borrower` (all zero when nothing was ever reported).
    /// @param borrower the borrower
    function creditRecord(address borrower) external view returns (CreditRecord memory);
}
