// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ICreditRegistry} from "./interfaces/ICreditRegistry.sol";
import {IOriginationPolicy} from "./interfaces/IOriginationPolicy.sol";
import {
    AmountDue,
    ILoanLedger,
    LoanStatus,
    LoanView,
    OriginationTerms,
    ScheduleKind
} from "./interfaces/ILoanLedger.sol";
import {LoanSchedule} from "./libraries/LoanSchedule.sol";

/// @title LoanLedger
/// @notice Many loans in one contract: terms, closed-form schedules, the repayment waterfall,
///         delinquency, default, restructuring, and reports to a shared credit registry.
///
/// Repayment allocation, in this order: past-due late fees, penalty interest, past-due interest
/// (oldest first), past-due principal (oldest first), the current installment (interest, then
/// principal), then prepayment of principal. A prepayment keeps the term and lowers every later
/// installment: the outstanding principal is re-amortised over the remaining installments.
///
/// Late charges: an installment unpaid when its grace period ends is charged a late fee once
/// (`lateFeeBps` of its unpaid amount) and from then on accrues penalty interest at
/// `penaltyAprBps` a year on its unpaid amount. Charges are brought current at every repayment
/// and `assess`; installments that pass their grace period between two such checkpoints accrue
/// penalty from the end of the latest of those grace periods, in the borrower's favour (a
/// keeper calling `assess` at each grace end makes the accrual exact). Charges stop at default.
///
/// Payoff: every charge and past-due amount, the current installment's interest for its whole
/// period, and all outstanding principal.
///
/// @dev Storage per loan, 4 slots written at origination (6 at most):
///      slot 0: borrower (160) | tokenId (16) | installments (16) | aprBps (16) |
///              penaltyAprBps (16) | lateFeeBps (16) | defaultAfterDays (16)
///      slot 1: lender (160) | principal (96)
///      slot 2: basePrincipal (96) | segmentStart (40) | lastAccrual (40) | lateCount (16) |
///              periodSeconds (32) | grace (32)
///      slot 3: paidPrincipal (96) | paidInterest (96) | status (8) | kind (8) | bucket (8) |
///              flags (8) | baseIndex (16) | paidCount (16)
///              (FLAG_LIVE keeps the slot non-zero from origination, so the first repayment
///              does not pay for a new slot; an on-time repayment writes only this slot)
///      slot 4: feesOwed (96) | penaltyOwed (96)        read only when FLAG_CHARGES is set
///      slot 5: carriedInterest (96)                    read only when FLAG_CARRIED is set
contract LoanLedger is ILoanLedger, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using LoanSchedule for LoanSchedule.Curve;

    /// @notice Role allowed to originate loans as the lender.
    bytes32 public constant ORIGINATOR_ROLE = keccak256("ORIGINATOR_ROLE");
    /// @notice Role allowed to declare default and propose restructurings.
    bytes32 public constant SERVICER_ROLE = keccak256("SERVICER_ROLE");

    uint256 public constant MAX_PRINCIPAL = type(uint96).max;
    uint256 public constant MAX_INSTALLMENTS = 480;
    uint256 public constant MIN_PERIOD = 1 days;
    uint256 public constant MAX_PERIOD = 366 days;
    uint256 public constant MAX_RATE_BPS = 10_000;
    uint256 public constant MAX_LATE_FEE_BPS = 2_500;
    uint256 public constant MAX_GRACE = 90 days;
    uint256 public constant MAX_DEFAULT_DAYS = 3650;

    uint8 private constant FLAG_CHARGES = 1;
    uint8 private constant FLAG_CARRIED = 2;
    uint8 private constant FLAG_LIVE = 0x80;

    struct Loan {
        // slot 0: parties and rates
        address borrower;
        uint16 tokenId;
        uint16 installments;
        uint16 aprBps;
        uint16 penaltyAprBps;
        uint16 lateFeeBps;
        uint16 defaultAfterDays;
        // slot 1
        address lender;
        uint96 principal;
        // slot 2: the schedule segment in force and the lateness clock
        uint96 basePrincipal;
        uint40 segmentStart;
        uint40 lastAccrual;
        uint16 lateCount;
        uint32 periodSeconds;
        uint32 gracePeriodSeconds;
        // slot 3: everything an on-time repayment writes, in one slot
        uint96 paidPrincipal;
        uint96 paidInterest;
        LoanStatus status;
        ScheduleKind kind;
        uint8 bucket;
        uint8 flags;
        uint16 baseIndex;
        uint16 paidCount;
        // slot 4, read only when FLAG_CHARGES is set
        uint96 feesOwed;
        uint96 penaltyOwed;
        // slot 5, read only when FLAG_CARRIED is set
        uint96 carriedInterest;
    }

    struct TokenInfo {
        address token;
        uint8 decimals;
        uint64 scale; // 10 ** (18 - decimals): converts amounts to 18-decimal units
    }

    struct Proposal {
        uint16 aprBps;
        uint16 installments;
        uint32 periodSeconds;
        uint40 deadline;
    }

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
    }

    /// @dev The current installment of a loan that is up to date (the fast repayment path).
    struct Current {
        uint256 paidCount;
        uint256 interestDue;
        uint256 principalDue;
        uint256 basePrincipal;
        uint256 paidPrincipal;
        uint256 paidInterest;
    }

    /// @dev What a repayment changed, for events and the credit report.
    struct Outcome {
        uint256 onTime;
        uint256 late;
        uint256 daysPastDue;
        uint8 oldBucket;
        bool afterDefault;
    }

    ICreditRegistry public immutable creditRegistry;

    // Packed with Pausable's `_paused` flag: one slot read per origination.
    uint64 private _loanCount;
    uint16 private _tokenCount;
    IOriginationPolicy private _originationPolicy;
    mapping(uint256 loanId => Loan) private _loans;
    mapping(address token => uint16 tokenId) private _tokenIds;
    mapping(uint16 tokenId => TokenInfo) private _tokens;
    mapping(uint256 loanId => Proposal) private _proposals;

    /// @param admin holder of DEFAULT_ADMIN_ROLE (grants roles, pauses origination)
    /// @param registry credit registry this ledger reports to (grant it REPORTER_ROLE there)
    constructor(address admin, ICreditRegistry registry) {
        if (admin == address(0) || address(registry) == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        creditRegistry = registry;
    }

    // =====================================================================================
    // Origination
    // =====================================================================================

    /// @notice Originates a loan with the caller as lender and pays the principal from the
    ///         lender to the borrower in the same transaction (the lender approves the ledger).
    /// @dev Originator role only; reverts while paused. Emits {LoanOriginated}; reports the
    ///      opening to the credit registry.
    /// @return loanId the new loan's id (ids start at 1)
    function originate(OriginationTerms calldata terms)
        external
        onlyRole(ORIGINATOR_ROLE)
        whenNotPaused
        nonReentrant
        returns (uint256 loanId)
    {
        _validate(terms);
        IOriginationPolicy policy = _originationPolicy;
        if (address(policy) != address(0)) policy.checkOrigination(msg.sender, terms.borrower);
        uint16 tokenId = _tokenIdOf(terms.token);
        loanId = ++_loanCount;
        Loan storage s = _loans[loanId];
        s.borrower = terms.borrower;
        s.tokenId = tokenId;
        s.installments = terms.installments;
        s.aprBps = terms.aprBps;
        s.penaltyAprBps = terms.penaltyAprBps;
        s.lateFeeBps = terms.lateFeeBps;
        s.defaultAfterDays = terms.defaultAfterDays;
        s.lender = msg.sender;
        s.principal = uint96(terms.principal);
        s.basePrincipal = uint96(terms.principal);
        s.periodSeconds = terms.periodSeconds;
        s.gracePeriodSeconds = terms.gracePeriodSeconds;
        s.segmentStart = terms.firstDueDate - terms.periodSeconds;
        s.kind = terms.kind;
        s.flags = FLAG_LIVE;
        emit LoanOriginated(loanId, terms.borrower, msg.sender, terms);
        creditRegistry.reportLoanOpened(terms.borrower);
        IERC20(terms.token).safeTransferFrom(msg.sender, terms.borrower, terms.principal);
    }

    // =====================================================================================
    // Repayment
    // =====================================================================================

    /// @notice Pays up to `amount` towards a loan, allocated by the waterfall; pulls at most the
    ///         payoff amount from the caller and pays it to the lender in the same transaction.
    /// @dev Anyone may pay (the borrower or someone on the borrower's behalf); never paused.
    ///      After default the payment is a recovery. Emits {ChargesAccrued} when charges were
    ///      brought current, {RepaymentApplied}, and {DelinquencyBucketChanged},
    ///      {ScheduleReset} (prepayment) and {LoanClosed} when they apply; reports to the
    ///      credit registry.
    /// @return paid the amount actually pulled from the caller
    function repay(uint256 loanId, uint256 amount) external nonReentrant returns (uint256 paid) {
        if (amount == 0) revert ZeroAmount();
        paid = _repayCurrentInstallment(loanId, amount);
        if (paid != 0) return paid;
        Work memory w = _load(loanId);
        if (w.status == LoanStatus.Closed) revert LoanNotActive(loanId, w.status);
        (Allocation memory al, Accrual memory a, Outcome memory o) = _applyRepayment(w, amount);
        paid = al.total;
        _store(loanId, w);
        _emitAccrual(loanId, w, a);
        emit RepaymentApplied(
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
            emit DelinquencyBucketChanged(loanId, o.oldBucket, w.bucket, o.daysPastDue);
        }
        if (w.status == LoanStatus.Closed) emit LoanClosed(loanId, w.borrower, o.afterDefault);

        TokenInfo memory token = _tokens[uint16(w.tokenId)];
        if (a.missed != 0) creditRegistry.reportDelinquency(w.borrower, a.missed, o.daysPastDue);
        creditRegistry.reportRepayment(
            w.borrower,
            o.onTime,
            o.late,
            o.daysPastDue,
            paid * token.scale,
            w.status == LoanStatus.Closed
        );
        IERC20(token.token).safeTransferFrom(msg.sender, w.lender, paid);
    }

    /// @dev The common case in a few storage reads: the loan is current (nothing past due, no
    ///      charges, bucket 0) and the payment covers at most the current installment. Returns 0
    ///      when the case does not apply; the general path then handles the payment. Both paths
    ///      allocate identically (interest of the current installment first, then principal).
    function _repayCurrentInstallment(uint256 loanId, uint256 amount) internal returns (uint256) {
        Loan storage s = _loans[loanId];
        Current memory cur = _currentInstallmentDue(s);
        uint256 installmentDue = cur.interestDue + cur.principalDue;
        if (installmentDue == 0 || amount > installmentDue) return 0;
        uint256 toInterest = amount < cur.interestDue ? amount : cur.interestDue;
        uint256 paidPrincipal;
        uint256 paidInterest;
        unchecked {
            // Both stay at or under the cumulative amounts due, which fit in 96 bits.
            paidPrincipal = cur.paidPrincipal + amount - toInterest;
            paidInterest = cur.paidInterest + toInterest;
        }
        uint256 settled = amount == installmentDue ? 1 : 0;
        uint256 paidCount = cur.paidCount + settled;
        uint256 outstanding = cur.basePrincipal - paidPrincipal;
        s.paidPrincipal = uint96(paidPrincipal);
        s.paidInterest = uint96(paidInterest);
        s.paidCount = uint16(paidCount);
        if (outstanding == 0) s.status = LoanStatus.Closed;
        _reportCurrentRepayment(loanId, s, amount, toInterest, outstanding, paidCount, settled);
        return amount;
    }

    /// @dev For a current loan (nothing past due, no charges, bucket 0): what is left of the
    ///      next installment, with the fields a repayment of it needs, each read once. Zero
    ///      amounts due when the loan is not in that state.
    function _currentInstallmentDue(Loan storage s) private view returns (Current memory cur) {
        uint256 paidCount = s.paidCount;
        uint256 base = s.baseIndex;
        if (s.flags != FLAG_LIVE || s.bucket != 0 || s.status != LoanStatus.Active) return cur;
        uint256 count = s.installments - base;
        if (count == 0) return cur; // no such loan (or nothing left to schedule)
        uint256 period = s.periodSeconds;
        uint256 due; // installments of the segment due before now
        {
            uint256 start = s.segmentStart;
            unchecked {
                // start >= period > 0 and timestamps < 2^40: no wrap-around.
                if (block.timestamp > start) due = (block.timestamp - start - 1) / period;
            }
        }
        if (due >= count || paidCount != base + due) return cur;
        cur.paidCount = paidCount;
        cur.basePrincipal = s.basePrincipal;
        cur.paidPrincipal = s.paidPrincipal;
        cur.paidInterest = s.paidInterest;
        (uint256 cumPrincipal, uint256 cumInterest) = LoanSchedule.curve(
            s.kind, cur.basePrincipal, count, s.aprBps, period
        ).cumulative(due + 1);
        cur.interestDue = _sub(cumInterest, cur.paidInterest);
        cur.principalDue = _sub(cumPrincipal, cur.paidPrincipal);
    }

    /// @dev Events, credit report and token transfer of a fast-path repayment.
    function _reportCurrentRepayment(
        uint256 loanId,
        Loan storage s,
        uint256 amount,
        uint256 toInterest,
        uint256 outstanding,
        uint256 paidCount,
        uint256 settled
    ) private {
        address borrower = s.borrower;
        bool closed = outstanding == 0;
        emit RepaymentApplied(
            loanId,
            msg.sender,
            0,
            0,
            toInterest,
            amount - toInterest,
            outstanding,
            paidCount,
            closed ? LoanStatus.Closed : LoanStatus.Active
        );
        if (closed) emit LoanClosed(loanId, borrower, false);
        TokenInfo memory token = _tokens[s.tokenId];
        creditRegistry.reportRepayment(borrower, settled, 0, 0, amount * token.scale, closed);
        IERC20(token.token).safeTransferFrom(msg.sender, s.lender, amount);
    }

    // =====================================================================================
    // Delinquency and default
    // =====================================================================================

    /// @notice Brings a loan's stored delinquency current: charges late fees and penalty for
    ///         installments past their grace period, records misses, updates the bucket.
    /// @dev Anyone may call (keepers). Active loans only: a defaulted or closed loan cannot be
    ///      moved back. Idempotent within a block; a miss is never counted twice. Emits
    ///      {ChargesAccrued} and {DelinquencyBucketChanged} when they apply; reports misses and
    ///      bucket changes to the credit registry.
    function assess(uint256 loanId) external nonReentrant {
        Work memory w = _load(loanId);
        if (w.status != LoanStatus.Active) revert LoanNotActive(loanId, w.status);
        LoanSchedule.Curve memory c = _curve(w);
        Accrual memory a = _accrue(w, c, block.timestamp);
        uint256 dpd = _daysPastDue(w, c, block.timestamp);
        uint8 oldBucket = w.bucket;
        w.bucket = _bucketOf(dpd);
        if (a.missed == 0 && a.lateFee == 0 && a.penalty == 0 && w.bucket == oldBucket) return;
        _store(loanId, w);
        _emitAccrual(loanId, w, a);
        if (w.bucket != oldBucket) emit DelinquencyBucketChanged(loanId, oldBucket, w.bucket, dpd);
        if (a.missed != 0 || w.bucket != oldBucket) {
            creditRegistry.reportDelinquency(w.borrower, a.missed, dpd);
        }
    }

    /// @notice Declares a loan in default once its days past due reach its threshold. Charges
    ///         stop accruing; later repayments are recoveries.
    /// @dev Servicer role only. Emits {ChargesAccrued} (when charges were brought current),
    ///      {LoanDefaulted}; reports the default to the credit registry.
    function declareDefault(uint256 loanId) external onlyRole(SERVICER_ROLE) nonReentrant {
        Work memory w = _load(loanId);
        if (w.status != LoanStatus.Active) revert LoanNotActive(loanId, w.status);
        LoanSchedule.Curve memory c = _curve(w);
        Accrual memory a = _accrue(w, c, block.timestamp);
        uint256 dpd = _daysPastDue(w, c, block.timestamp);
        if (dpd < w.defaultAfterDays) {
            revert DefaultThresholdNotReached(loanId, dpd, w.defaultAfterDays);
        }
        AmountDue memory q = _owed(w, c, block.timestamp);
        w.status = LoanStatus.Defaulted;
        w.lastAccrual = block.timestamp;
        uint8 oldBucket = w.bucket;
        w.bucket = _bucketOf(dpd);
        _store(loanId, w);
        _emitAccrual(loanId, w, a);
        if (w.bucket != oldBucket) emit DelinquencyBucketChanged(loanId, oldBucket, w.bucket, dpd);
        emit LoanDefaulted(
            loanId,
            msg.sender,
            dpd,
            w.basePrincipal - w.paidPrincipal,
            q.interest,
            w.fees,
            w.penalty
        );
        if (a.missed != 0) creditRegistry.reportDelinquency(w.borrower, a.missed, dpd);
        creditRegistry.reportDefault(w.borrower, dpd);
    }

    // =====================================================================================
    // Restructuring
    // =====================================================================================

    /// @notice Proposes new terms for the rest of a loan: rate, number of installments from
    ///         acceptance, period. The borrower may accept until `deadline`; a new proposal
    ///         replaces the previous one.
    /// @dev Servicer role only; active loans only. Emits {RestructureProposed}.
    function proposeRestructure(
        uint256 loanId,
        uint16 aprBps,
        uint16 installments_,
        uint32 periodSeconds,
        uint40 deadline
    ) external onlyRole(SERVICER_ROLE) {
        LoanStatus status = _loans[loanId].status;
        if (_loans[loanId].borrower == address(0)) revert LoanNotFound(loanId);
        if (status != LoanStatus.Active) revert LoanNotActive(loanId, status);
        _validateSchedule(aprBps, installments_, periodSeconds);
        if (deadline <= block.timestamp) revert InvalidDeadline(deadline, block.timestamp);
        _proposals[loanId] = Proposal(aprBps, installments_, periodSeconds, deadline);
        emit RestructureProposed(loanId, msg.sender, aprBps, installments_, periodSeconds, deadline);
    }

    /// @notice The borrower accepts the pending proposal: the outstanding principal is
    ///         re-amortised from now under the new terms; unpaid past-due interest, late fees and
    ///         penalty carry over and stay payable first. The loan is current again.
    /// @dev Borrower only, before the deadline, active loans only. Emits {ChargesAccrued} (when
    ///      charges were brought current), {ScheduleReset}, {LoanRestructured} and
    ///      {DelinquencyBucketChanged} when the bucket changes.
    function acceptRestructure(uint256 loanId) external nonReentrant {
        Work memory w = _load(loanId);
        if (msg.sender != w.borrower) revert NotBorrower(loanId, msg.sender);
        if (w.status != LoanStatus.Active) revert LoanNotActive(loanId, w.status);
        Proposal memory p = _proposals[loanId];
        if (p.deadline == 0) revert NoRestructureProposal(loanId);
        if (block.timestamp > p.deadline) {
            revert RestructureExpired(loanId, p.deadline, block.timestamp);
        }
        LoanSchedule.Curve memory c = _curve(w);
        Accrual memory a = _accrue(w, c, block.timestamp);
        uint256 d = _dueCount(w, block.timestamp, 0);
        (, uint256 cid) = c.cumulative(d - w.baseIndex);
        uint256 outstanding = w.basePrincipal - w.paidPrincipal;
        if (w.paidInterest < cid) {
            w.carried += cid - w.paidInterest;
        } else {
            // Interest paid ahead for an installment that the new schedule replaces is credited
            // against principal.
            uint256 excess = w.paidInterest - cid;
            outstanding -= excess < outstanding ? excess : outstanding;
        }
        if (outstanding == 0) revert NothingToRestructure(loanId);
        uint256 maxPrincipal = _maxPrincipal(p.aprBps, p.installments, p.periodSeconds);
        if (outstanding > maxPrincipal) revert InvalidPrincipal(outstanding, maxPrincipal);
        if (d + p.installments > type(uint16).max) {
            revert InvalidInstallments(d + p.installments, type(uint16).max);
        }
        delete _proposals[loanId];
        w.aprBps = p.aprBps;
        w.period = p.periodSeconds;
        _resetSegment(w, d, d + p.installments, outstanding, block.timestamp);
        uint8 oldBucket = w.bucket;
        w.bucket = 0;
        _store(loanId, w);
        _emitAccrual(loanId, w, a);
        emit ScheduleReset(loanId, d, w.installments, outstanding, block.timestamp, w.aprBps, w.period);
        emit LoanRestructured(loanId, msg.sender, outstanding, w.carried, w.fees, w.penalty);
        if (oldBucket != 0) emit DelinquencyBucketChanged(loanId, oldBucket, 0, 0);
        if (a.missed != 0) creditRegistry.reportDelinquency(w.borrower, a.missed, 0);
    }

    // =====================================================================================
    // Administration
    // =====================================================================================

    /// @notice Sets (or, with the zero address, removes) the policy every origination must
    ///         pass, such as required borrower attestations.
    /// @dev Admin only. Emits {OriginationPolicySet}.
    function setOriginationPolicy(IOriginationPolicy policy) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _originationPolicy = policy;
        emit OriginationPolicySet(address(policy));
    }

    /// @notice The policy every origination must pass (zero address: none).
    function originationPolicy() external view returns (address) {
        return address(_originationPolicy);
    }

    /// @notice Stops new originations. Repayments, assessments and defaults continue.
    /// @dev Admin only. Emits {Paused}.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Allows originations again.
    /// @dev Admin only. Emits {Unpaused}.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // =====================================================================================
    // Views
    // =====================================================================================

    /// @notice A loan's terms and servicing state as stored (charges as of the last checkpoint).
    function loan(uint256 loanId) external view returns (LoanView memory v) {
        Work memory w = _load(loanId);
        TokenInfo memory token = _tokens[uint16(w.tokenId)];
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
    }

    /// @notice Number of loans originated so far (the highest loan id).
    function loanCount() external view returns (uint256) {
        return _loanCount;
    }

    /// @notice What is owed at `timestamp` (now or later), with charges accrued to then and
    ///         split as a repayment at that time would be allocated. The same computation
    ///         serves `repay`, so a repayment of `payoff` at `timestamp` closes the loan.
    function amountDue(uint256 loanId, uint256 timestamp) external view returns (AmountDue memory q) {
        if (timestamp < block.timestamp) revert TimestampInPast(timestamp, block.timestamp);
        Work memory w = _load(loanId);
        LoanSchedule.Curve memory c = _curve(w);
        _accrue(w, c, timestamp);
        q = _owed(w, c, timestamp);
    }

    /// @notice The amount that closes the loan now.
    function payoffAmount(uint256 loanId) external view returns (uint256) {
        Work memory w = _load(loanId);
        LoanSchedule.Curve memory c = _curve(w);
        _accrue(w, c, block.timestamp);
        return _owed(w, c, block.timestamp).payoff;
    }

    /// @notice Days past due now, counted from the due date of the oldest unpaid installment.
    function daysPastDue(uint256 loanId) external view returns (uint256) {
        Work memory w = _load(loanId);
        if (w.status == LoanStatus.Closed) return 0;
        return _daysPastDue(w, _curve(w), block.timestamp);
    }

    /// @notice Due date, principal and interest of installment `number` of the schedule in
    ///         force (numbers `baseIndex + 1 .. installments`).
    function installment(uint256 loanId, uint256 number)
        external
        view
        returns (uint256 dueDate, uint256 principal, uint256 interest)
    {
        Work memory w = _load(loanId);
        if (number <= w.baseIndex || number > w.installments) {
            revert InstallmentOutOfRange(loanId, number, w.baseIndex + 1, w.installments);
        }
        LoanSchedule.Curve memory c = _curve(w);
        (principal, interest) = c.part(number - w.baseIndex);
        dueDate = _dueDate(w, number);
    }

    /// @notice Token address and decimals registered under a token id.
    function tokenInfo(uint16 tokenId) external view returns (address token, uint8 decimals) {
        TokenInfo memory t = _tokens[tokenId];
        return (t.token, t.decimals);
    }

    // =====================================================================================
    // Internal: accrual and amounts owed (one computation for payments and quotes)
    // =====================================================================================

    /// @dev Brings charges current to `t` in memory: late fees for installments newly past
    ///      grace, penalty interest on unpaid late amounts. Active loans only.
    function _accrue(Work memory w, LoanSchedule.Curve memory c, uint256 t)
        internal
        pure
        returns (Accrual memory a)
    {
        if (w.status != LoanStatus.Active) return a;
        uint256 k0 = w.lateCount;
        uint256 k1 = _dueCount(w, t, w.grace);
        bool lateUnpaid = k0 > w.paidCount;
        // Nothing unpaid is or became late: nothing to charge or record (the fast repayment
        // path relies on this to leave the same state as this one).
        if (!lateUnpaid && k1 <= w.paidCount) return a;
        uint256 u0 = lateUnpaid ? _unpaidThrough(w, c, k0) : 0;
        if (u0 != 0 && t > w.lastAccrual) {
            // u0 < 2^97, penaltyAprBps <= 1e4, elapsed < 2^40: no overflow.
            a.penalty = (u0 * w.penaltyAprBps * (t - w.lastAccrual)) / LoanSchedule.RATE_DEN;
        }
        if (k1 > k0) {
            uint256 newlyLate = _unpaidThrough(w, c, k1) - u0;
            a.lateFee = (newlyLate * w.lateFeeBps) / LoanSchedule.BPS;
            uint256 lateSince = _dueDate(w, k1) + w.grace;
            if (t > lateSince) {
                a.penalty += (newlyLate * w.penaltyAprBps * (t - lateSince)) / LoanSchedule.RATE_DEN;
            }
            uint256 from = k0 > w.paidCount ? k0 : w.paidCount;
            a.missed = k1 > from ? k1 - from : 0;
            w.lateCount = k1;
        }
        w.fees += a.lateFee;
        w.penalty += a.penalty;
        w.lastAccrual = t;
    }

    /// @dev What is owed at `t`, after `_accrue(w, c, t)`.
    function _owed(Work memory w, LoanSchedule.Curve memory c, uint256 t)
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
            uint256 dd = _dueCount(w, w.lastAccrual, 0);
            (, uint256 cidDef) = c.cumulative(dd - w.baseIndex);
            q.interest = w.carried + _sub(cidDef, w.paidInterest);
            q.principal = outstanding;
        } else {
            uint256 d = _dueCount(w, t, 0);
            uint256 jd = d - w.baseIndex;
            (uint256 cpd, uint256 cid) = c.cumulative(jd);
            q.interest = w.carried + _sub(cid, w.paidInterest);
            q.principal = _sub(cpd, w.paidPrincipal);
            if (jd < c.count) {
                (uint256 cp1, uint256 ci1) = c.cumulative(jd + 1);
                q.currentInterest = _sub(ci1, _max(w.paidInterest, cid));
                q.currentPrincipal = _sub(cp1, _max(w.paidPrincipal, cpd));
                q.nextInstallment = d + 1;
                q.nextDueDate = _dueDate(w, d + 1);
            }
            q.remainingPrincipal = outstanding - q.principal - q.currentPrincipal;
        }
        q.pastDue = q.fees + q.penalty + q.interest + q.principal;
        q.payoff = q.pastDue + q.currentInterest + q.currentPrincipal + q.remainingPrincipal;
        q.daysPastDue = _daysPastDue(w, c, t);
    }

    /// @dev Splits `amount` (capped at the payoff) by the waterfall and applies it to the
    ///      charges and cumulative paid amounts in memory.
    function _allocate(Work memory w, AmountDue memory q, uint256 amount)
        internal
        pure
        returns (Allocation memory al)
    {
        uint256 rest = amount < q.payoff ? amount : q.payoff;
        if (rest == 0) revert ZeroAmount();
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

    /// @dev The whole effect of a repayment of up to `amount` at the current block, in memory:
    ///      accrual, allocation, installments settled (on time or late), closing, bucket.
    function _applyRepayment(Work memory w, uint256 amount)
        internal
        returns (Allocation memory al, Accrual memory a, Outcome memory o)
    {
        LoanSchedule.Curve memory c = _curve(w);
        uint256 oldPaidCount = w.paidCount;
        a = _accrue(w, c, block.timestamp);
        AmountDue memory q = _owed(w, c, block.timestamp);
        al = _allocate(w, q, amount);
        o.oldBucket = w.bucket;
        o.afterDefault = w.status == LoanStatus.Defaulted;
        if (w.status == LoanStatus.Active) {
            uint256 assessedLate = w.lateCount;
            _advance(w, c, q, al);
            uint256 lateEnd = assessedLate < w.paidCount ? assessedLate : w.paidCount;
            o.late = lateEnd > oldPaidCount ? lateEnd - oldPaidCount : 0;
            o.onTime = w.paidCount - oldPaidCount - o.late;
        }
        if (w.basePrincipal == w.paidPrincipal) {
            w.status = LoanStatus.Closed;
            w.bucket = 0;
        } else {
            o.daysPastDue = _daysPastDue(w, c, block.timestamp);
            if (w.status == LoanStatus.Active) w.bucket = _bucketOf(o.daysPastDue);
        }
    }

    /// @dev After an allocation on an active loan: finds the installments now fully paid and,
    ///      on a prepayment, starts a new segment over the remaining installments.
    function _advance(
        Work memory w,
        LoanSchedule.Curve memory c,
        AmountDue memory q,
        Allocation memory al
    ) internal {
        uint256 d = q.nextInstallment == 0 ? w.installments : q.nextInstallment - 1;
        if (al.prepaid != 0) {
            // Current installment fully paid; re-amortise what is left over the remaining term.
            uint256 outstanding = w.basePrincipal - w.paidPrincipal;
            _resetSegment(w, d + 1, w.installments, outstanding, _dueDate(w, d + 1));
            emit ScheduleReset(
                w.id, d + 1, w.installments, outstanding, w.segmentStart, w.aprBps, w.period
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
            w.paidCount = _paidThrough(w, c, d);
        }
    }

    /// @dev Largest installment number n in [paidCount, d) whose cumulative principal and
    ///      interest are fully paid: binary search, at most log2(480) + 1 rounds.
    function _paidThrough(Work memory w, LoanSchedule.Curve memory c, uint256 d)
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
    function _resetSegment(
        Work memory w,
        uint256 baseIndex,
        uint256 installments_,
        uint256 principal,
        uint256 start
    ) internal pure {
        w.baseIndex = baseIndex;
        w.installments = installments_;
        w.basePrincipal = principal;
        w.segmentStart = start;
        w.paidPrincipal = 0;
        w.paidInterest = 0;
        w.paidCount = baseIndex;
        w.lateCount = baseIndex;
    }

    /// @dev Unpaid scheduled principal and interest of installments 1..k (absolute numbers).
    function _unpaidThrough(Work memory w, LoanSchedule.Curve memory c, uint256 k)
        internal
        pure
        returns (uint256)
    {
        (uint256 cp, uint256 ci) = c.cumulative(k - w.baseIndex);
        return _sub(cp, w.paidPrincipal) + _sub(ci, w.paidInterest);
    }

    /// @dev Number of installments (absolute) whose due date plus `offset` is before `t`.
    function _dueCount(Work memory w, uint256 t, uint256 offset) internal pure returns (uint256) {
        uint256 start = w.segmentStart + offset;
        if (t <= start) return w.baseIndex;
        uint256 n = (t - start - 1) / w.period;
        uint256 m = w.installments - w.baseIndex;
        return w.baseIndex + (n < m ? n : m);
    }

    function _dueDate(Work memory w, uint256 number) internal pure returns (uint256) {
        return w.segmentStart + (number - w.baseIndex) * w.period;
    }

    /// @dev Days past due at `t`: whole days, rounded up, since the due date of the oldest
    ///      installment due before `t` that is not fully paid (one second late is one day past
    ///      due). Installments of zero amount count as paid.
    function _daysPastDue(Work memory w, LoanSchedule.Curve memory c, uint256 t)
        internal
        pure
        returns (uint256)
    {
        uint256 d = _dueCount(w, t, 0);
        if (w.paidCount >= d) return 0;
        uint256 paidThrough = _paidThrough(w, c, d);
        if (paidThrough >= d) return 0;
        uint256 due = _dueDate(w, paidThrough + 1);
        return (t - due + 1 days - 1) / 1 days;
    }

    function _bucketOf(uint256 dpd) internal pure returns (uint8) {
        if (dpd == 0) return 0;
        if (dpd <= 30) return 1;
        if (dpd <= 60) return 2;
        if (dpd <= 90) return 3;
        return 4;
    }

    function _curve(Work memory w) internal pure returns (LoanSchedule.Curve memory) {
        return LoanSchedule.curve(
            w.kind, w.basePrincipal, w.installments - w.baseIndex, w.aprBps, w.period
        );
    }

    // =====================================================================================
    // Internal: storage
    // =====================================================================================

    function _load(uint256 loanId) internal view returns (Work memory w) {
        Loan storage s = _loans[loanId];
        w.borrower = s.borrower;
        if (w.borrower == address(0)) revert LoanNotFound(loanId);
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
        if (w.flags & FLAG_CARRIED != 0) w.carried = s.carriedInterest;
    }

    /// @dev Writes back the mutable fields; terms in slots 0 and 1 change only on restructure.
    function _store(uint256 loanId, Work memory w) internal {
        Loan storage s = _loans[loanId];
        uint8 flags = (w.fees | w.penalty) != 0 ? FLAG_LIVE | FLAG_CHARGES : FLAG_LIVE;
        if (w.carried != 0) flags |= FLAG_CARRIED;
        if (w.aprBps != s.aprBps || w.installments != s.installments) {
            s.aprBps = uint16(w.aprBps);
            s.installments = uint16(w.installments);
        }
        s.basePrincipal = uint96(w.basePrincipal);
        s.paidPrincipal = uint96(w.paidPrincipal);
        s.periodSeconds = uint32(w.period);
        s.paidInterest = uint96(w.paidInterest);
        s.segmentStart = uint40(w.segmentStart);
        s.lastAccrual = uint40(w.lastAccrual);
        s.status = w.status;
        s.bucket = w.bucket;
        s.flags = flags;
        s.baseIndex = uint16(w.baseIndex);
        s.paidCount = uint16(w.paidCount);
        s.lateCount = uint16(w.lateCount);
        if ((flags | w.flags) & FLAG_CHARGES != 0) {
            // Charges are bounded by the principal times rates over time; saturate rather than
            // revert so that a repayment can never be blocked.
            s.feesOwed = _to96(w.fees);
            s.penaltyOwed = _to96(w.penalty);
        }
        if ((flags | w.flags) & FLAG_CARRIED != 0) s.carriedInterest = uint96(w.carried);
    }

    function _emitAccrual(uint256 loanId, Work memory w, Accrual memory a) internal {
        if (a.lateFee != 0 || a.penalty != 0 || a.missed != 0) {
            emit ChargesAccrued(
                loanId, a.lateFee, a.penalty, a.missed, w.lateCount, w.fees, w.penalty
            );
        }
    }

    function _tokenIdOf(address token) internal returns (uint16 id) {
        id = _tokenIds[token];
        if (id != 0) return id;
        // A high-level call to an address without code reverts before `try` can catch it.
        if (token.code.length == 0) revert UnsupportedToken(token);
        uint8 decimals;
        try IERC20Metadata(token).decimals() returns (uint8 d) {
            decimals = d;
        } catch {
            revert UnsupportedToken(token);
        }
        if (decimals > 18) revert UnsupportedToken(token);
        id = ++_tokenCount;
        _tokenIds[token] = id;
        _tokens[id] = TokenInfo(token, decimals, uint64(10 ** (18 - decimals)));
    }

    // =====================================================================================
    // Internal: validation and arithmetic
    // =====================================================================================

    function _validate(OriginationTerms calldata t) internal view {
        if (t.borrower == address(0) || t.token == address(0)) revert ZeroAddress();
        if (t.borrower == msg.sender) revert BorrowerIsLender(t.borrower);
        _validateSchedule(t.aprBps, t.installments, t.periodSeconds);
        uint256 maxPrincipal = _maxPrincipal(t.aprBps, t.installments, t.periodSeconds);
        if (t.principal == 0 || t.principal > maxPrincipal) {
            revert InvalidPrincipal(t.principal, maxPrincipal);
        }
        if (t.penaltyAprBps > MAX_RATE_BPS) revert InvalidRate(t.penaltyAprBps, MAX_RATE_BPS);
        if (t.lateFeeBps > MAX_LATE_FEE_BPS) revert InvalidLateFee(t.lateFeeBps, MAX_LATE_FEE_BPS);
        if (t.gracePeriodSeconds > MAX_GRACE) revert InvalidGracePeriod(t.gracePeriodSeconds, MAX_GRACE);
        if (t.defaultAfterDays == 0 || t.defaultAfterDays > MAX_DEFAULT_DAYS) {
            revert InvalidDefaultThreshold(t.defaultAfterDays);
        }
        uint256 latest = block.timestamp + t.periodSeconds;
        if (t.firstDueDate <= block.timestamp || t.firstDueDate > latest) {
            revert InvalidFirstDueDate(t.firstDueDate, block.timestamp + 1, latest);
        }
    }

    function _validateSchedule(uint256 aprBps, uint256 installments_, uint256 period) internal pure {
        if (aprBps > MAX_RATE_BPS) revert InvalidRate(aprBps, MAX_RATE_BPS);
        if (installments_ == 0 || installments_ > MAX_INSTALLMENTS) {
            revert InvalidInstallments(installments_, MAX_INSTALLMENTS);
        }
        if (period < MIN_PERIOD || period > MAX_PERIOD) {
            revert InvalidPeriod(period, MIN_PERIOD, MAX_PERIOD);
        }
    }

    /// @dev The largest principal whose scheduled principal plus interest (at most that of a
    ///      bullet loan, P (1 + r m)) fits the 96-bit amounts the ledger stores.
    function _maxPrincipal(uint256 aprBps, uint256 installments_, uint256 period)
        internal
        pure
        returns (uint256)
    {
        uint256 rateDen = LoanSchedule.RATE_DEN;
        return (MAX_PRINCIPAL * rateDen) / (rateDen + aprBps * period * installments_);
    }

    function _take(uint256 available, uint256 owed) private pure returns (uint256 taken, uint256 rest) {
        taken = available < owed ? available : owed;
        rest = available - taken;
    }

    function _sub(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }

    function _to96(uint256 x) private pure returns (uint96) {
        return x > type(uint96).max ? type(uint96).max : uint96(x);
    }
}
