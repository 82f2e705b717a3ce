// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice How a loan's principal is repaid over its installments.
/// @dev Annuity: equal installments (standard amortisation). EqualPrincipal: the same principal
///      every installment plus interest on the falling balance. Bullet: interest only, the whole
///      principal with the last installment (balloon).
enum ScheduleKind {
    Annuity,
    EqualPrincipal,
    Bullet
}

/// @notice Lifecycle of a loan. A loan exists when its borrower is not the zero address.
enum LoanStatus {
    Active,
    Defaulted,
    Closed
}

/// @notice Terms a lender sends to originate a loan; the lender is the caller.
struct OriginationTerms {
    address borrower;
    address token;
    uint128 principal;
    uint16 aprBps;
    uint16 installments;
    uint32 periodSeconds;
    uint40 firstDueDate;
    ScheduleKind kind;
    uint32 gracePeriodSeconds;
    uint16 lateFeeBps;
    uint16 penaltyAprBps;
    uint16 defaultAfterDays;
}

/// @notice A loan's terms and servicing state as returned by `loan(loanId)`.
/// @dev `baseIndex`, `basePrincipal` and `segmentStart` describe the schedule segment in force:
///      installments `baseIndex + 1 .. installments` amortise `basePrincipal`, installment
///      `baseIndex + j` falls due at `segmentStart + j * periodSeconds`. A prepayment or a
///      restructuring starts a new segment.
struct LoanView {
    address borrower;
    address lender;
    address token;
    uint8 decimals;
    LoanStatus status;
    ScheduleKind kind;
    uint256 principal;
    uint256 principalOutstanding;
    uint256 aprBps;
    uint256 penaltyAprBps;
    uint256 lateFeeBps;
    uint256 defaultAfterDays;
    uint256 periodSeconds;
    uint256 gracePeriodSeconds;
    uint256 installments;
    uint256 installmentsPaid;
    uint256 installmentsAssessedLate;
    uint256 baseIndex;
    uint256 basePrincipal;
    uint256 segmentStart;
    uint256 paidPrincipal;
    uint256 paidInterest;
    uint256 feesOwed;
    uint256 penaltyOwed;
    uint256 carriedInterest;
    uint256 lastAccrual;
    uint8 bucket;
}

/// @notice What a borrower owes at a timestamp, split the way a repayment is allocated.
/// @dev `fees`, `penalty`, `interest` and `principal` are past due; `currentInterest` and
///      `currentPrincipal` belong to the next installment not yet due; `remainingPrincipal` is
///      principal scheduled after it. `payoff` is the sum of all seven.
struct AmountDue {
    uint256 fees;
    uint256 penalty;
    uint256 interest;
    uint256 principal;
    uint256 currentInterest;
    uint256 currentPrincipal;
    uint256 remainingPrincipal;
    uint256 pastDue;
    uint256 payoff;
    uint256 daysPastDue;
    uint256 nextDueDate;
    uint256 nextInstallment;
}

/// @title Loan ledger interface: errors, events and entry points of the servicing core.
interface ILoanLedger {
    // ----------------------------------------------------------------- errors
    error LoanNotFound(uint256 loanId);
    error LoanNotActive(uint256 loanId, LoanStatus status);
    error ZeroAddress();
    error ZeroAmount();
    error BorrowerIsLender(address account);
    error InvalidPrincipal(uint256 principal, uint256 maxPrincipal);
    error InvalidInstallments(uint256 installments, uint256 maxInstallments);
    error InvalidPeriod(uint256 periodSeconds, uint256 minSeconds, uint256 maxSeconds);
    error InvalidRate(uint256 bps, uint256 maxBps);
    error InvalidLateFee(uint256 bps, uint256 maxBps);
    error InvalidGracePeriod(uint256 graceSeconds, uint256 maxSeconds);
    error InvalidDefaultThreshold(uint256 days_);
    error InvalidFirstDueDate(uint256 firstDueDate, uint256 earliest, uint256 latest);
    error UnsupportedToken(address token);
    error TimestampInPast(uint256 timestamp, uint256 chainTime);
    error InstallmentOutOfRange(uint256 loanId, uint256 installment, uint256 first, uint256 last);
    error DefaultThresholdNotReached(uint256 loanId, uint256 daysPastDue, uint256 threshold);
    error NotBorrower(uint256 loanId, address caller);
    error NoRestructureProposal(uint256 loanId);
    error RestructureExpired(uint256 loanId, uint256 deadline, uint256 chainTime);
    error InvalidDeadline(uint256 deadline, uint256 chainTime);
    error NothingToRestructure(uint256 loanId);

    // ----------------------------------------------------------------- events
    /// @notice A loan was originated and its principal paid to the borrower.
    event LoanOriginated(
        uint256 indexed loanId, address indexed borrower, address indexed lender, OriginationTerms terms
    );

    /// @notice A repayment (or, after default, a recovery) was allocated and paid to the lender.
    /// @param installmentsPaid installments fully paid after this repayment
    event RepaymentApplied(
        uint256 indexed loanId,
        address indexed payer,
        uint256 fees,
        uint256 penalty,
        uint256 interest,
        uint256 principal,
        uint256 principalOutstanding,
        uint256 installmentsPaid,
        LoanStatus status
    );

    /// @notice Late fees and penalty interest were charged; installments up to
    ///         `installmentsAssessedLate` have passed their grace period.
    /// @param missed installments that newly passed their grace period unpaid
    event ChargesAccrued(
        uint256 indexed loanId,
        uint256 lateFee,
        uint256 penalty,
        uint256 missed,
        uint256 installmentsAssessedLate,
        uint256 feesOwed,
        uint256 penaltyOwed
    );

    /// @notice The loan moved between delinquency buckets (0 current, 1: 1-30, 2: 31-60,
    ///         3: 61-90, 4: over 90 days past due).
    event DelinquencyBucketChanged(
        uint256 indexed loanId, uint8 fromBucket, uint8 toBucket, uint256 daysPastDue
    );

    /// @notice A new schedule segment starts (after a prepayment or a restructuring).
    event ScheduleReset(
        uint256 indexed loanId,
        uint256 baseIndex,
        uint256 installments,
        uint256 basePrincipal,
        uint256 segmentStart,
        uint256 aprBps,
        uint256 periodSeconds
    );

    /// @notice The servicer declared the loan in default; charges stop accruing.
    event LoanDefaulted(
        uint256 indexed loanId,
        address indexed servicer,
        uint256 daysPastDue,
        uint256 principalOutstanding,
        uint256 interestOwed,
        uint256 feesOwed,
        uint256 penaltyOwed
    );

    /// @notice The servicer proposed new terms; the borrower may accept until `deadline`.
    event RestructureProposed(
        uint256 indexed loanId,
        address indexed servicer,
        uint256 aprBps,
        uint256 installments,
        uint256 periodSeconds,
        uint256 deadline
    );

    /// @notice The borrower accepted the proposal; the new schedule starts now.
    event LoanRestructured(
        uint256 indexed loanId,
        address indexed borrower,
        uint256 principalOutstanding,
        uint256 carriedInterest,
        uint256 feesOwed,
        uint256 penaltyOwed
    );

    /// @notice The admin set the origination policy (zero address: none).
    event OriginationPolicySet(address indexed policy);

    /// @notice Everything owed was paid; nothing accrues any more.
    event LoanClosed(uint256 indexed loanId, address indexed borrower, bool afterDefault);

    // ------------------------------------------------------------ entry points
    function originate(OriginationTerms calldata terms) external returns (uint256 loanId);
    function repay(uint256 loanId, uint256 amount) external returns (uint256 paid);
    function assess(uint256 loanId) external;
    function declareDefault(uint256 loanId) external;
    function proposeRestructure(
        uint256 loanId,
        uint16 aprBps,
        uint16 installments,
        uint32 periodSeconds,
        uint40 deadline
    ) external;
    function acceptRestructure(uint256 loanId) external;

    function loan(uint256 loanId) external view returns (LoanView memory);
    function loanCount() external view returns (uint256);
    function amountDue(uint256 loanId, uint256 timestamp) external view returns (AmountDue memory);
    function payoffAmount(uint256 loanId) external view returns (uint256);
    function daysPastDue(uint256 loanId) external view returns (uint256);
    function installment(uint256 loanId, uint256 number)
        external
        view
        returns (uint256 dueDate, uint256 principal, uint256 interest);
}
