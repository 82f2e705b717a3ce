// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A borrower's credit figures, as one reporter (a ledger) reported them or summed over
///         every reporter.
/// @dev One storage slot: 3 x uint24 + 5 x uint16 + uint96 + uint8 = 256 bits. `totalRepaid` is in
///      18-decimal units whatever the loan token's decimals, so 6- and 18-decimal tokens add up.
///      `currentDaysPastDue` is the days past due of the borrower's worst open loan as last
///      reported (0 when every open loan is current); `maxDaysPastDue` the worst ever reported.
///      `forbearances` counts the forbearances granted on the borrower's loans.
///      Counters saturate instead of overflowing: a report never reverts on a full counter.
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
    uint8 forbearances;
}

/// @notice The parts of a credit score in points (see `CreditScore`): the first four add to
///         the base of 300, the last three are deducted.
/// @dev onTime 0..250, history 0..100, closed 0..100, standing 0..100; worst 0..50, misses
///      0..50, defaults 0..300.
struct ScoreFactors {
    uint16 onTime;
    uint16 history;
    uint16 closed;
    uint16 standing;
    uint16 worst;
    uint16 misses;
    uint16 defaults;
}

/// @title Credit registry interface: the shared, append-only credit history of borrowers.
/// @notice Ledgers holding the reporter role report servicing events per loan, in the same
///         transaction as the event; the registry keeps each reporter's figures per borrower
///         beside the borrower's totals, so a reader can weigh reports by their source.
///         Anyone may read it. Days past due are reported only once an installment is past
///         its grace period: lateness inside grace is not delinquency.
interface ICreditRegistry {
    /// @notice A reporter named, for one borrower, a loan id it had reported as past due for
    ///         another borrower.
    /// @param reporter the reporter
    /// @param loanId the loan id
    /// @param borrower the borrower it reported the loan for before
    error LoanOfAnotherBorrower(address reporter, uint256 loanId, address borrower);

    /// @notice A reporter (a ledger) opened loan `loanId` for `borrower`.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param loanId the loan's id in that ledger
    event LoanOpenedReported(address indexed borrower, address indexed reporter, uint256 loanId);
    /// @notice Installments settled by a repayment of `amount` (18-decimal units).
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param loanId the loan's id in that ledger
    /// @param paidOnTime installments the repayment settled before their grace period ended
    /// @param paidLate installments the repayment settled after their grace period ended
    /// @param amount the amount repaid, in 18-decimal units
    event RepaymentReported(
        address indexed borrower,
        address indexed reporter,
        uint256 loanId,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 amount
    );
    /// @notice A loan's days past due (past grace) and newly missed installments.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param loanId the loan's id in that ledger
    /// @param missed installments that newly passed their grace period unpaid
    /// @param daysPastDue the loan's days past due now (0: current or inside grace)
    event DelinquencyReported(
        address indexed borrower,
        address indexed reporter,
        uint256 loanId,
        uint256 missed,
        uint256 daysPastDue
    );
    /// @notice A loan was declared in default.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param loanId the loan's id in that ledger
    /// @param daysPastDue its days past due at default
    event DefaultReported(
        address indexed borrower, address indexed reporter, uint256 loanId, uint256 daysPastDue
    );
    /// @notice A loan's servicer granted forbearance: its delinquency clock is paused on the
    ///         dates `fromDay .. toDay` (day numbers in the loan's UTC offset).
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param loanId the loan's id in that ledger
    /// @param fromDay the first paused date
    /// @param toDay the last paused date
    event ForbearanceReported(
        address indexed borrower,
        address indexed reporter,
        uint256 loanId,
        uint256 fromDay,
        uint256 toDay
    );
    /// @notice A loan was repaid in full.
    /// @param borrower the borrower
    /// @param reporter the ledger that reported it
    /// @param loanId the loan's id in that ledger
    event LoanClosedReported(address indexed borrower, address indexed reporter, uint256 loanId);

    /// @notice Records that the caller opened loan `loanId` for `borrower`.
    /// @dev Reporter role only. Emits {LoanOpenedReported}.
    /// @param borrower the borrower
    /// @param loanId the loan's id in the caller's ledger
    function reportLoanOpened(address borrower, uint256 loanId) external;

    /// @notice Records a repayment on loan `loanId`: installments settled on time and late,
    ///         the amount, and whether it closed the loan (a closed loan is current).
    /// @dev Reporter role only. Emits {RepaymentReported} and, when `closed`,
    ///      {LoanClosedReported}.
    /// @param borrower the borrower
    /// @param loanId the loan's id in the caller's ledger
    /// @param paidOnTime installments settled before their grace period ended
    /// @param paidLate installments settled after their grace period ended
    /// @param amount the amount repaid, in 18-decimal units
    /// @param closed whether the repayment closed the loan
    function reportRepayment(
        address borrower,
        uint256 loanId,
        uint256 paidOnTime,
        uint256 paidLate,
        uint256 amount,
        bool closed
    ) external;

    /// @notice Records loan `loanId`'s days past due (past grace; 0 when current or inside
    ///         grace) and the installments that newly passed their grace period unpaid.
    /// @dev Reporter role only. Emits {DelinquencyReported}.
    /// @param borrower the borrower
    /// @param loanId the loan's id in the caller's ledger
    /// @param missed installments newly missed
    /// @param daysPastDue the loan's days past due now
    function reportDelinquency(address borrower, uint256 loanId, uint256 missed, uint256 daysPastDue)
        external;

    /// @notice Records that loan `loanId` was declared in default at `daysPastDue`.
    /// @dev Reporter role only. Emits {DefaultReported}.
    /// @param borrower the borrower
    /// @param loanId the loan's id in the caller's ledger
    /// @param daysPastDue its days past due at default
    function reportDefault(address borrower, uint256 loanId, uint256 daysPastDue) external;

    /// @notice Records that loan `loanId` was granted forbearance on `fromDay .. toDay`.
    /// @dev Reporter role only. Emits {ForbearanceReported}.
    /// @param borrower the borrower
    /// @param loanId the loan's id in the caller's ledger
    /// @param fromDay the first paused date (day number in the loan's offset)
    /// @param toDay the last paused date
    function reportForbearance(address borrower, uint256 loanId, uint256 fromDay, uint256 toDay)
        external;
    /// @notice The borrower's totals over every reporter; `currentDaysPastDue` is the worst
    ///         open loan's, `maxDaysPastDue` the worst ever reported.
    /// @param borrower the borrower
    function creditRecord(address borrower) external view returns (CreditRecord memory);

    /// @notice The borrower's figures as reported by one reporter.
    /// @param borrower the borrower
    /// @param reporter the reporting ledger
    function reporterRecord(address borrower, address reporter)
        external
        view
        returns (CreditRecord memory);

    /// @notice The borrower's credit score, 300 to 850 (0: no loan ever reported), from the
    ///         totals `creditRecord` returns by the published formula of `CreditScore`, and its
    ///         parts. It changes by itself with every report.
    /// @param borrower the borrower
    function creditScore(address borrower)
        external
        view
        returns (uint256 score, ScoreFactors memory factors);

    /// @notice The score of the borrower's figures as one reporter reported them.
    /// @param borrower the borrower
    /// @param reporter the reporting ledger
    function reporterScore(address borrower, address reporter)
        external
        view
        returns (uint256 score, ScoreFactors memory factors);

    /// @notice The reporters that ever reported about the borrower, in order of first report.
    /// @param borrower the borrower
    function reportersOf(address borrower) external view returns (address[] memory);

    /// @notice Days past due last reported for loan `loanId` of `reporter` (0: current or
    ///         closed).
    /// @param reporter the reporting ledger
    /// @param loanId the loan's id in that ledger
    function loanDaysPastDue(address reporter, uint256 loanId) external view returns (uint256);
}
