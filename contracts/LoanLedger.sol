// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ICreditRegistry} from "./interfaces/ICreditRegistry.sol";
import {IOriginationPolicy} from "./interfaces/IOriginationPolicy.sol";
import {
    AmountDue,
    DayCount,
    ILoanLedger,
    LoanStatus,
    LoanView,
    OriginationTerms
} from "./interfaces/ILoanLedger.sol";
import {
    Calendar,
    FLAG_CALENDAR,
    FLAG_LIVE,
    HolidayProposal,
    Loan,
    LoanLedgerStorage,
    Proposal,
    TokenInfo,
    TokenRef
} from "./LoanLedgerStorage.sol";
import {LoanAccounting} from "./libraries/LoanAccounting.sol";
import {LoanDefaults} from "./libraries/LoanDefaults.sol";
import {LoanLimits} from "./libraries/LoanLimits.sol";
import {LoanOrigination} from "./libraries/LoanOrigination.sol";
import {LoanReports} from "./libraries/LoanReports.sol";
import {LoanPayments} from "./libraries/LoanPayments.sol";
import {LoanRelief} from "./libraries/LoanRelief.sol";
import {LoanRepayments} from "./libraries/LoanRepayments.sol";
import {LoanRestructuring} from "./libraries/LoanRestructuring.sol";
import {LoanSchedule} from "./libraries/LoanSchedule.sol";
import {LoanTokens} from "./libraries/LoanTokens.sol";
import {LoanViews} from "./libraries/LoanViews.sol";

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
/// Payoff, to the day: every charge and past-due amount, all outstanding principal, and the
/// running period's interest to the day (its scheduled interest times the day-count days from
/// its start date to the date paid, in the loan's offset, over its days, rounded down; interest
/// paid ahead for it is credited back). A prepayment pays the running installment in full first, then principal; the
/// remaining installments are re-amortised from the running installment's due date, and until
/// then further payments go to principal only. So the outcome never depends on how payments
/// are split: `a + b` at once and `a` then `b` in the same second leave the same loan.
///
/// Money flow: a repayment is pulled from the payer straight to the lender; when that transfer
/// fails (a token blocklist naming the lender), it is pulled into the ledger instead and held
/// as the lender's claimable balance (`claim`). Credit reports never block servicing: a
/// refused report is recorded ({CreditReportFailed}).
///
/// @dev Every entry point is here. The hot paths run here too: origination (the internal
///      LoanOrigination) and the on-time repayment (the schedule maths of LoanSchedule).
///      Everything else is delegated to linked libraries that act on the same storage
///      (LoanLedgerStorage, where the slot layout is written): LoanRepayments (the general
///      repayment path and assess, on LoanAccounting's arithmetic), LoanDefaults,
///      LoanRestructuring, LoanViews and LoanTokens. Role checks and the reentrancy lock stay
///      on this contract's entry points.
contract LoanLedger is
    ILoanLedger,
    AccessControl,
    Pausable,
    ReentrancyGuardTransient,
    LoanLedgerStorage
{
    using SafeERC20 for IERC20;
    using LoanSchedule for LoanSchedule.Curve;

    /// @notice Role allowed to originate loans as the lender.
    bytes32 public constant ORIGINATOR_ROLE = keccak256("ORIGINATOR_ROLE");
    /// @notice Role allowed to declare default and propose restructurings.
    bytes32 public constant SERVICER_ROLE = keccak256("SERVICER_ROLE");

    /// @notice Largest principal of any loan (96-bit amounts); see also {InvalidPrincipal}.
    uint256 public constant MAX_PRINCIPAL = LoanLimits.MAX_PRINCIPAL;
    /// @notice Most installments in a schedule.
    uint256 public constant MAX_INSTALLMENTS = LoanLimits.MAX_INSTALLMENTS;
    /// @notice Shortest period between installments, in seconds.
    uint256 public constant MIN_PERIOD = LoanLimits.MIN_PERIOD;
    /// @notice Longest period between installments, in seconds.
    uint256 public constant MAX_PERIOD = LoanLimits.MAX_PERIOD;
    /// @notice Longest period between installments, in calendar months.
    uint256 public constant MAX_PERIOD_MONTHS = LoanLimits.MAX_PERIOD_MONTHS;
    /// @notice Highest interest or penalty rate, in basis points a year.
    uint256 public constant MAX_RATE_BPS = LoanLimits.MAX_RATE_BPS;
    /// @notice Highest late fee, in basis points of the late amount.
    uint256 public constant MAX_LATE_FEE_BPS = LoanLimits.MAX_LATE_FEE_BPS;
    /// @notice Longest grace period, in seconds.
    uint256 public constant MAX_GRACE = LoanLimits.MAX_GRACE;
    /// @notice Highest default threshold, in days past due.
    uint256 public constant MAX_DEFAULT_DAYS = LoanLimits.MAX_DEFAULT_DAYS;

    /// @dev The current installment of a loan that is up to date (the fast repayment path).
    struct Current {
        uint256 paidCount;
        uint256 interestDue;
        uint256 principalDue;
        uint256 basePrincipal;
        uint256 paidPrincipal;
        uint256 paidInterest;
    }

    /// @notice The credit registry this ledger reports every servicing event to.
    ICreditRegistry public immutable creditRegistry;

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

    /// @notice EIP-712 type hash of the terms a borrower signs (see {originate}).
    bytes32 public constant ORIGINATION_TYPEHASH = LoanOrigination.ORIGINATION_TYPEHASH;

    /// @inheritdoc ILoanLedger
    /// @dev The work is LoanOrigination's (an internal library).
    function originate(OriginationTerms calldata terms, uint256 deadline, bytes calldata signature)
        external
        onlyRole(ORIGINATOR_ROLE)
        whenNotPaused
        nonReentrant
        returns (uint256 loanId)
    {
        loanId = ++_loanCount;
        LoanOrigination.originate(
            _loans,
            _tokenIds,
            _nonces,
            creditRegistry,
            _originationPolicy,
            loanId,
            terms,
            deadline,
            signature
        );
    }

    /// @inheritdoc ILoanLedger
    function originationDigest(OriginationTerms calldata terms, address lender, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return LoanOrigination.originationDigest(_nonces, terms, lender, deadline);
    }

    /// @inheritdoc ILoanLedger
    function restructureProposal(uint256 loanId)
        external
        view
        returns (uint16 aprBps, uint16 installments, uint32 periodSeconds, uint40 deadline)
    {
        Proposal memory p = _proposals[loanId];
        return (p.aprBps, p.installments, p.periodSeconds, p.deadline);
    }

    /// @inheritdoc ILoanLedger
    function tokenAllowed(address token) external view returns (uint16 tokenId, bool allowed) {
        TokenRef memory ref = _tokenIds[token];
        return (ref.id, ref.allowed);
    }

    /// @inheritdoc ILoanLedger
    function nonces(address borrower) external view returns (uint256) {
        return _nonces[borrower];
    }

    /// @inheritdoc ILoanLedger
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint16 id = _tokenIds[token].id;
        if (id == 0) {
            // Registered once (checked by the linked library LoanTokens: a contract with at
            // most 18 decimals).
            uint8 decimals = LoanTokens.decimalsOf(token);
            id = ++_tokenCount;
            _tokens[id] = TokenInfo(token, decimals, SafeCast.toUint64(10 ** (18 - decimals)));
        }
        _tokenIds[token] = TokenRef(id, allowed);
        emit TokenAllowed(token, id, _tokens[id].decimals, allowed);
    }

    // =====================================================================================
    // Claims
    // =====================================================================================

    /// @inheritdoc ILoanLedger
    function claim(address token, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _claimable[msg.sender][token];
        if (amount == 0) revert NothingToClaim(msg.sender, token);
        _claimable[msg.sender][token] = 0;
        emit Claimed(msg.sender, token, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    /// @inheritdoc ILoanLedger
    function claimable(address lender, address token) external view returns (uint256) {
        return _claimable[lender][token];
    }

    // =====================================================================================
    // Repayment
    // =====================================================================================

    /// @inheritdoc ILoanLedger
    function repay(uint256 loanId, uint256 amount) external nonReentrant returns (uint256 paid) {
        if (amount == 0) revert ZeroAmount();
        paid = _repayCurrentInstallment(loanId, amount);
        if (paid != 0) return paid;
        // Everything else (arrears, charges, prepayment, payoff, recoveries) runs in the
        // linked library LoanRepayments (DELEGATECALL).
        return LoanRepayments.repay(_loans, _tokens, _claimable, creditRegistry, loanId, amount);
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
        // Principal after this installment is left (checked above): the loan stays open.
        uint256 outstanding = cur.basePrincipal - paidPrincipal;
        _storePaid(s, paidPrincipal, paidInterest, paidCount);
        _reportCurrentRepayment(loanId, s, amount, toInterest, outstanding, paidCount, settled);
        return amount;
    }

    /// @dev Writes the paid amounts and count of an on-time repayment: narrowed (SafeCast)
    ///      first, then written together, so that the optimizer makes it one slot write.
    function _storePaid(Loan storage s, uint256 paidPrincipal, uint256 paidInterest, uint256 count)
        private
    {
        uint96 principal = SafeCast.toUint96(paidPrincipal);
        uint96 interest = SafeCast.toUint96(paidInterest);
        uint16 paidCount = SafeCast.toUint16(count);
        s.paidPrincipal = principal;
        s.paidInterest = interest;
        s.paidCount = paidCount;
    }

    /// @dev For a current loan (nothing past due, no charges, bucket 0): what is left of the
    ///      next installment, with the fields a repayment of it needs, each read once. Zero
    ///      amounts due when the loan is not in that state.
    function _currentInstallmentDue(Loan storage s) private view returns (Current memory cur) {
        // Each slot's fields read together (one SLOAD a slot).
        uint256 paidCount = s.paidCount;
        uint256 base = s.baseIndex;
        uint256 flags = s.flags;
        bool current = s.bucket == 0 && s.status == LoanStatus.Active;
        cur.paidPrincipal = s.paidPrincipal;
        cur.paidInterest = s.paidInterest;
        if (!current || flags & ~FLAG_CALENDAR != FLAG_LIVE) return cur;
        uint256 installments = s.installments;
        if (installments == base) return cur; // no such loan (or nothing left to schedule)
        cur.basePrincipal = s.basePrincipal;
        LoanSchedule.Curve memory c = flags & FLAG_CALENDAR == 0
            ? _plainSchedule(s, base, installments, paidCount, cur.basePrincipal)
            : _calendarSchedule(s, base, installments, paidCount, cur.basePrincipal);
        if (c.count == 0) return cur;
        cur.paidCount = paidCount;
        uint256 j = paidCount + 1 - base;
        (uint256 cumPrincipal, uint256 cumInterest) = c.cumulative(j);
        // Principal scheduled after this installment must exceed the interest it could be
        // credited at payoff, so that the installment costs less than the payoff (else the
        // general path applies: it caps a payment at the payoff). That credit is at most this
        // installment's interest: all of `cumInterest` for the segment's first installment
        // (odd first period included); after it, at most a period's interest on the segment's
        // principal, plus a unit and two of rounding (worked out only when the principal left
        // is under `cumInterest`, so that the first half of a loan pays nothing for it).
        uint256 left = cur.basePrincipal - cumPrincipal;
        if (left <= cumInterest) {
            if (j == 1) return cur;
            unchecked {
                // basePrincipal < 2^96, rateNum < 2^64, unit < 2^64: no overflow; rateDen > 0.
                if (left <= (cur.basePrincipal * c.rateNum) / c.rateDen + c.unit + 2) return cur;
            }
        }
        cur.interestDue = _sub(cumInterest, cur.paidInterest);
        cur.principalDue = _sub(cumPrincipal, cur.paidPrincipal);
    }

    /// @dev For a plain loan (periods of days, actual/365, unrounded) whose paid installments
    ///      are exactly those due now (LoanAccounting.dueCount) and one left to run: the
    ///      schedule of its segment (LoanAccounting.curve); else an empty one (count 0).
    function _plainSchedule(
        Loan storage s,
        uint256 base,
        uint256 installments,
        uint256 paidCount,
        uint256 principal
    ) private view returns (LoanSchedule.Curve memory c) {
        uint256 start = s.segmentStart;
        uint256 period = s.periodSeconds;
        uint256 due = base; // LoanAccounting.countDue of periods of days, inline
        unchecked {
            // start >= period > 0 and timestamps < 2^40: no wrap-around.
            if (block.timestamp > start) due += (block.timestamp - start - 1) / period;
        }
        if (due >= installments || paidCount != due) return c;
        (uint256 rateNum, uint256 rateDen) =
            LoanSchedule.periodRate(s.aprBps, period / 1 days, DayCount.Actual365);
        return LoanSchedule.curve(s.kind, principal, installments - base, rateNum, rateDen, 0, 1, 0);
    }

    /// @dev {_plainSchedule} for a loan with calendar terms: slot 6's fields read together
    ///      (one SLOAD), the schedule's terms passed on rather than read again.
    function _calendarSchedule(
        Loan storage s,
        uint256 base,
        uint256 installments,
        uint256 paidCount,
        uint256 principal
    ) private view returns (LoanSchedule.Curve memory c) {
        Calendar storage k = s.calendar;
        uint256 period = s.periodSeconds;
        {
            uint256 start = s.segmentStart;
            uint256 due = block.timestamp <= start
                ? base
                : LoanAccounting.countDue(
                    block.timestamp,
                    start,
                    period,
                    base,
                    installments,
                    k.periodMonths,
                    k.calendarMonth,
                    k.anchorDay,
                    int256(k.utcOffsetMinutes) * 60
                );
            if (due == installments || paidCount != due) return c;
        }
        return LoanAccounting.curveOf(
            s.kind,
            principal,
            installments - base,
            s.aprBps,
            k.periodMonths != 0 ? 30 * uint256(k.periodMonths) : period / 1 days,
            k.dayCount,
            k.interestOnly > base ? k.interestOnly - base : 0,
            k.roundingExp,
            base == 0 ? k.oddDays : int256(0),
            k.installment
        );
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
        emit RepaymentApplied(
            loanId,
            msg.sender,
            0,
            0,
            toInterest,
            amount - toInterest,
            outstanding,
            paidCount,
            LoanStatus.Active
        );
        TokenInfo memory token = _tokens[s.tokenId];
        LoanReports.repayment(
            creditRegistry, s.borrower, loanId, settled, 0, amount * token.scale, false
        );
        LoanPayments.collect(_claimable, loanId, token.token, s.lender, amount);
    }


    // =====================================================================================
    // Delinquency and default
    // =====================================================================================

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRepayments (DELEGATECALL).
    function assess(uint256 loanId) external nonReentrant {
        LoanRepayments.assess(_loans, creditRegistry, loanId);
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanDefaults (DELEGATECALL).
    function declareDefault(uint256 loanId) external onlyRole(SERVICER_ROLE) nonReentrant {
        LoanDefaults.declareDefault(_loans, _proposals, loanId, creditRegistry);
    }

    // =====================================================================================
    // Restructuring
    // =====================================================================================

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRestructuring (DELEGATECALL).
    function proposeRestructure(
        uint256 loanId,
        uint16 aprBps,
        uint16 installments_,
        uint32 periodSeconds,
        uint40 deadline
    ) external onlyRole(SERVICER_ROLE) {
        LoanRestructuring.propose(
            _loans, _proposals, loanId, aprBps, installments_, periodSeconds, deadline
        );
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRestructuring (DELEGATECALL).
    function acceptRestructure(
        uint256 loanId,
        uint16 aprBps,
        uint16 installments_,
        uint32 periodSeconds,
        uint40 deadline
    ) external nonReentrant {
        LoanRestructuring.accept(
            _loans,
            _proposals,
            loanId,
            LoanRestructuring.Terms(aprBps, installments_, periodSeconds, deadline),
            creditRegistry
        );
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRestructuring (DELEGATECALL).
    function withdrawRestructure(uint256 loanId) external onlyRole(SERVICER_ROLE) {
        LoanRestructuring.withdraw(_proposals, loanId);
    }

    // =====================================================================================
    // Relief: payment holidays and forbearance
    // =====================================================================================

    /// @inheritdoc ILoanLedger
    function holidayProposal(uint256 loanId)
        external
        view
        returns (uint16 fromInstallment, uint16 count, uint40 deadline)
    {
        HolidayProposal memory p = _holidays[loanId];
        return (p.fromInstallment, p.count, p.deadline);
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRelief (DELEGATECALL).
    function proposeHoliday(uint256 loanId, uint16 fromInstallment, uint16 count, uint40 deadline)
        external
        onlyRole(SERVICER_ROLE)
    {
        LoanRelief.proposeHoliday(_loans, _holidays, loanId, fromInstallment, count, deadline);
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRelief (DELEGATECALL).
    function acceptHoliday(uint256 loanId, uint16 fromInstallment, uint16 count, uint40 deadline)
        external
        nonReentrant
    {
        LoanRelief.acceptHoliday(_loans, _holidays, loanId, fromInstallment, count, deadline);
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRelief (DELEGATECALL).
    function withdrawHoliday(uint256 loanId) external onlyRole(SERVICER_ROLE) {
        LoanRelief.withdrawHoliday(_holidays, loanId);
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanRelief (DELEGATECALL).
    function forbear(uint256 loanId, uint256 fromDay, uint256 toDay)
        external
        onlyRole(SERVICER_ROLE)
        nonReentrant
    {
        LoanRelief.forbear(_loans, creditRegistry, loanId, fromDay, toDay);
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

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanViews (DELEGATECALL).
    function loan(uint256 loanId) external view returns (LoanView memory) {
        _returnEncoded(LoanViews.loanEncoded(_loans, _tokens, loanId));
    }

    /// @inheritdoc ILoanLedger
    function loanCount() external view returns (uint256) {
        return _loanCount;
    }

    /// @inheritdoc ILoanLedger
    /// @dev Runs in the linked library LoanViews (DELEGATECALL), as do the views below.
    function amountDue(uint256 loanId, uint256 timestamp) external view returns (AmountDue memory) {
        _returnEncoded(LoanViews.amountDueEncoded(_loans, loanId, timestamp));
    }

    /// @inheritdoc ILoanLedger
    function payoffAmount(uint256 loanId) external view returns (uint256) {
        return LoanViews.payoff(_loans, loanId);
    }

    /// @inheritdoc ILoanLedger
    function daysPastDue(uint256 loanId) external view returns (uint256) {
        return LoanViews.daysPastDue(_loans, loanId);
    }

    /// @inheritdoc ILoanLedger
    function installment(uint256 loanId, uint256 number)
        external
        view
        returns (uint256 dueDate, uint256 principal, uint256 interest)
    {
        return LoanViews.installment(_loans, loanId, number);
    }

    /// @notice Token address and decimals registered under a token id.
    function tokenInfo(uint16 tokenId) external view returns (address token, uint8 decimals) {
        TokenInfo memory t = _tokens[tokenId];
        return (t.token, t.decimals);
    }

    // =====================================================================================
    // Internal
    // =====================================================================================

    /// @dev Returns `encoded` (a view's ABI-encoded result, as the linked library built it) as
    ///      this call's return data, without decoding and encoding it again here.
    function _returnEncoded(bytes memory encoded) private pure {
        assembly ("memory-safe") {
            return(add(encoded, 32), mload(encoded))
        }
    }

    function _sub(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }
}
