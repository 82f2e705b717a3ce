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
interface ICreditRegistry {
    /// @notice A reporter (a ledger) opened a loan for `borrower`.
    event LoanOpenedReported(address indexed borrower, address indexed reporter);
    /// @notice Installments settled by a repayment of `amount` (18-decimal units).
    event RepaymentReported(
        address indexed borrower,
        address indexed reporter,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 daysPastDue,
        uint256 amount
    );
    /// @notice Installments that passed their grace period unpaid.
    event DelinquencyReported(
        address indexed borrower, address indexed reporter, uint256 missed, uint256 daysPastDue
    );
    /// @notice A loan of `borrower` was declared in default.
    event DefaultReported(address indexed borrower, address indexed reporter, uint256 daysPastDue);
    /// @notice A loan of `borrower` was fully repaid (or recovered) and closed.
    event LoanClosedReported(address indexed borrower, address indexed reporter);

    function reportLoanOpened(address borrower) external;
    function reportRepayment(
        address borrower,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 daysPastDue,
        uint256 amount,
        bool closed
    ) external;
    function reportDelinquency(address borrower, uint256 missed, uint256 daysPastDue) external;
    function reportDefault(address borrower, uint256 daysPastDue) external;
    function creditRecord(address borrower) external view returns (CreditRecord memory);
}
