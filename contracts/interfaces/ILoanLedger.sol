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

/// @notice How a period's interest is counted (a term of the loan).
/// @dev Actual365: actual days over 365 (fixed); Actual360: actual days over 360; Thirty360:
///      30/360 (US bond basis: day 31 counts as 30, and as 30 at the end when the start is 30
///      or 31). Thirty360 goes with calendar-month periods, the actual conventions with periods
///      of whole days: every period of a schedule then has the same rate, so schedules stay in
///      closed form; other combinations are refused ({ILoanLedger.DayCountNotSupported}).
enum DayCount {
    Actual365,
    Actual360,
    Thirty360
}

/// @notice Lifecycle of a loan. A loan exists when its borrower is not the zero address.
enum LoanStatus {
    Active,
    Defaulted,
    Closed
}

/// @notice Terms of a loan, signed by its borrower (EIP-712, see {ILoanLedger.originate}) and
///         sent by its lender, who is the caller of `originate`.
/// @dev The calendar: installments fall due every `periodSeconds` (whole days; zero with
///      calendar months) or every `periodMonths` calendar months (1..12; the day of the month
///      of the first due date, or the month's last day when that day does not exist; a first
///      due date on the last day of its month keeps every due date on the last day). Due dates
///      are dates in the loan's UTC offset (`utcOffsetMinutes`, -720..840 in steps of 15): any
///      time on `firstDueDate`'s date is that date, and a payment at any time on a due date is
///      on time. The first period runs from the origination date to the first due date, which
///      may be up to two periods away; its interest is for the days it actually has.
///      `interestOnly`: the first installments are interest only, then the schedule amortises
///      over the rest. `roundingExp`: installments are whole multiples of 10^roundingExp units
///      (4: cents of a 6-decimal token; 0: no rounding), the last absorbing the difference.
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
    uint8 periodMonths;
    DayCount dayCount;
    int16 utcOffsetMinutes;
    uint16 interestOnly;
    uint8 roundingExp;
}

/// @notice A loan's terms and servicing state as returned by `loan(loanId)`.
/// @dev `baseIndex`, `basePrincipal` and `segmentStart` describe the schedule segment in force:
///      installments `baseIndex + 1 .. installments` amortise `basePrincipal`, installment
///      `baseIndex + j` falls due at the end of the date `j` periods after `segmentStart`'s
///      (`segmentStart` is the end of a date in the loan's offset). A prepayment or a
///      restructuring starts a new segment. `lastAccrual` is the last checkpoint that brought
///      charges current (at origination: the origination time, from which the first period's
///      interest to the day runs). `advancePending`: the segment was started by a prepayment
///      and had not begun at the last checkpoint; `advanceInterest` is then the interest paid
///      for the period still running (credited back to the day at payoff). The calendar terms
///      are as originated ({OriginationTerms}); `anchorDay` is the day of the month due dates
///      fall on (31: the last day), `oddDays` the first period's day-count days beyond (or,
///      negative, short of) a regular period's; with calendar months, installment n falls due
///      in month `calendarMonth + n * periodMonths` (month numbers: year * 12 + month - 1). A
///      restructuring starts a new calendar today
///      (anchor: today's date), with no interest-only installments and no odd first period.
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
    uint256 advanceInterest;
    bool advancePending;
    uint256 periodMonths;
    DayCount dayCount;
    int256 utcOffsetMinutes;
    uint256 anchorDay;
    uint256 interestOnly;
    uint256 roundingExp;
    int256 oddDays;
    uint256 calendarMonth;
    uint256 holidayPeriods;
    uint256 forbearanceFrom;
    uint256 forbearanceTo;
}

/// @notice What a borrower owes at a timestamp, split the way a repayment is allocated.
/// @dev `fees`, `penalty`, `interest` and `principal` are past due (`pastDue` is their sum);
///      `currentInterest` and `currentPrincipal` are what is left of the installment whose
///      period is running (zero when none is, as right after a prepayment, until the next
///      period begins); `remainingPrincipal` is principal scheduled after it.
///
///      Payoff, to the day: `payoff = pastDue + accruedInterest + currentPrincipal +
///      remainingPrincipal - interestRebate`. `accruedInterest` is the running period's
///      interest earned to the day (its scheduled interest times the day-count days from its
///      start date to `timestamp`'s date, in the loan's offset, over its days, rounded down)
///      less what was paid towards it; `interestRebate` is
///      what was paid towards it beyond that (paid ahead, credited back at payoff). At most one
///      of the two is non-zero. A repayment below `payoff` follows the waterfall (the running
///      installment's scheduled interest and principal, then prepayment); a repayment of
///      `payoff` or more closes the loan and pulls exactly `payoff`.
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
    uint256 accruedInterest;
    uint256 interestRebate;
}

/// @title Loan ledger interface: errors, events and entry points of the servicing core.
/// @notice The readable contract of LoanLedger: every error, event and entry point is
///         documented here; the implementation inherits the documentation. The Python side
///         (indexer, audit export) rebuilds its view of every loan from these events alone.
interface ILoanLedger {
    // ----------------------------------------------------------------- errors
    /// @notice No loan has id `loanId` (ids start at 1).
    /// @param loanId the id asked for
    error LoanNotFound(uint256 loanId);
    /// @notice The operation needs an active loan (or, for a repayment, one not closed).
    /// @param loanId the loan
    /// @param status its status
    error LoanNotActive(uint256 loanId, LoanStatus status);
    /// @notice An address argument (admin, registry, borrower, token) is the zero address.
    error ZeroAddress();
    /// @notice A repayment of nothing: the amount, or what is owed, is zero.
    error ZeroAmount();
    /// @notice A lender may not lend to itself.
    /// @param account the borrower, who is also the caller
    error BorrowerIsLender(address account);
    /// @notice The principal is zero or larger than the rate and term allow (the scheduled
    ///         principal and interest must fit 96 bits).
    /// @param principal the principal asked for (for a restructuring: the principal outstanding)
    /// @param maxPrincipal the largest allowed for these rate, period and installments
    error InvalidPrincipal(uint256 principal, uint256 maxPrincipal);
    /// @notice The number of installments is zero or above the maximum.
    /// @param installments the number asked for (for a restructuring: the new last installment)
    /// @param maxInstallments the maximum
    error InvalidInstallments(uint256 installments, uint256 maxInstallments);
    /// @notice The period between installments is out of bounds.
    /// @param periodSeconds the period asked for
    /// @param minSeconds the shortest period allowed
    /// @param maxSeconds the longest period allowed
    error InvalidPeriod(uint256 periodSeconds, uint256 minSeconds, uint256 maxSeconds);
    /// @notice Calendar-month periods count interest 30/360, periods of days actual/365 or
    ///         actual/360; this combination would need a different rate every period.
    /// @param periodMonths the months asked for (0: a period of days)
    /// @param dayCount the convention asked for
    error DayCountNotSupported(uint256 periodMonths, DayCount dayCount);
    /// @notice The UTC offset is outside -12:00..+14:00 or not a multiple of 15 minutes.
    /// @param minutes_ the offset asked for
    error InvalidUtcOffset(int256 minutes_);
    /// @notice Interest-only installments must be fewer than the installments (and none for a
    ///         bullet loan, which is interest only already).
    /// @param interestOnly the number asked for
    /// @param installments the loan's installments
    error InvalidInterestOnly(uint256 interestOnly, uint256 installments);
    /// @notice The rounding unit is coarser than the token's smallest unit allows (at most
    ///         10^18 units).
    /// @param roundingExp the exponent asked for
    error InvalidRounding(uint256 roundingExp);
    /// @notice An interest or penalty rate is above the maximum.
    /// @param bps the rate asked for, in basis points a year
    /// @param maxBps the maximum
    error InvalidRate(uint256 bps, uint256 maxBps);
    /// @notice The late fee is above the maximum.
    /// @param bps the fee asked for, in basis points of the late amount
    /// @param maxBps the maximum
    error InvalidLateFee(uint256 bps, uint256 maxBps);
    /// @notice The grace period is longer than the maximum.
    /// @param graceSeconds the grace period asked for
    /// @param maxSeconds the maximum
    error InvalidGracePeriod(uint256 graceSeconds, uint256 maxSeconds);
    /// @notice The default threshold is zero or above the maximum number of days.
    /// @param days_ the threshold asked for, in days past due
    error InvalidDefaultThreshold(uint256 days_);
    /// @notice The first due date must fall on a date after today's (in the loan's offset) and
    ///         at most two periods from today.
    /// @param firstDueDate the date asked for
    /// @param earliest the earliest allowed
    /// @param latest the latest allowed
    error InvalidFirstDueDate(uint256 firstDueDate, uint256 earliest, uint256 latest);
    /// @notice The token is not a contract with `decimals()` of at most 18.
    /// @param token the token address
    error UnsupportedToken(address token);
    /// @notice A quote was asked for a time before the current block.
    /// @param timestamp the time asked for
    /// @param chainTime the current block's timestamp
    error TimestampInPast(uint256 timestamp, uint256 chainTime);
    /// @notice The installment number is outside the schedule segment in force.
    /// @param loanId the loan
    /// @param installment the number asked for
    /// @param first the first installment of the segment
    /// @param last the last installment of the loan
    error InstallmentOutOfRange(uint256 loanId, uint256 installment, uint256 first, uint256 last);
    /// @notice The loan is not yet as far past due as its default threshold.
    /// @param loanId the loan
    /// @param daysPastDue its days past due now
    /// @param threshold its default threshold, in days past due
    error DefaultThresholdNotReached(uint256 loanId, uint256 daysPastDue, uint256 threshold);
    /// @notice Only the loan's borrower may accept a restructuring.
    /// @param loanId the loan
    /// @param caller the account that tried
    error NotBorrower(uint256 loanId, address caller);
    /// @notice There is no pending restructuring proposal for the loan.
    /// @param loanId the loan
    error NoRestructureProposal(uint256 loanId);
    /// @notice The restructuring proposal's deadline has passed.
    /// @param loanId the loan
    /// @param deadline the proposal's deadline
    /// @param chainTime the current block's timestamp
    error RestructureExpired(uint256 loanId, uint256 deadline, uint256 chainTime);
    /// @notice A proposal's deadline must be after now.
    /// @param deadline the deadline asked for
    /// @param chainTime the current block's timestamp
    error InvalidDeadline(uint256 deadline, uint256 chainTime);
    /// @notice No principal is left to re-amortise (once interest paid ahead is credited).
    /// @param loanId the loan
    error NothingToRestructure(uint256 loanId);
    /// @notice The borrower's signature over the terms is not valid (wrong signer, wrong terms,
    ///         wrong nonce or lender, or an ERC-1271 wallet that refuses it).
    /// @param borrower the borrower named in the terms
    /// @param digest the EIP-712 digest the borrower must have signed
    error InvalidBorrowerSignature(address borrower, bytes32 digest);
    /// @notice The borrower's signature has expired.
    /// @param deadline the signature's deadline
    /// @param chainTime the current block's timestamp
    error SignatureExpired(uint256 deadline, uint256 chainTime);
    /// @notice The admin has not allowed loans in this token.
    /// @param token the token address
    error TokenNotAllowed(address token);
    /// @notice The borrower received less than the principal: the token takes a fee on
    ///         transfer, which this ledger refuses.
    /// @param token the token
    /// @param expected the principal sent
    /// @param received what the borrower's balance rose by
    error FeeOnTransferToken(address token, uint256 expected, uint256 received);
    /// @notice Nothing is claimable by the caller in this token.
    /// @param lender the caller
    /// @param token the token
    error NothingToClaim(address lender, address token);
    /// @notice The terms named on acceptance are not the pending proposal's.
    /// @param loanId the loan
    error RestructureTermsMismatch(uint256 loanId);
    /// @notice The loan's default is already due (days past due at its threshold, past grace):
    ///         it cannot be restructured, only declared in default or brought current.
    /// @param loanId the loan
    /// @param daysPastDue its days past due now
    /// @param threshold its default threshold
    error DefaultDue(uint256 loanId, uint256 daysPastDue, uint256 threshold);
    /// @notice Default cannot be declared while the oldest unpaid installment is inside its
    ///         grace period.
    /// @param loanId the loan
    /// @param graceEnds the last second of that installment's grace period (later by the
    ///        time paused, when a forbearance starts before it ends)
    error DefaultInsideGrace(uint256 loanId, uint256 graceEnds);
    /// @notice A payment holiday must start at an installment not yet due (at acceptance: the
    ///         next installment to fall due) and end within the loan's installments.
    /// @param loanId the loan
    /// @param fromInstallment the holiday's first installment
    /// @param first the first installment it may start at
    /// @param last the last installment it may start at
    error HolidayOutOfRange(uint256 loanId, uint256 fromInstallment, uint256 first, uint256 last);
    /// @notice A payment holiday covers 1 to `maxCount` installments.
    /// @param count the installments asked for
    /// @param maxCount the most one holiday may cover
    error InvalidHolidayLength(uint256 count, uint256 maxCount);
    /// @notice There is no pending payment holiday proposal for the loan.
    /// @param loanId the loan
    error NoHolidayProposal(uint256 loanId);
    /// @notice The holiday named on acceptance is not the pending proposal.
    /// @param loanId the loan
    error HolidayTermsMismatch(uint256 loanId);
    /// @notice The payment holiday proposal's deadline has passed.
    /// @param loanId the loan
    /// @param deadline the proposal's deadline
    /// @param chainTime the current block's timestamp
    error HolidayExpired(uint256 loanId, uint256 deadline, uint256 chainTime);
    /// @notice A payment holiday is for a loan with nothing past due (and no prepaid period
    ///         running): bring it current, or restructure it, first.
    /// @param loanId the loan
    /// @param pastDue interest and principal past due now
    error HolidayNotCurrent(uint256 loanId, uint256 pastDue);
    /// @notice A forbearance runs from a date not before today to a date not before it
    ///         (local day numbers: days since 1970-01-01 in the loan's UTC offset).
    /// @param fromDay the first paused date asked for
    /// @param toDay the last paused date asked for
    /// @param today today's date in the loan's offset
    error InvalidForbearance(uint256 fromDay, uint256 toDay, uint256 today);
    /// @notice The loan's forbearance has begun and still matters (it is running, or an
    ///         installment due before it ended is unpaid): it can be extended or ended early,
    ///         not replaced.
    /// @param loanId the loan
    /// @param fromDay its first paused date
    /// @param toDay its last paused date
    error ForbearanceInEffect(uint256 loanId, uint256 fromDay, uint256 toDay);
    /// @notice A call ran out of gas inside the ledger's protected transfer or report: retry
    ///         with more gas.
    error InsufficientGas();

    // ----------------------------------------------------------------- events
    /// @notice A loan was originated and its principal paid to the borrower.
    /// @param loanId the new loan's id
    /// @param borrower the borrower, who received the principal
    /// @param lender the lender (the caller), who paid it
    /// @param terms the terms as sent
    event LoanOriginated(
        uint256 indexed loanId, address indexed borrower, address indexed lender, OriginationTerms terms
    );

    /// @notice A repayment (or, after default, a recovery) was allocated and paid to the lender.
    /// @param loanId the loan
    /// @param payer the account that paid (the borrower or someone on its behalf)
    /// @param fees paid towards late fees
    /// @param penalty paid towards penalty interest
    /// @param interest paid towards interest (past due, carried over and current)
    /// @param principal paid towards principal (past due, current and prepaid)
    /// @param principalOutstanding principal left to repay after this repayment
    /// @param installmentsPaid installments fully paid after this repayment
    /// @param status the loan's status after this repayment
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
    /// @param loanId the loan
    /// @param lateFee late fees charged now
    /// @param penalty penalty interest charged now
    /// @param missed installments that newly passed their grace period unpaid
    /// @param installmentsAssessedLate installments (absolute numbers) past their grace period
    /// @param feesOwed late fees owed after this charge
    /// @param penaltyOwed penalty interest owed after this charge
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
    /// @param loanId the loan
    /// @param fromBucket the bucket before
    /// @param toBucket the bucket now
    /// @param daysPastDue the days past due that put it there
    event DelinquencyBucketChanged(
        uint256 indexed loanId, uint8 fromBucket, uint8 toBucket, uint256 daysPastDue
    );

    /// @notice A new schedule segment starts (after a prepayment or a restructuring):
    ///         installments `baseIndex + 1 .. installments` amortise `basePrincipal`.
    /// @param loanId the loan
    /// @param baseIndex installments before the segment
    /// @param installments the loan's last installment number
    /// @param basePrincipal the principal the segment amortises
    /// @param segmentStart the end of the date one period before the segment's first due date
    /// @param aprBps the segment's interest rate, in basis points a year
    /// @param periodSeconds the segment's period between installments (0: calendar months, as
    ///        originated)
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
    /// @param loanId the loan
    /// @param servicer the servicer who declared it
    /// @param daysPastDue its days past due at default
    /// @param principalOutstanding principal outstanding (all of it now due)
    /// @param interestOwed interest due through the default date and unpaid
    /// @param feesOwed late fees owed
    /// @param penaltyOwed penalty interest owed
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
    /// @param loanId the loan
    /// @param servicer the servicer who proposed them
    /// @param aprBps the proposed interest rate, in basis points a year
    /// @param installments the number of installments from acceptance
    /// @param periodSeconds the proposed period between installments
    /// @param deadline the last second at which the borrower may accept
    event RestructureProposed(
        uint256 indexed loanId,
        address indexed servicer,
        uint256 aprBps,
        uint256 installments,
        uint256 periodSeconds,
        uint256 deadline
    );

    /// @notice The borrower accepted the proposal; the new schedule starts now.
    /// @param loanId the loan
    /// @param borrower the borrower, who accepted
    /// @param principalOutstanding the principal the new schedule amortises
    /// @param carriedInterest unpaid interest carried over, payable first
    /// @param feesOwed late fees carried over
    /// @param penaltyOwed penalty interest carried over
    event LoanRestructured(
        uint256 indexed loanId,
        address indexed borrower,
        uint256 principalOutstanding,
        uint256 carriedInterest,
        uint256 feesOwed,
        uint256 penaltyOwed
    );

    /// @notice The admin set the origination policy (zero address: none).
    /// @param policy the policy every origination must now pass
    event OriginationPolicySet(address indexed policy);

    /// @notice Everything owed was paid; nothing accrues any more.
    /// @param loanId the loan
    /// @param borrower its borrower
    /// @param afterDefault whether it was closed by recoveries after a default
    event LoanClosed(uint256 indexed loanId, address indexed borrower, bool afterDefault);

    /// @notice A closing repayment credited interest paid ahead for the running period beyond
    ///         what was earned to the day (see {AmountDue}): `amount` of interest already paid
    ///         was applied to principal.
    /// @param loanId the loan
    /// @param amount the interest credited back
    event InterestRebated(uint256 indexed loanId, uint256 amount);

    /// @notice The transfer of a repayment to the lender failed (for example a token blocklist
    ///         naming the lender); the ledger holds `amount` as the lender's claimable balance
    ///         and the repayment counts.
    /// @param loanId the loan
    /// @param lender the lender, who may `claim` it
    /// @param token the token held
    /// @param amount the amount held
    /// @param claimable the lender's claimable balance in this token after it
    event RepaymentHeld(
        uint256 indexed loanId,
        address indexed lender,
        address indexed token,
        uint256 amount,
        uint256 claimable
    );

    /// @notice A lender claimed its held repayments.
    /// @param lender the lender
    /// @param token the token
    /// @param to where it was paid
    /// @param amount the amount paid
    event Claimed(address indexed lender, address indexed token, address to, uint256 amount);

    /// @notice A report to the credit registry failed; the servicing event it carried stands.
    /// @param loanId the loan
    /// @param selector the registry function that failed
    /// @param reason the registry's revert data
    event CreditReportFailed(uint256 indexed loanId, bytes4 selector, bytes reason);

    /// @notice The servicer withdrew a pending restructuring proposal.
    /// @param loanId the loan
    /// @param servicer the servicer who withdrew it
    event RestructureWithdrawn(uint256 indexed loanId, address indexed servicer);

    /// @notice The servicer proposed a payment holiday; the borrower may accept until
    ///         `deadline`.
    /// @param loanId the loan
    /// @param servicer the servicer who proposed it
    /// @param fromInstallment the first installment skipped
    /// @param count the installments skipped
    /// @param deadline the last second at which the borrower may accept
    event HolidayProposed(
        uint256 indexed loanId,
        address indexed servicer,
        uint256 fromInstallment,
        uint256 count,
        uint256 deadline
    );

    /// @notice The servicer withdrew a pending payment holiday proposal.
    /// @param loanId the loan
    /// @param servicer the servicer who withdrew it
    event HolidayWithdrawn(uint256 indexed loanId, address indexed servicer);

    /// @notice The borrower accepted a payment holiday: installments `fromInstallment ..
    ///         fromInstallment + count - 1` are skipped, the term is extended by `count`
    ///         periods, and the holiday's interest is capitalised (see {acceptHoliday}); the
    ///         {ScheduleReset} beside it gives the new segment.
    /// @param loanId the loan
    /// @param borrower the borrower, who accepted
    /// @param fromInstallment the first installment skipped
    /// @param count the installments skipped
    /// @param capitalisedInterest the interest of the holiday added to principal (before the
    ///        credit of interest already paid for the running period)
    /// @param principalOutstanding the principal the rest of the schedule amortises
    event HolidayGranted(
        uint256 indexed loanId,
        address indexed borrower,
        uint256 fromInstallment,
        uint256 count,
        uint256 capitalisedInterest,
        uint256 principalOutstanding
    );

    /// @notice The servicer set the loan's forbearance: its delinquency clock is paused on the
    ///         dates `fromDay .. toDay` (local day numbers, see {InvalidForbearance}).
    /// @param loanId the loan
    /// @param servicer the servicer
    /// @param fromDay the first paused date
    /// @param toDay the last paused date
    event ForbearanceGranted(
        uint256 indexed loanId, address indexed servicer, uint256 fromDay, uint256 toDay
    );

    /// @notice The servicer ended the loan's forbearance early (see {forbear}): `lastDay` was
    ///         its last paused date (the day before its first date: none was paused).
    /// @param loanId the loan
    /// @param servicer the servicer
    /// @param lastDay the last paused date
    event ForbearanceEnded(uint256 indexed loanId, address indexed servicer, uint256 lastDay);

    /// @notice The admin allowed (or disallowed) loans in a token.
    /// @param token the token
    /// @param tokenId its id in this ledger
    /// @param decimals its decimals
    /// @param allowed whether new loans may use it
    event TokenAllowed(address indexed token, uint16 tokenId, uint8 decimals, bool allowed);

    // ------------------------------------------------------------ entry points
    /// @notice Originates a loan with the caller as lender and pays the principal from the
    ///         lender to the borrower in the same transaction (the lender approves the ledger).
    ///         The loan exists only with its borrower's signature over the terms: an EIP-712
    ///         `Origination` (see `ORIGINATION_TYPEHASH`, domain "LoanLedger", version "1")
    ///         naming the lender, every term, the borrower's next nonce and a deadline; ECDSA
    ///         for an externally owned account, ERC-1271 for a contract wallet.
    /// @dev Originator role only; reverts while paused, with {TokenNotAllowed} unless the
    ///      admin allowed the token, {InvalidBorrowerSignature}, {SignatureExpired},
    ///      {FeeOnTransferToken} when the borrower receives less than the principal, and with
    ///      the origination policy's error when a policy is set and refuses. Uses the
    ///      borrower's nonce. Emits {LoanOriginated}; reports the opening to the credit
    ///      registry.
    /// @param terms the loan's terms; the lender is the caller
    /// @param deadline the last second at which the signature may be used
    /// @param signature the borrower's signature (65 bytes, or a wallet's ERC-1271 signature)
    /// @return loanId the new loan's id (ids start at 1)
    function originate(OriginationTerms calldata terms, uint256 deadline, bytes calldata signature)
        external
        returns (uint256 loanId);

    /// @notice The EIP-712 digest a borrower signs for `terms` offered by `lender`, with the
    ///         borrower's current nonce and `deadline`.
    /// @param terms the loan's terms
    /// @param lender the lender who will originate it
    /// @param deadline the signature's deadline
    function originationDigest(OriginationTerms calldata terms, address lender, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice The pending restructuring proposal of a loan (`deadline == 0`: none).
    /// @param loanId the loan
    function restructureProposal(uint256 loanId)
        external
        view
        returns (uint16 aprBps, uint16 installments, uint32 periodSeconds, uint40 deadline);

    /// @notice A token's id in this ledger (0: never allowed) and whether new loans may use it.
    /// @param token the token
    function tokenAllowed(address token) external view returns (uint16 tokenId, bool allowed);

    /// @notice The nonce the borrower's next origination signature must carry.
    /// @param borrower the borrower
    function nonces(address borrower) external view returns (uint256);

    /// @notice Allows or disallows new loans in `token` (existing loans are unaffected).
    /// @dev Admin only. Reverts with {UnsupportedToken} unless `token` is a contract with
    ///      `decimals()` of at most 18. Emits {TokenAllowed}.
    /// @param token the token
    /// @param allowed whether new loans may use it
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Pays the caller's held repayments in `token` (see {RepaymentHeld}) to `to`.
    /// @dev Reverts with {NothingToClaim} when nothing is held. Emits {Claimed}.
    /// @param token the token
    /// @param to the recipient (the lender's own address, or another when it is blocklisted)
    /// @return amount the amount paid
    function claim(address token, address to) external returns (uint256 amount);

    /// @notice What `lender` may claim in `token`.
    /// @param lender the lender
    /// @param token the token
    function claimable(address lender, address token) external view returns (uint256);

    /// @notice Pays up to `amount` towards a loan, allocated by the waterfall; pulls at most the
    ///         payoff amount from the caller and pays it to the lender in the same transaction.
    ///         When the transfer to the lender fails, the amount is pulled into the ledger and
    ///         held as the lender's claimable balance ({RepaymentHeld}); the repayment counts.
    ///         A failed credit report ({CreditReportFailed}) never reverts the repayment.
    ///         The outcome does not depend on how a payment is split: paying `a + b` leaves
    ///         the same loan and the same payoff as paying `a` then `b` at the same time.
    /// @dev Anyone may pay (the borrower or someone on the borrower's behalf); never paused.
    ///      After default the payment is a recovery. Emits {ChargesAccrued} when charges were
    ///      brought current, {RepaymentApplied}, and {DelinquencyBucketChanged},
    ///      {ScheduleReset} (prepayment) and {LoanClosed} when they apply; reports to the
    ///      credit registry.
    /// @param loanId the loan
    /// @param amount the most to pay, in the loan token's smallest unit
    /// @return paid the amount actually pulled from the caller
    function repay(uint256 loanId, uint256 amount) external returns (uint256 paid);

    /// @notice Brings a loan's stored delinquency current: charges late fees and penalty for
    ///         installments past their grace period, records misses, updates the bucket.
    /// @dev Anyone may call (keepers). Active loans only: a defaulted or closed loan cannot be
    ///      moved back. Idempotent within a block; a miss is never counted twice. Emits
    ///      {ChargesAccrued} and {DelinquencyBucketChanged} when they apply; reports misses and
    ///      bucket changes to the credit registry.
    /// @param loanId the loan
    function assess(uint256 loanId) external;

    /// @notice Declares a loan in default once its days past due reach its threshold and its
    ///         oldest unpaid installment is past its grace period ({DefaultInsideGrace}).
    ///         Charges stop accruing; later repayments are recoveries; a pending restructuring
    ///         proposal is dropped.
    /// @dev Servicer role only. Emits {ChargesAccrued} (when charges were brought current),
    ///      {DelinquencyBucketChanged} (when the bucket changes) and {LoanDefaulted}; reports
    ///      the default to the credit registry.
    /// @param loanId the loan
    function declareDefault(uint256 loanId) external;

    /// @notice Proposes new terms for the rest of a loan: rate, number of installments from
    ///         acceptance, period. The borrower may accept until `deadline`; a new proposal
    ///         replaces the previous one.
    /// @dev Servicer role only; active loans only. Emits {RestructureProposed}.
    /// @param loanId the loan
    /// @param aprBps the new interest rate, in basis points a year
    /// @param installments the number of installments from acceptance
    /// @param periodSeconds the new period between installments, whole days (0 for a loan due
    ///        in calendar months: it keeps its months)
    /// @param deadline the last second at which the borrower may accept
    function proposeRestructure(
        uint256 loanId,
        uint16 aprBps,
        uint16 installments,
        uint32 periodSeconds,
        uint40 deadline
    ) external;

    /// @notice The borrower accepts the pending proposal, naming the terms it accepts: the
    ///         outstanding principal is re-amortised from now under the new terms; unpaid
    ///         past-due interest and the running period's interest earned to the day carry
    ///         over, with late fees and penalty, and stay payable first (interest paid ahead is
    ///         credited against principal). The loan is current again.
    /// @dev Borrower only, before the deadline, active loans only; reverts with
    ///      {RestructureTermsMismatch} unless the named terms are the pending proposal's, and
    ///      with {DefaultDue} when the loan's default is already due. Emits {ChargesAccrued}
    ///      (when charges were brought current), {ScheduleReset}, {LoanRestructured} and
    ///      {DelinquencyBucketChanged} when the bucket changes.
    /// @param loanId the loan
    /// @param aprBps the proposal's interest rate, as the borrower saw it
    /// @param installments the proposal's number of installments
    /// @param periodSeconds the proposal's period
    /// @param deadline the proposal's deadline
    function acceptRestructure(
        uint256 loanId,
        uint16 aprBps,
        uint16 installments,
        uint32 periodSeconds,
        uint40 deadline
    ) external;

    /// @notice Withdraws the pending restructuring proposal of a loan.
    /// @dev Servicer role only. Reverts with {NoRestructureProposal} when none is pending.
    ///      Emits {RestructureWithdrawn}.
    /// @param loanId the loan
    function withdrawRestructure(uint256 loanId) external;

    /// @notice The pending payment holiday proposal of a loan (`deadline == 0`: none).
    /// @param loanId the loan
    function holidayProposal(uint256 loanId)
        external
        view
        returns (uint16 fromInstallment, uint16 count, uint40 deadline);

    /// @notice Proposes a payment holiday: installments `fromInstallment .. fromInstallment +
    ///         count - 1` skipped, the term extended by `count` periods. The borrower may
    ///         accept until `deadline`; a new proposal replaces the previous one.
    /// @dev Servicer role only; active loans only. Reverts with {HolidayOutOfRange} unless
    ///      `fromInstallment` is not yet due and is one of the loan's installments, with
    ///      {InvalidHolidayLength} and with {InvalidDeadline}. Emits {HolidayProposed}.
    /// @param loanId the loan
    /// @param fromInstallment the first installment skipped
    /// @param count the installments skipped
    /// @param deadline the last second at which the borrower may accept
    function proposeHoliday(uint256 loanId, uint16 fromInstallment, uint16 count, uint40 deadline)
        external;

    /// @notice The borrower accepts the pending payment holiday, naming it: nothing falls due
    ///         until the end of the skipped installments' periods, and the interest of those
    ///         periods on the outstanding principal (simple interest by the loan's day count,
    ///         rounded down to the loan's rounding unit) is capitalised; interest already paid
    ///         for the running period is credited against it. The remaining installments
    ///         amortise the new principal, each one `count` periods later than before (the
    ///         term is extended by `count` periods). A payoff during the holiday pays the
    ///         holiday's interest to the day only.
    /// @dev Borrower only, before the deadline, active loans with nothing past due only
    ///      ({HolidayNotCurrent}); `fromInstallment` must be the next installment to fall due
    ///      ({HolidayOutOfRange}); {InvalidPrincipal} when the new principal is beyond what
    ///      the remaining schedule allows (as at origination). Emits {HolidayGranted} and
    ///      {ScheduleReset}.
    /// @param loanId the loan
    /// @param fromInstallment the proposal's first installment, as the borrower saw it
    /// @param count the proposal's installments skipped
    /// @param deadline the proposal's deadline
    function acceptHoliday(uint256 loanId, uint16 fromInstallment, uint16 count, uint40 deadline)
        external;

    /// @notice Withdraws the pending payment holiday proposal of a loan.
    /// @dev Servicer role only. Reverts with {NoHolidayProposal}. Emits {HolidayWithdrawn}.
    /// @param loanId the loan
    function withdrawHoliday(uint256 loanId) external;

    /// @notice Pauses the loan's delinquency clock on the dates `fromDay .. toDay` (local day
    ///         numbers: days since 1970-01-01 in the loan's UTC offset): days past due are net
    ///         of paused days (today - oldest unpaid due date - paused days), an installment
    ///         is late only once its grace period has passed in unpaused time, and no late fee
    ///         or penalty interest accrues on paused time. Charges are brought current first.
    ///         A forbearance that has begun is changed by naming its first date again: a later
    ///         `toDay` extends it, `toDay` yesterday ends it early (the day before `fromDay`:
    ///         it is removed, no date paused).
    /// @dev Servicer role only; active loans only. Reverts with {InvalidForbearance} and
    ///      {ForbearanceInEffect}. Emits {ChargesAccrued} when charges were brought current,
    ///      {ForbearanceGranted} (or {ForbearanceEnded} when ended early) and
    ///      {DelinquencyBucketChanged} when the bucket changes; reports a new forbearance to
    ///      the credit registry.
    /// @param loanId the loan
    /// @param fromDay the first paused date
    /// @param toDay the last paused date
    function forbear(uint256 loanId, uint256 fromDay, uint256 toDay) external;

    /// @notice A loan's terms and servicing state as stored (charges as of the last checkpoint).
    /// @param loanId the loan; reverts with {LoanNotFound} for unknown ids
    function loan(uint256 loanId) external view returns (LoanView memory);

    /// @notice Number of loans originated so far (the highest loan id).
    function loanCount() external view returns (uint256);

    /// @notice What is owed at `timestamp` (now or later), with charges accrued to then and
    ///         split as a repayment at that time would be allocated. The same computation
    ///         serves `repay`, so a repayment of `payoff` at `timestamp` closes the loan.
    /// @param loanId the loan
    /// @param timestamp the time of the quote, not before the current block
    function amountDue(uint256 loanId, uint256 timestamp) external view returns (AmountDue memory);

    /// @notice The amount that closes the loan now: charges, past-due amounts, all principal
    ///         outstanding and the running period's interest to the day (see {AmountDue}).
    /// @param loanId the loan
    function payoffAmount(uint256 loanId) external view returns (uint256);

    /// @notice Days past due now, counted from the due date of the oldest unpaid installment.
    /// @param loanId the loan
    function daysPastDue(uint256 loanId) external view returns (uint256);

    /// @notice Due date, principal and interest of installment `number` of the schedule in
    ///         force (numbers `baseIndex + 1 .. installments`).
    /// @param loanId the loan
    /// @param number the installment's number
    /// @return dueDate when it falls due
    /// @return principal its principal part
    /// @return interest its interest part
    function installment(uint256 loanId, uint256 number)
        external
        view
        returns (uint256 dueDate, uint256 principal, uint256 interest);
}
