// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOriginationPolicy} from "./interfaces/IOriginationPolicy.sol";
import {DayCount, LoanStatus, ScheduleKind} from "./interfaces/ILoanLedger.sol";

/// @dev `Loan.flags`: charges owed (slot 4 in use).
uint8 constant FLAG_CHARGES = 1;
/// @dev `Loan.flags`: interest carried over by a restructuring (slot 5 in use).
uint8 constant FLAG_CARRIED = 2;
/// @dev `Loan.flags`: the segment was started by a prepayment and its first period has not
///      begun; slot 5 holds the interest paid for the period still running (`advanceInterest`).
uint8 constant FLAG_ADVANCE = 4;
/// @dev `Loan.flags`: the loan has calendar terms other than the plain ones (a period of days
///      under actual/365 in UTC, no rounding, no interest-only installments, a first period of
///      one period): slot 6 in use.
uint8 constant FLAG_CALENDAR = 8;
/// @dev `Loan.flags`: set from origination on, so that slot 3 is never zero.
uint8 constant FLAG_LIVE = 0x80;

/// @notice One loan as stored: terms, the schedule segment in force and the servicing state.
/// @dev 4 slots written at origination (6 at most):
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
///      slot 5: carriedInterest (96) | advanceInterest (96)
///                                  read only when FLAG_CARRIED or FLAG_ADVANCE is set
///      slot 6: periodMonths (8) | dayCount (8) | utcOffsetMinutes (16) | anchorDay (8) |
///              roundingExp (8) | interestOnly (16) | oddDays (16) | calendarMonth (24) |
///              installment (96) | holidayPeriods (8) | pauseFrom (24) | pauseTo (24)
///                                  read only when FLAG_CALENDAR is set (a payment holiday
///                                  or a forbearance sets it on a plain loan too)
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
    // slot 5, read only when FLAG_CARRIED or FLAG_ADVANCE is set
    uint96 carriedInterest;
    uint96 advanceInterest;
    // slot 6, read only when FLAG_CALENDAR is set
    Calendar calendar;
}

/// @notice A loan's calendar terms when they are not the plain ones (slot 6 of {Loan}, read
///         in one piece).
/// @dev `calendarMonth`: with calendar months, the month number (year * 12 + month - 1) of
///      installment 0's due date; installment n falls due in month `calendarMonth + n *
///      periodMonths`. `installment`: the rounded annuity installment of the segment in force,
///      kept so that a repayment need not derive it again (0: none, or not yet derived; the
///      ledger derives it from the terms alone, see LoanSchedule). `holidayPeriods`: while
///      FLAG_ADVANCE is set, the periods the interest in `advanceInterest` covers, ending at the
///      segment's start (0: one period; a payment holiday of N installments: N); 0 without
///      FLAG_ADVANCE.
///      `pauseFrom`, `pauseTo`: the forbearance window, local day numbers (days since
///      1970-01-01 in the loan's offset), both dates paused (`pauseTo == 0`: none).
struct Calendar {
    uint8 periodMonths;
    DayCount dayCount;
    int16 utcOffsetMinutes;
    uint8 anchorDay;
    uint8 roundingExp;
    uint16 interestOnly;
    int16 oddDays;
    uint24 calendarMonth;
    uint96 installment;
    uint8 holidayPeriods;
    uint24 pauseFrom;
    uint24 pauseTo;
}

/// @notice A loan token, registered when the admin first allows it.
/// @dev One slot: token (160) | decimals (8) | scale (64).
struct TokenInfo {
    address token;
    uint8 decimals;
    uint64 scale; // 10 ** (18 - decimals): converts amounts to 18-decimal units
}

/// @notice A token's id in this ledger and whether new loans may use it (one slot read per
///         origination).
struct TokenRef {
    uint16 id;
    bool allowed;
}

/// @notice Terms a servicer proposed for the rest of a loan, open until `deadline`.
/// @dev One slot: aprBps (16) | installments (16) | periodSeconds (32) | deadline (40);
///      `deadline == 0`: no proposal.
struct Proposal {
    uint16 aprBps;
    uint16 installments;
    uint32 periodSeconds;
    uint40 deadline;
}

/// @notice A payment holiday a servicer proposed for a loan, open until `deadline`.
/// @dev One slot: fromInstallment (16) | count (16) | deadline (40); `deadline == 0`: none.
struct HolidayProposal {
    uint16 fromInstallment;
    uint16 count;
    uint40 deadline;
}

/// @title LoanLedgerStorage
/// @notice The ledger's state, apart from the behaviour acting on it: the ledger contract
///         itself (hot paths) and the linked libraries it delegates its rarely used paths to
///         (restructuring, default) read and write these same slots.
/// @dev Inherited after AccessControl and Pausable, so `_loanCount`, `_tokenCount` and
///      `_originationPolicy` share a slot with Pausable's `_paused` flag: one slot read per
///      origination. Libraries receive `Loan storage` and `Proposal storage` pointers into
///      `_loans` and `_proposals`.
abstract contract LoanLedgerStorage {
    uint64 internal _loanCount;
    uint16 internal _tokenCount;
    IOriginationPolicy internal _originationPolicy;
    mapping(uint256 loanId => Loan) internal _loans;
    mapping(address token => TokenRef) internal _tokenIds;
    mapping(uint16 tokenId => TokenInfo) internal _tokens;
    mapping(uint256 loanId => Proposal) internal _proposals;
    mapping(address borrower => uint256 nonce) internal _nonces;
    mapping(address lender => mapping(address token => uint256 amount)) internal _claimable;
    mapping(uint256 loanId => HolidayProposal) internal _holidays;
}
