// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {LoanLedger} from "../../../contracts/LoanLedger.sol";
import {
    AmountDue,
    DayCount,
    ILoanLedger,
    LoanStatus,
    LoanView,
    OriginationTerms,
    ScheduleKind
} from "../../../contracts/interfaces/ILoanLedger.sol";
import {BlocklistStablecoin} from "../../../contracts/test/BlocklistStablecoin.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {LVM, LedgerVm} from "../lib/LedgerVm.sol";
import {TestBase} from "../lib/Test.sol";

/// @dev A repayment's split as RepaymentApplied carries it (the event's data, in order).
struct Split {
    uint256 fees;
    uint256 penalty;
    uint256 interest;
    uint256 principal;
    uint256 principalOutstanding;
    uint256 installmentsPaid;
    uint256 status;
}

/// @dev What the ledger's own events said about one repayment.
struct RepaymentLogs {
    uint256 applied; // RepaymentApplied events of the loan (exactly one expected)
    Split split;
    uint256 rebate; // InterestRebated amount
    uint256 held; // RepaymentHeld amount
    uint256 reportsFailed; // CreditReportFailed events
}

/// @dev The parts of the ledger that the invariant suite's fixture deploys (see
///      LoanLedgerInvariants.t.sol) and the handler drives.
struct LedgerSetup {
    LoanLedger ledger;
    TestStablecoin usdc;
    BlocklistStablecoin busd;
}

/// @notice Drives one LoanLedger through random loans and histories the way its callers do:
///         lenders originate borrower-signed loans (some in a blocklist token whose lender is
///         blocked, so that their repayments are held for claiming), borrowers and third
///         parties repay every kind of amount, time jumps (to due dates, grace ends and
///         proposal deadlines exactly, and across them), keepers assess, the servicer declares
///         defaults and proposes restructurings, borrowers accept them, lenders claim.
///
///         After each action the handler checks what the action must have done, and the
///         state of the loan it acted on. A handler never asserts (forge discards a call that
///         reverts when `fail_on_revert` is off): each broken expectation is counted in
///         `violations`, the first one described in `firstViolation` (check, loan, time), and
///         the suite's invariant fails on it. The ghost sums feed the money-conservation
///         invariant; `lastOutstanding` the principal one.
///
///         Regimes left aside, as the ledger documents them: charges beyond 96 bits are
///         stored saturated (LoanAccounting.store), so a quote that includes them is lowered by
///         the next store; the quote comparisons skip such states (`charges saturate`).
contract LedgerHandler is TestBase {
    // ----------------------------------------------------------------- the model
    /// @dev One loan as the handler originated it.
    struct Tracked {
        uint256 id;
        address borrower;
        address lender;
        address token;
        bool held; // lender blocked by the token: its repayments are held
        bool closed; // as last seen
    }

    /// @dev The pending restructuring proposal of a loan, as proposed (deadline 0: none).
    struct Pending {
        uint16 aprBps;
        uint16 installments;
        uint32 periodSeconds;
        uint40 deadline;
    }

    /// @dev Balances around one repayment.
    struct Balances {
        uint256 payer;
        uint256 lender;
        uint256 claimable;
        uint256 ledger;
    }

    /// @dev A repayment under way: its inputs, the quote and balances before, what came out.
    struct Repayment {
        Tracked l;
        address payer;
        uint256 amount;
        uint256 paid;
        AmountDue q;
        LoanView before;
        LoanView after_;
        Balances b0;
        Balances b1;
        RepaymentLogs ev;
    }

    /// @dev An origination under way.
    struct Origination {
        OriginationTerms t;
        address lender;
        bool held;
        uint256 id;
        uint256 nonce;
        uint256 lenderBefore;
        uint256 borrowerBefore;
    }

    /// @dev The state a repayment leaves, for the split-payment comparison.
    struct Outcome {
        bool ok;
        uint256 paid;
        LoanView loan;
        AmountDue[3] due;
    }

    /// @dev At most this many loans open at once (a few, so that histories get long), and
    ///      this many in all.
    uint256 public constant MAX_OPEN = 6;
    uint256 public constant MAX_LOANS = 64;
    uint256 public constant START = 1_800_000_000;
    /// @dev The longest single time jump (keeps 100 jumps far inside uint40 timestamps).
    uint256 internal constant MAX_JUMP = 4000 days;

    LoanLedger public immutable ledger;
    TestStablecoin public immutable usdc;
    BlocklistStablecoin public immutable busd;

    address public immutable lenderA = addr("lender A");
    /// @notice Blocked by `busd` (unblocked only while it originates): its `busd` loans' repayments are held.
    address public immutable lenderB = addr("lender B");
    address public immutable servicer = addr("servicer");
    address public immutable thirdParty = addr("third-party payer");
    address public immutable treasury = addr("treasury");

    uint256[3] internal _borrowerKeys;
    address[3] internal _borrowers;

    Tracked[] internal _loans;
    /// @dev Indices in `_loans` of the loans not seen closed.
    uint256[] internal _open;
    /// @dev 1 + the index of the loan the current action acts on (0: none).
    uint256 internal _touched;
    mapping(uint256 loanId => Pending) internal _pending;
    /// @notice Ghost: each loan's principal outstanding after the last action.
    mapping(uint256 loanId => uint256) public lastOutstanding;
    /// @dev Interest a payment holiday capitalised into the loan's principal, in total.
    mapping(uint256 loanId => uint256) public capitalised;
    /// @notice Ghost: pulled from payers by repayments, per token.
    mapping(address token => uint256) public pulled;
    /// @notice Ghost: paid straight to lenders by repayments, per token.
    mapping(address token => uint256) public paidToLenders;
    /// @notice Ghost: paid out of the ledger by claims, per token.
    mapping(address token => uint256) public claimedOut;
    /// @notice How often each path was taken (the coverage test reads these).
    mapping(string path => uint256) public counts;

    /// @notice Broken expectations so far, and the first one.
    uint256 public violations;
    string public firstViolation;

    /// @notice The handler's clock: every action runs at it (jumps move it).
    uint256 public currentTime;

    constructor(LedgerSetup memory s, uint256[3] memory borrowerKeys) {
        ledger = s.ledger;
        usdc = s.usdc;
        busd = s.busd;
        currentTime = START;
        _borrowerKeys = borrowerKeys;
        for (uint256 i; i < 3; ++i) {
            _borrowers[i] = LVM.addr(borrowerKeys[i]);
        }
        address[5] memory payers = [_borrowers[0], _borrowers[1], _borrowers[2], thirdParty, lenderA];
        for (uint256 i; i < payers.length; ++i) {
            vm.startPrank(payers[i]);
            usdc.approve(address(ledger), type(uint256).max);
            busd.approve(address(ledger), type(uint256).max);
            vm.stopPrank();
        }
        vm.startPrank(lenderB);
        usdc.approve(address(ledger), type(uint256).max);
        busd.approve(address(ledger), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Every action runs at the handler's clock and ends with the checks of the loan it
    ///      acted on.
    modifier action() {
        vm.warp(currentTime);
        _;
        _afterAction();
    }

    // =====================================================================================
    // Actions (the fuzzer's targets)
    // =====================================================================================

    /// @notice Originates a borrower-signed loan with random terms (with MAX_OPEN loans open,
    ///         repays one instead).
    function originate(uint256 termsSeed, uint256 principalSeed, uint256 whoSeed) external action {
        if (!_room()) {
            _repayAction(termsSeed, principalSeed, whoSeed, whoSeed % 3 == 0);
            return;
        }
        _originate(termsSeed, principalSeed, whoSeed);
    }

    /// @notice Repays a loan: one unit, exactly the installment (with arrears), the payoff,
    ///         more than it, one unit less, a share of it, and so on (see `_amountFor`).
    function repay(uint256 loanSeed, uint256 mode, uint256 amountSeed, bool byThirdParty)
        external
        action
    {
        _repayAction(loanSeed, mode, amountSeed, byThirdParty);
    }

    /// @notice Pays `a + b` at once and, from the same state, `a` then `b` in the same
    ///         second (a state snapshot): the loan and what it owes must come out the same.
    function splitRepay(uint256 loanSeed, uint256 modeA, uint256 seedA, uint256 modeB, uint256 seedB)
        external
        action
    {
        (bool found, uint256 i) = _pickOpen(loanSeed);
        if (!found || _loans[i].closed) return;
        Tracked memory l = _loans[i];
        AmountDue memory q = ledger.amountDue(l.id, block.timestamp);
        uint256 a = _amountFor(modeA, seedA, q);
        uint256 b = _amountFor(modeB, seedB, q);
        bool recovery = ledger.loan(l.id).status == LoanStatus.Defaulted;
        uint256 period = _periodOf(ledger.loan(l.id));

        uint256 snapshot = LVM.snapshotState();
        Outcome memory once = _payRaw(l, a + b);
        once.loan = ledger.loan(l.id);
        _quotes(l.id, period, once.due);
        LVM.revertToStateAndDelete(snapshot);

        // From here on, handler storage written is kept: the checked path.
        Outcome memory twice;
        uint256 paidB;
        (twice.ok, twice.paid) = _repay(i, a, l.borrower);
        if (twice.ok) (, paidB) = _repay(i, b, l.borrower); // refused when `a` closed the loan
        twice.paid += paidB;
        twice.loan = ledger.loan(l.id);
        _quotes(l.id, period, twice.due);
        counts[recovery ? "split recovery" : "split"] += 1;

        if (!once.ok) return _fail("split: repaying a + b reverted", l.id);
        if (!twice.ok) return; // reported by _repay
        if (_saturates(q)) {
            // Charges beyond 96 bits saturate when stored (LoanAccounting.store): what `a`
            // leaves is stored saturated before `b` sees it.
            counts["charges saturate"] += 1;
            return;
        }
        _eq(twice.paid, once.paid, "split: a then b pulled other than a + b", l.id);
        _compareLoans(once.loan, twice.loan, l.id);
        for (uint256 k; k < 3; ++k) {
            _compareDue(once.due[k], twice.due[k], k, l.id);
        }
    }

    /// @notice Moves the clock: seconds to days, to a loan's next due date exactly or one
    ///         second past it, to the end of its oldest unpaid installment's grace period or
    ///         one second past it, by one period, far ahead, to a proposal's deadline.
    function warp(uint256 loanSeed, uint256 mode, uint256 seed) external {
        vm.warp(currentTime);
        uint256 t = currentTime;
        uint256 target;
        mode %= 10;
        if (_loans.length == 0 || mode == 0) {
            target = t + bound(seed, 1, 1 days);
        } else {
            uint256 m = _open.length;
            Tracked memory l = m != 0 ? _loans[_open[loanSeed % m]] : _loans[loanSeed % _loans.length];
            LoanView memory v = ledger.loan(l.id);
            AmountDue memory q = ledger.amountDue(l.id, t);
            uint256 oldest = _dueDate(l.id, v, v.installmentsPaid + 1);
            if (oldest == 0 || oldest + v.gracePeriodSeconds <= t) oldest = q.nextDueDate;
            if (mode == 1) target = q.nextDueDate;
            else if (mode == 2) target = q.nextDueDate + 1;
            else if (mode == 3) target = oldest + v.gracePeriodSeconds;
            else if (mode == 4) target = oldest + v.gracePeriodSeconds + 1;
            else if (mode == 5) target = t + bound(seed, 1 days, 40 days);
            else if (mode == 6) target = t + bound(seed, 30 days, 400 days);
            else if (mode == 7) target = _pending[l.id].deadline + (seed % 2);
            else if (mode == 8) target = t + _periodOf(v);
            else target = oldest + bound(seed, 0, 3) * 1 days;
        }
        if (target <= t || target - t > MAX_JUMP) target = t + 1 + (seed % 1 days);
        currentTime = target;
        vm.warp(target);
        counts["warp"] += 1;
        _afterAction();
    }

    /// @notice A keeper's `assess`, then `assess` again at the same timestamp: the second
    ///         changes nothing and emits nothing; neither changes what is owed now, and the
    ///         first does not lower what will be owed later.
    function assess(uint256 loanSeed) external action {
        (bool found, uint256 i) = _pick(loanSeed);
        if (!found) return;
        uint256 id = _loans[i].id;
        LoanView memory before = ledger.loan(id);
        AmountDue memory q0 = ledger.amountDue(id, block.timestamp);
        _checkCharges(before, q0, id);
        uint256[2] memory lazyPayoff = [
            ledger.amountDue(id, block.timestamp + _periodOf(before) + before.gracePeriodSeconds + 1).payoff,
            ledger.amountDue(id, block.timestamp + 400 days).payoff
        ];
        LVM.recordLogs();
        try ledger.assess(id) {
            _noFailedReport(id);
            if (before.status != LoanStatus.Active) {
                return _fail("assess: a loan that is not active was assessed", id);
            }
        } catch (bytes memory err) {
            LVM.getRecordedLogs();
            if (before.status == LoanStatus.Active) {
                return _fail(string.concat("assess reverted on an active loan: ", _hex(err)), id);
            }
            _ok(_selector(err) == ILoanLedger.LoanNotActive.selector, "assess: not LoanNotActive", id);
            counts["assess refused"] += 1;
            return;
        }
        LoanView memory once = ledger.loan(id);
        AmountDue memory q1 = ledger.amountDue(id, block.timestamp);
        // Between checkpoints penalty accrues lazily, in the borrower's favour: assessing never
        // lowers what is owed later (but for a unit per extra rounding down).
        for (uint256 k; k < 2; ++k) {
            uint256 later = block.timestamp + (k == 0 ? _periodOf(before) + before.gracePeriodSeconds + 1 : 400 days);
            uint256 lazy = lazyPayoff[k];
            uint256 eager = ledger.amountDue(id, later).payoff;
            if (!_saturates(q0) && eager + 2 < lazy) {
                _fail(string.concat("assess lowered a later payoff: ", _str(lazy), " -> ", _str(eager)), id);
            }
        }
        // A checkpoint does not change what is owed now (unless it stores charges beyond 96
        // bits: they saturate, as LoanAccounting.store documents).
        if (_saturates(q0)) counts["charges saturate"] += 1;
        else _compareDue(q0, q1, 0, id);
        _eq(once.principalOutstanding, before.principalOutstanding, "assess moved principal", id);

        LVM.recordLogs();
        ledger.assess(id);
        LedgerVm.Log[] memory logs = LVM.getRecordedLogs();
        _eq(logs.length, 0, "assess twice: the second assess emitted events", id);
        _compareLoans(once, ledger.loan(id), id);
        _compareDue(q1, ledger.amountDue(id, block.timestamp), 0, id);
        counts["assess"] += 1;
    }

    /// @notice The servicer declares default; with `advance`, first jumps to the second the
    ///         oldest unpaid installment reaches the threshold past its grace period.
    function declareDefault(uint256 loanSeed, bool advance) external action {
        (bool found, uint256 i) = _pick(loanSeed);
        if (!found) return;
        uint256 id = _loans[i].id;
        LoanView memory v = ledger.loan(id);
        if (advance && v.status == LoanStatus.Active) {
            uint256 due = _dueDate(id, v, v.installmentsPaid + 1);
            if (due != 0) {
                uint256 target = due
                    + max((v.defaultAfterDays - 1) * 1 days + 1, v.gracePeriodSeconds + 1);
                if (target > currentTime && target - currentTime <= MAX_JUMP) {
                    currentTime = target;
                    vm.warp(target);
                }
            }
        }
        AmountDue memory q = ledger.amountDue(id, block.timestamp);
        LVM.recordLogs();
        vm.prank(servicer);
        try ledger.declareDefault(id) {
            _noFailedReport(id);
            _ok(v.status == LoanStatus.Active, "default: declared on a loan that is not active", id);
            _ok(q.daysPastDue >= v.defaultAfterDays, "default: declared before its threshold", id);
            LoanView memory after_ = ledger.loan(id);
            _ok(after_.status == LoanStatus.Defaulted, "default: status is not Defaulted", id);
            _eq(after_.principalOutstanding, v.principalOutstanding, "default moved principal", id);
            delete _pending[id]; // dropped by the ledger
            _checkProposal(id);
            counts["default"] += 1;
        } catch (bytes memory err) {
            LVM.getRecordedLogs();
            bytes4 sel = _selector(err);
            if (v.status != LoanStatus.Active) {
                _ok(sel == ILoanLedger.LoanNotActive.selector, "default: not LoanNotActive", id);
            } else if (q.daysPastDue < v.defaultAfterDays) {
                _ok(
                    sel == ILoanLedger.DefaultThresholdNotReached.selector,
                    "default: not DefaultThresholdNotReached below the threshold",
                    id
                );
            } else if (sel == ILoanLedger.DefaultInsideGrace.selector) {
                (, uint256 graceEnds) = abi.decode(_args(err), (uint256, uint256));
                _ok(graceEnds >= block.timestamp, "default: DefaultInsideGrace after grace", id);
            } else {
                _fail(string.concat("default refused at its threshold past grace: ", _hex(err)), id);
            }
            counts["default refused"] += 1;
        }
    }

    /// @notice The servicer proposes new terms (replacing any pending proposal); a third of
    ///         the time the borrower accepts them in the same second.
    function proposeRestructure(
        uint256 loanSeed,
        uint256 aprSeed,
        uint256 installmentsSeed,
        uint256 periodSeed,
        uint256 deadlineSeed
    ) external action {
        (bool found, uint256 i) = _pick(loanSeed);
        if (!found) return;
        uint256 id = _loans[i].id;
        Pending memory p = Pending(
            uint16(_choose(aprSeed, [uint256(0), 1, 500, 1200, 3600, 10_000], 0, 10_000)),
            uint16(_choose(installmentsSeed, [uint256(1), 2, 3, 12, 60, 480], 1, 480)),
            uint32(
                _choose(periodSeed, [uint256(1 days), 7 days, 30 days, 91 days, 365 days, 366 days], 1 days, 366 days)
            ),
            uint40(block.timestamp + bound(deadlineSeed, 1, 60 days))
        );
        LoanView memory lv = ledger.loan(id);
        LoanStatus status = lv.status;
        // A loan due in calendar months keeps its months (period 0); others: whole days.
        p.periodSeconds = lv.periodMonths != 0 ? 0 : p.periodSeconds / 1 days * 1 days;
        vm.prank(servicer);
        try ledger.proposeRestructure(id, p.aprBps, p.installments, p.periodSeconds, p.deadline) {
            _ok(status == LoanStatus.Active, "propose: accepted for a loan that is not active", id);
            _pending[id] = p;
            _checkProposal(id);
            counts["propose"] += 1;
            // A third of the proposals are accepted at once by the borrower.
            if ((deadlineSeed >> 128) % 3 == 0) _accept(i, false);
        } catch (bytes memory err) {
            _ok(status != LoanStatus.Active, "propose refused on an active loan", id);
            _ok(_selector(err) == ILoanLedger.LoanNotActive.selector, "propose: not LoanNotActive", id);
        }
    }

    /// @notice The borrower accepts the pending proposal by its terms (one time in five by
    ///         other terms: refused). The payoff at the acceptance second is unchanged, the
    ///         principal falls by the interest paid ahead (if any), the loan is current.
    function acceptRestructure(uint256 loanSeed, uint256 misnameSeed) external action {
        (bool found, uint256 i) = _pickProposed(loanSeed);
        if (!found) return;
        _accept(i, misnameSeed % 5 == 0);
    }

    function _accept(uint256 i, bool misname) internal {
        Tracked memory l = _loans[i];
        Pending memory p = _pending[l.id];
        LoanView memory before = ledger.loan(l.id);
        AmountDue memory q = ledger.amountDue(l.id, block.timestamp);
        bool none = p.deadline == 0;
        if (none) p = Pending(100, 12, 30 days, uint40(block.timestamp + 1 days));
        uint16 named = misname ? (p.aprBps == 10_000 ? 0 : p.aprBps + 1) : p.aprBps;
        LVM.recordLogs();
        vm.prank(l.borrower);
        try ledger.acceptRestructure(l.id, named, p.installments, p.periodSeconds, p.deadline) {
            _noFailedReport(l.id);
            if (none || misname || before.status != LoanStatus.Active || block.timestamp > p.deadline) {
                return _fail("accept: accepted what should have been refused", l.id);
            }
            _checkRestructured(l.id, p, before, q);
            delete _pending[l.id];
            counts["accept"] += 1;
        } catch (bytes memory err) {
            LVM.getRecordedLogs();
            _checkAcceptRefused(l.id, _selector(err), err, none, misname, before.status, p.deadline);
        }
        _checkProposal(l.id);
    }

    /// @notice The servicer withdraws the pending proposal: refused when there is none.
    function withdrawRestructure(uint256 loanSeed) external action {
        (bool found, uint256 i) = _pick(loanSeed);
        if (!found) return;
        uint256 id = _loans[i].id;
        bool pending = _pending[id].deadline != 0;
        vm.prank(servicer);
        try ledger.withdrawRestructure(id) {
            _ok(pending, "withdraw: withdrew a proposal that was not pending", id);
            delete _pending[id];
            _checkProposal(id);
            counts["withdraw"] += 1;
        } catch (bytes memory err) {
            _ok(!pending, "withdraw refused a pending proposal", id);
            _ok(
                _selector(err) == ILoanLedger.NoRestructureProposal.selector,
                "withdraw: not NoRestructureProposal",
                id
            );
        }
    }

    /// @notice The servicer proposes a payment holiday of 1-3 installments, usually from the
    ///         next installment to fall due; half the time the borrower accepts it at once.
    ///         Accepted: nothing is past due until the holiday's end, the principal rises by
    ///         the capitalised interest less what was paid ahead, the payoff at that second
    ///         does not rise beyond a rounding unit, and the term is `count` periods longer.
    function holiday(uint256 loanSeed, uint256 fromSeed, uint256 countSeed) external action {
        (bool found, uint256 i) = _pick(loanSeed);
        if (!found) return;
        Tracked memory l = _loans[i];
        LoanView memory before = ledger.loan(l.id);
        uint256 next = before.status == LoanStatus.Active
            ? ledger.amountDue(l.id, block.timestamp).nextInstallment
            : 0;
        uint16 from = uint16(fromSeed % 4 == 0 ? bound(fromSeed >> 8, 1, before.installments) : next);
        uint16 count = uint16(bound(countSeed, 1, 3));
        uint40 deadline = uint40(block.timestamp + 1 days);
        vm.prank(servicer);
        try ledger.proposeHoliday(l.id, from, count, deadline) {
            _ok(before.status == LoanStatus.Active, "holiday proposed on a loan that is not active", l.id);
            counts["holiday proposed"] += 1;
        } catch (bytes memory err) {
            bytes4 sel = _selector(err);
            _ok(
                sel == ILoanLedger.LoanNotActive.selector || sel == ILoanLedger.HolidayOutOfRange.selector,
                "holiday proposal refused for another reason",
                l.id
            );
            return;
        }
        if ((countSeed >> 128) % 2 == 0) {
            vm.prank(servicer);
            ledger.withdrawHoliday(l.id);
            (,, uint40 left) = ledger.holidayProposal(l.id);
            _eq(left, 0, "holiday withdrawn but still pending", l.id);
            return;
        }
        _acceptHoliday(l, before, from, count, deadline);
    }

    function _acceptHoliday(
        Tracked memory l,
        LoanView memory before,
        uint16 from,
        uint16 count,
        uint40 deadline
    ) internal {
        AmountDue memory q = ledger.amountDue(l.id, block.timestamp);
        vm.prank(l.borrower);
        try ledger.acceptHoliday(l.id, from, count, deadline) {
            LoanView memory v = ledger.loan(l.id);
            _ok(q.interest + q.principal == 0 && from == q.nextInstallment, "holiday accepted while refused", l.id);
            _eq(v.installments, before.installments + count, "holiday: term not extended by its count", l.id);
            _ok(v.principalOutstanding >= before.principalOutstanding - q.currentInterest, "holiday lost principal", l.id);
            capitalised[l.id] += v.principalOutstanding - before.principalOutstanding;
            lastOutstanding[l.id] = v.principalOutstanding;
            AmountDue memory after_ = ledger.amountDue(l.id, block.timestamp);
            _eq(after_.pastDue, q.fees + q.penalty, "holiday: something past due", l.id);
            _le(after_.payoff, q.payoff + 10 ** v.roundingExp, "holiday raised the payoff now", l.id);
            counts["holiday"] += 1;
        } catch (bytes memory err) {
            bytes4 sel = _selector(err);
            _ok(
                // NothingToRestructure: the interest paid ahead covers the principal left
                // and the holiday's interest (a loan all but paid off ahead of time).
                sel == ILoanLedger.HolidayNotCurrent.selector || sel == ILoanLedger.HolidayOutOfRange.selector
                    || sel == ILoanLedger.InvalidPrincipal.selector
                    || sel == ILoanLedger.NothingToRestructure.selector,
                string.concat("holiday acceptance refused for another reason: ", _hex(err)),
                l.id
            );
            counts["holiday refused"] += 1;
        }
    }

    /// @notice The servicer grants (or extends, or ends early) a forbearance of up to 90 days
    ///         from today or later: days past due never rise by it, and the window is stored.
    function forbear(uint256 loanSeed, uint256 fromSeed, uint256 lengthSeed) external action {
        (bool found, uint256 i) = _pick(loanSeed);
        if (!found) return;
        uint256 id = _loans[i].id;
        LoanView memory before = ledger.loan(id);
        uint256 today = uint256(int256(block.timestamp) + before.utcOffsetMinutes * 60) / 1 days;
        bool change = before.forbearanceTo >= today && before.forbearanceFrom != 0
            && before.forbearanceFrom <= today && fromSeed % 3 == 0;
        uint256 from = change ? before.forbearanceFrom : today + bound(fromSeed >> 8, 0, 10);
        uint256 to = change ? today - 1 + bound(lengthSeed, 0, 90) : from + bound(lengthSeed, 0, 90);
        uint256 dpd = before.status == LoanStatus.Active ? ledger.daysPastDue(id) : 0;
        vm.prank(servicer);
        try ledger.forbear(id, from, to) {
            LoanView memory v = ledger.loan(id);
            if (to >= from) {
                _eq(v.forbearanceFrom, from, "forbearance: first date not stored", id);
                _eq(v.forbearanceTo, to, "forbearance: last date not stored", id);
            }
            // Ending it early (yesterday its last date) resumes the clock at today's start:
            // today's elapsed time counts again, at most one day more.
            uint256 resumed = change && to < today ? 1 : 0;
            _le(ledger.daysPastDue(id), dpd + resumed, "forbearance raised days past due", id);
            counts[change ? "forbearance changed" : "forbearance"] += 1;
        } catch (bytes memory err) {
            bytes4 sel = _selector(err);
            _ok(
                sel == ILoanLedger.LoanNotActive.selector || sel == ILoanLedger.ForbearanceInEffect.selector,
                string.concat("forbearance refused for another reason: ", _hex(err)),
                id
            );
        }
    }

    /// @notice A lender claims its held repayments (the blocked lender to the treasury).
    function claim(uint256 lenderSeed, uint256 tokenSeed, bool toSelf) external action {
        address lender = lenderSeed % 3 == 0 ? lenderA : lenderB;
        address token = tokenSeed % 3 == 0 ? address(usdc) : address(busd);
        address to = (toSelf && !(lender == lenderB && token == address(busd))) ? lender : treasury;
        uint256 held = ledger.claimable(lender, token);
        uint256 toBefore = IERC20(token).balanceOf(to);
        uint256 ledgerBefore = IERC20(token).balanceOf(address(ledger));
        vm.prank(lender);
        try ledger.claim(token, to) returns (uint256 amount) {
            _ok(held != 0, "claim: paid with nothing held", 0);
            _eq(amount, held, "claim: paid other than the claimable balance", 0);
            _eq(IERC20(token).balanceOf(to) - toBefore, amount, "claim: recipient got other than paid", 0);
            _eq(ledgerBefore - IERC20(token).balanceOf(address(ledger)), amount, "claim: ledger paid other", 0);
            _eq(ledger.claimable(lender, token), 0, "claim: balance left after a claim", 0);
            claimedOut[token] += amount;
            counts["claim"] += 1;
        } catch (bytes memory err) {
            _ok(held == 0, "claim refused with something held", 0);
            _ok(_selector(err) == ILoanLedger.NothingToClaim.selector, "claim: not NothingToClaim", 0);
        }
    }

    // =====================================================================================
    // The model, for the invariants
    // =====================================================================================

    function loanCount() external view returns (uint256) {
        return _loans.length;
    }

    function loanIdAt(uint256 i) external view returns (uint256) {
        return _loans[i].id;
    }

    /// @notice The loans not seen closed (a closed loan cannot change any more).
    function openLoanIds() external view returns (uint256[] memory ids) {
        uint256 m = _open.length;
        ids = new uint256[](m);
        for (uint256 k; k < m; ++k) {
            ids[k] = _loans[_open[k]].id;
        }
    }

    function lenders() external view returns (address[2] memory) {
        return [lenderA, lenderB];
    }

    function borrowerAt(uint256 i) external view returns (address) {
        return _borrowers[i];
    }

    // =====================================================================================
    // Origination
    // =====================================================================================

    /// @dev Random terms from `seed` (each term from a few edge values or its whole range),
    ///      a principal from one unit to the largest the terms allow, one of four lender and
    ///      token pairs (two of them held: lender B in the blocklist token) and borrower.
    function _originate(uint256 seed, uint256 principalSeed, uint256 whoSeed) internal returns (bool) {
        Origination memory o;
        o.t = _terms(seed, principalSeed);
        uint256 who = whoSeed % 6;
        uint256 b = (whoSeed >> 8) % 3;
        o.t.borrower = _borrowers[b];
        o.lender = (who == 0 || who == 1 || who == 5) ? lenderA : lenderB;
        o.t.token = (who == 0 || who == 4 || who == 5) ? address(usdc) : address(busd);
        o.held = o.lender == lenderB && o.t.token == address(busd);
        uint256 deadline = block.timestamp + bound(whoSeed >> 16, 0, 1 days);

        bytes memory sig;
        {
            bytes32 digest = ledger.originationDigest(o.t, o.lender, deadline);
            (uint8 v, bytes32 r, bytes32 s) = LVM.sign(_borrowerKeys[b], digest);
            sig = abi.encodePacked(r, s, v);
        }
        if (o.held) busd.setBlocked(o.lender, false);
        _mint(o.t.token, o.lender, o.t.principal);
        o.lenderBefore = IERC20(o.t.token).balanceOf(o.lender);
        o.borrowerBefore = IERC20(o.t.token).balanceOf(o.t.borrower);
        o.nonce = ledger.nonces(o.t.borrower);
        vm.prank(o.lender);
        try ledger.originate(o.t, deadline, sig) returns (uint256 loanId) {
            o.id = loanId;
        } catch (bytes memory err) {
            if (o.held) busd.setBlocked(o.lender, true);
            _fail(string.concat("originate reverted on valid signed terms: ", _hex(err)), 0);
            return false;
        }
        if (o.held) busd.setBlocked(o.lender, true);
        _checkOriginated(o);
        _open.push(_loans.length);
        _touched = _loans.length + 1;
        _loans.push(Tracked(o.id, o.t.borrower, o.lender, o.t.token, o.held, false));
        lastOutstanding[o.id] = o.t.principal;
        counts[o.held ? "originate held" : "originate"] += 1;
        return true;
    }

    function _checkOriginated(Origination memory o) internal {
        uint256 id = o.id;
        OriginationTerms memory t = o.t;
        IERC20 token = IERC20(t.token);
        _eq(id, _loans.length + 1, "originate: unexpected loan id", id);
        _eq(ledger.nonces(t.borrower), o.nonce + 1, "originate: nonce not used", id);
        _eq(o.lenderBefore - token.balanceOf(o.lender), t.principal, "originate: lender paid other", id);
        _eq(token.balanceOf(t.borrower) - o.borrowerBefore, t.principal, "originate: borrower got other", id);
        LoanView memory lv = ledger.loan(id);
        _eq(lv.principalOutstanding, t.principal, "originate: outstanding is not the principal", id);
        _ok(lv.status == LoanStatus.Active, "originate: not active", id);
        // The first period's interest runs from origination: none on its first second.
        _eq(ledger.payoffAmount(id), t.principal, "payoff on the origination second", id);
    }

    function _terms(uint256 seed, uint256 principalSeed) internal view returns (OriginationTerms memory t) {
        t.kind = ScheduleKind(_rand(seed, 0) % 3);
        t.aprBps = uint16(_choose(_rand(seed, 1), [uint256(0), 1, 500, 1200, 3600, 10_000], 0, 10_000));
        t.installments = uint16(_choose(_rand(seed, 2), [uint256(1), 2, 3, 12, 36, 480], 1, 480));
        _calendarTerms(t, seed);
        t.gracePeriodSeconds =
            uint32(_choose(_rand(seed, 4), [uint256(0), 1, 1 days, 3 days, 10 days, 90 days], 0, 90 days));
        t.lateFeeBps = uint16(_choose(_rand(seed, 5), [uint256(0), 1, 250, 500, 2500, 2500], 0, 2500));
        t.penaltyAprBps = uint16(_choose(_rand(seed, 6), [uint256(0), 1, 600, 1200, 10_000, 10_000], 0, 10_000));
        t.defaultAfterDays = uint16(_choose(_rand(seed, 7), [uint256(1), 2, 30, 60, 90, 3650], 1, 3650));
        // Rate per period over the convention's year; one period more for an odd first one.
        uint256 regular = t.periodMonths != 0 ? 30 * uint256(t.periodMonths) : t.periodSeconds / 1 days;
        uint256 yearDays = t.dayCount == DayCount.Actual365 ? 365 : 360;
        uint256 maxP = (uint256(type(uint96).max) * 1e4 * yearDays)
            / (1e4 * yearDays + uint256(t.aprBps) * regular * (uint256(t.installments) + 1));
        uint256 bucket = principalSeed % 4;
        uint256 x = principalSeed >> 8;
        uint256 p;
        if (bucket == 0) p = bound(x, 1, 100);
        else if (bucket == 1) p = bound(x, 101, 1e9);
        else if (bucket == 2) p = bound(x, 1e9, 1e18);
        else p = bound(x, 1, maxP);
        t.principal = uint128(min(p, maxP));
    }

    /// @dev The calendar terms: periods of days (actual/365 or actual/360) or calendar months
    ///      (30/360), a UTC offset, interest-only installments, rounding, and a first due date
    ///      from tomorrow (in the loan's offset) to two periods away, one period the most often.
    function _calendarTerms(OriginationTerms memory t, uint256 seed) internal view {
        uint256 months = _choose(_rand(seed, 9), [uint256(0), 0, 0, 1, 3, 12], 0, 12);
        t.periodMonths = uint8(months);
        if (months == 0) {
            t.periodSeconds = uint32(
                _choose(_rand(seed, 3), [uint256(1 days), 7 days, 30 days, 91 days, 365 days, 366 days], 1 days, 366 days)
                    / 1 days * 1 days
            );
            t.dayCount = _rand(seed, 10) % 3 == 0 ? DayCount.Actual360 : DayCount.Actual365;
        } else {
            t.dayCount = DayCount.Thirty360;
        }
        int256[6] memory offsets = [int256(0), 0, 0, -300, 480, 840];
        t.utcOffsetMinutes = int16(offsets[_rand(seed, 11) % 6]);
        if (t.kind != ScheduleKind.Bullet && _rand(seed, 12) % 4 == 0) {
            t.interestOnly = uint16(_rand(seed, 13) % t.installments);
        }
        t.roundingExp = uint8(_choose(_rand(seed, 14), [uint256(0), 0, 0, 2, 4, 4], 0, 6));
        int256 offset = int256(t.utcOffsetMinutes) * 60;
        uint256 today = uint256(int256(block.timestamp) + offset) / 1 days;
        // Two calendar months are at least 59 days.
        uint256 regular = months != 0 ? 30 * months : t.periodSeconds / 1 days;
        uint256 longest = months != 0 ? 28 * 2 * months : 2 * regular;
        uint256 leadSeed = _rand(seed, 8);
        uint256 lead;
        if (months == 0 && leadSeed % 4 < 2) lead = regular; // the usual: one period ahead
        else lead = bound(leadSeed >> 8, 1, longest);
        // The first due date: any second of that date in the loan's offset.
        t.firstDueDate = uint40(uint256(int256((today + lead) * 1 days) - offset) + bound(leadSeed >> 64, 0, 1 days - 1));
    }

    // =====================================================================================
    // Repayment and its checks
    // =====================================================================================

    function _repayAction(uint256 loanSeed, uint256 mode, uint256 amountSeed, bool byThirdParty) internal {
        (bool found, uint256 i) = _pick(loanSeed);
        if (!found) return;
        Tracked memory l = _loans[i];
        AmountDue memory q = ledger.amountDue(l.id, block.timestamp);
        _repay(i, _amountFor(mode, amountSeed, q), byThirdParty ? thirdParty : l.borrower);
    }

    /// @dev Amounts of every size: one unit, the installment with arrears, the payoff, more,
    ///      one unit less, a share of the payoff (up to 120%), anything up to a little more
    ///      than it, arrears only, the running installment only, a few units.
    function _amountFor(uint256 mode, uint256 seed, AmountDue memory q) internal pure returns (uint256) {
        uint256 installmentDue = q.pastDue + q.currentInterest + q.currentPrincipal;
        uint256 running = q.currentInterest + q.currentPrincipal;
        uint256 p = q.payoff;
        mode %= 11;
        uint256 amount;
        if (mode == 0) amount = 1;
        else if (mode == 1) amount = installmentDue;
        else if (mode == 2) amount = p;
        else if (mode == 3) amount = p + 1 + (seed % 1e9);
        else if (mode == 4) amount = p > 1 ? p - 1 : 1;
        else if (mode == 5) amount = (p * bound(seed, 1, 12_000)) / 10_000;
        else if (mode == 6) amount = installmentDue + 1;
        else if (mode == 7) amount = bound(seed, 1, p + p / 8 + 10);
        else if (mode == 8) amount = q.pastDue;
        else if (mode == 9) amount = running;
        else amount = 1 + (seed % 1000);
        return amount == 0 ? 1 + (seed % 100) : amount;
    }

    /// @dev Repays `amount` of loan `i` from `payer` (minted first) and checks the outcome.
    function _repay(uint256 i, uint256 amount, address payer) internal returns (bool ok, uint256 paid) {
        Repayment memory r;
        r.l = _loans[i];
        r.amount = amount;
        r.payer = payer;
        uint256 id = r.l.id;
        r.q = ledger.amountDue(id, block.timestamp);
        _eq(ledger.payoffAmount(id), r.q.payoff, "payoffAmount is not amountDue(now).payoff", id);
        r.before = ledger.loan(id);
        _checkCharges(r.before, r.q, id);
        _mint(r.l.token, payer, amount);
        r.b0 = _balances(r.l, payer);
        LVM.recordLogs();
        vm.prank(payer);
        try ledger.repay(id, amount) returns (uint256 p) {
            r.paid = p;
        } catch (bytes memory err) {
            LVM.getRecordedLogs();
            if (r.before.status != LoanStatus.Closed) {
                _fail(string.concat("repay reverted on an open loan: ", _hex(err)), id);
            } else {
                _ok(_selector(err) == ILoanLedger.LoanNotActive.selector, "repay closed: not LoanNotActive", id);
                counts["repay closed refused"] += 1;
            }
            return (false, 0);
        }
        r.ev = _parse(LVM.getRecordedLogs(), id, payer);
        r.b1 = _balances(r.l, payer);
        r.after_ = ledger.loan(id);
        _checkRepayment(r);
        return (true, r.paid);
    }

    function _checkRepayment(Repayment memory r) internal {
        uint256 id = r.l.id;
        uint256 paid = r.paid;
        AmountDue memory q = r.q;
        _ok(r.before.status != LoanStatus.Closed, "repay: a closed loan took a repayment", id);
        // (2) nothing pulled beyond the payoff quoted just before; exactly it when reached.
        _le(paid, q.payoff, "repay: pulled beyond the payoff quoted just before", id);
        _eq(paid, min(r.amount, q.payoff), "repay: paid is not min(amount, payoff)", id);
        // (1) the split adds up to what was paid and to what left the payer.
        _eq(r.ev.applied, 1, "repay: not exactly one RepaymentApplied (by the payer)", id);
        _eq(r.ev.reportsFailed, 0, "repay: the registry refused a report", id);
        Split memory s = r.ev.split;
        _eq(s.fees + s.penalty + s.interest + s.principal, paid, "repay: split does not sum to paid", id);
        _ok(r.b1.payer <= r.b0.payer, "repay: payer's balance rose", id);
        _eq(r.b0.payer - r.b1.payer, paid, "repay: payer's balance fell by other than paid", id);
        // (4) money is conserved: what left the payer reached the lender or is held for it.
        _ok(
            r.b1.lender >= r.b0.lender && r.b1.claimable >= r.b0.claimable && r.b1.ledger >= r.b0.ledger,
            "repay: a balance fell",
            id
        );
        uint256 toLender = r.b1.lender - r.b0.lender;
        uint256 heldNow = r.b1.claimable - r.b0.claimable;
        _eq(toLender + heldNow, paid, "repay: lender's gain + held != paid", id);
        _eq(r.b1.ledger - r.b0.ledger, heldNow, "repay: ledger kept other than it holds", id);
        _eq(heldNow, r.ev.held, "repay: RepaymentHeld is not the held amount", id);
        if (r.l.held) _eq(toLender, 0, "repay: paid to a blocked lender", id);
        else _eq(heldNow, 0, "repay: held for a lender that can receive", id);
        // (3) principal outstanding falls by the principal paid and any rebate, never rises.
        _checkPrincipal(r, s);
        bool closed = r.after_.status == LoanStatus.Closed;
        _ok(closed == (r.amount >= q.payoff), "repay: closed iff amount >= payoff", id);
        if (closed) {
            _eq(ledger.payoffAmount(id), 0, "repay: payoff left after closing", id);
            _eq(r.ev.rebate, q.interestRebate, "repay: rebate is not the quoted one", id);
            _eq(s.fees, q.fees, "payoff: fees", id);
            _eq(s.penalty, q.penalty, "payoff: penalty", id);
            _eq(s.interest, q.interest + q.accruedInterest, "payoff: interest", id);
        } else {
            _eq(r.ev.rebate, 0, "repay: rebate without closing", id);
            // A partial repayment lowers the payoff at this second by exactly what it paid,
            // unless the rebate cap (principal outstanding - 1) binds: then by less.
            AmountDue memory q1 = ledger.amountDue(id, block.timestamp);
            bool capped = q1.interestRebate != 0 && q1.interestRebate == r.after_.principalOutstanding - 1;
            if (_saturates(q)) {
                counts["charges saturate"] += 1;
            } else if (capped) {
                _le(q.payoff, q1.payoff + paid, "repay: payoff fell by more than paid", id);
                counts["rebate capped"] += 1;
            } else {
                _eq(q1.payoff + paid, q.payoff, "repay: payoff fell by other than paid", id);
            }
        }
        pulled[r.l.token] += paid;
        paidToLenders[r.l.token] += toLender;
        counts["repay"] += 1;
        if (r.amount == 1) counts["repay one unit"] += 1;
        if (closed) counts[r.before.status == LoanStatus.Defaulted ? "close after default" : "close"] += 1;
        if (heldNow != 0) counts["repay held"] += 1;
        if (r.ev.rebate != 0) counts["rebate"] += 1;
        if (r.amount > q.payoff) counts["repay beyond payoff"] += 1;
    }

    function _checkPrincipal(Repayment memory r, Split memory s) internal {
        uint256 id = r.l.id;
        uint256 was = r.before.principalOutstanding;
        uint256 now_ = r.after_.principalOutstanding;
        _le(now_, was, "repay: principal outstanding rose", id);
        if (now_ <= was) {
            _eq(was - now_, s.principal + r.ev.rebate, "repay: outstanding fell by other than principal + rebate", id);
        }
        _eq(s.principalOutstanding, now_, "repay: event's outstanding", id);
        _eq(s.installmentsPaid, r.after_.installmentsPaid, "repay: event's installments paid", id);
        _eq(s.status, uint256(r.after_.status), "repay: event's status", id);
    }

    /// @dev Repays without checks or ghosts (the combined side of the split comparison,
    ///      undone by a state snapshot).
    function _payRaw(Tracked memory l, uint256 amount) internal returns (Outcome memory o) {
        _mint(l.token, l.borrower, amount);
        vm.prank(l.borrower);
        try ledger.repay(l.id, amount) returns (uint256 p) {
            o.ok = true;
            o.paid = p;
        } catch {}
    }

    function _quotes(uint256 id, uint256 period, AmountDue[3] memory due) internal view {
        uint256 t = block.timestamp;
        uint256[3] memory at = [t, t + period + 1, t + 400 days];
        for (uint256 k; k < 3; ++k) {
            due[k] = ledger.amountDue(id, at[k]);
        }
    }

    function _balances(Tracked memory l, address payer) internal view returns (Balances memory b) {
        IERC20 token = IERC20(l.token);
        b.payer = token.balanceOf(payer);
        b.lender = token.balanceOf(l.lender);
        b.claimable = ledger.claimable(l.lender, l.token);
        b.ledger = token.balanceOf(address(ledger));
    }

    function _parse(LedgerVm.Log[] memory logs, uint256 id, address payer)
        internal
        view
        returns (RepaymentLogs memory ev)
    {
        for (uint256 k; k < logs.length; ++k) {
            LedgerVm.Log memory log = logs[k];
            if (log.emitter != address(ledger) || log.topics.length < 2) continue;
            if (uint256(log.topics[1]) != id) continue;
            bytes32 sig = log.topics[0];
            if (sig == ILoanLedger.RepaymentApplied.selector) {
                ev.applied += 1;
                if (address(uint160(uint256(log.topics[2]))) != payer) ev.applied += 100;
                ev.split = abi.decode(log.data, (Split));
            } else if (sig == ILoanLedger.InterestRebated.selector) {
                ev.rebate += abi.decode(log.data, (uint256));
            } else if (sig == ILoanLedger.CreditReportFailed.selector) {
                ev.reportsFailed += 1;
            } else if (sig == ILoanLedger.RepaymentHeld.selector) {
                (uint256 amount,) = abi.decode(log.data, (uint256, uint256));
                ev.held += amount;
            }
        }
    }

    // =====================================================================================
    // Restructuring checks
    // =====================================================================================

    function _checkRestructured(uint256 id, Pending memory p, LoanView memory before, AmountDue memory q)
        internal
    {
        LoanView memory v = ledger.loan(id);
        AmountDue memory q1 = ledger.amountDue(id, block.timestamp);
        // (3) principal never rises: it falls by the interest paid ahead, if any.
        _eq(v.principalOutstanding, before.principalOutstanding - q.interestRebate, "accept: new principal", id);
        _eq(v.carriedInterest, q.interest + q.accruedInterest, "accept: carried interest", id);
        if (_saturates(q)) counts["charges saturate"] += 1; // stored saturated: payoff lower
        else _eq(q1.payoff, q.payoff, "accept: payoff at the acceptance second changed", id);
        _eq(q1.daysPastDue, 0, "accept: not current", id);
        _eq(v.bucket, 0, "accept: bucket", id);
        _ok(v.status == LoanStatus.Active, "accept: not active", id);
        uint256 d = q.nextInstallment != 0 ? q.nextInstallment - 1 : before.installments;
        _eq(v.baseIndex, d, "accept: segment starts after the installments due", id);
        _eq(v.installments, d + p.installments, "accept: installments", id);
        // A new calendar from the end of today, in the loan's offset.
        int256 offset = v.utcOffsetMinutes * 60;
        uint256 todayEnd = uint256(int256((uint256(int256(block.timestamp) + offset) / 1 days + 1) * 1 days) - 1 - offset);
        _eq(v.segmentStart, todayEnd, "accept: segment start", id);
        _eq(v.aprBps, p.aprBps, "accept: rate", id);
        _eq(v.periodSeconds, p.periodSeconds, "accept: period", id);
    }

    function _checkAcceptRefused(
        uint256 id,
        bytes4 sel,
        bytes memory err,
        bool none,
        bool misname,
        LoanStatus status,
        uint256 deadline
    ) internal {
        counts["accept refused"] += 1;
        if (status != LoanStatus.Active) {
            return _ok(sel == ILoanLedger.LoanNotActive.selector, "accept: not LoanNotActive", id);
        }
        if (none) {
            return _ok(sel == ILoanLedger.NoRestructureProposal.selector, "accept: not NoRestructureProposal", id);
        }
        if (misname) {
            return _ok(sel == ILoanLedger.RestructureTermsMismatch.selector, "accept: not TermsMismatch", id);
        }
        if (block.timestamp > deadline) {
            return _ok(sel == ILoanLedger.RestructureExpired.selector, "accept: not RestructureExpired", id);
        }
        if (sel == ILoanLedger.DefaultDue.selector) {
            counts["accept default due"] += 1;
            return;
        }
        if (sel == ILoanLedger.InvalidPrincipal.selector || sel == ILoanLedger.InvalidInstallments.selector) {
            return;
        }
        _fail(string.concat("accept refused a valid acceptance: ", _hex(err)), id);
    }

    /// @dev The charges a checkpoint at this second would add (the quote accrues them; the
    ///      view is as stored) are bounded independently of how the ledger computes them:
    ///      penalty at most the penalty rate on all unpaid past-due principal and interest
    ///      since the last checkpoint, late fees at most the fee rate on it; after default,
    ///      and on a closed loan, nothing accrues.
    function _checkCharges(LoanView memory v, AmountDue memory q, uint256 id) internal {
        if (v.status == LoanStatus.Closed || _saturates(q)) return;
        if (q.fees < v.feesOwed || q.penalty < v.penaltyOwed) return _fail("charges fell without a payment", id);
        uint256 fee = q.fees - v.feesOwed;
        uint256 penalty = q.penalty - v.penaltyOwed;
        if (v.status == LoanStatus.Defaulted) {
            _eq(fee + penalty, 0, "charges accrued after default", id);
            return;
        }
        uint256 unpaid = q.interest + q.principal; // past due, carried interest included
        uint256 elapsed = block.timestamp > v.lastAccrual ? block.timestamp - v.lastAccrual : 0;
        if (penalty * 1e4 * 365 days > unpaid * v.penaltyAprBps * elapsed) {
            _fail(
                string.concat("penalty beyond its rate on what is past due: ", _str(penalty), " on ", _str(unpaid)),
                id
            );
        }
        if (fee * 1e4 > unpaid * v.lateFeeBps) {
            _fail(string.concat("late fee beyond its rate on what is past due: ", _str(fee)), id);
        }
    }

    /// @dev The registry (which granted the ledger its reporter role) accepted every report
    ///      of the call whose logs are being recorded.
    function _noFailedReport(uint256 id) internal {
        LedgerVm.Log[] memory logs = LVM.getRecordedLogs();
        for (uint256 k; k < logs.length; ++k) {
            if (logs[k].emitter == address(ledger) && logs[k].topics[0] == ILoanLedger.CreditReportFailed.selector) {
                return _fail(string.concat("the registry refused a report: ", _hex(logs[k].data)), id);
            }
        }
    }

    /// @dev The ledger's pending proposal is the one the handler proposed last (none after an
    ///      acceptance, a withdrawal or a default).
    function _checkProposal(uint256 id) internal {
        Pending memory p = _pending[id];
        (uint16 apr, uint16 installments, uint32 period, uint40 deadline) = ledger.restructureProposal(id);
        if (apr != p.aprBps || installments != p.installments || period != p.periodSeconds || deadline != p.deadline) {
            _fail(string.concat("pending proposal is not the last proposed: deadline ", _str(deadline)), id);
        }
    }

    // =====================================================================================
    // After every action: the loan it acted on
    // =====================================================================================

    /// @dev Checks the loan the action acted on (one at most; a jump of the clock changes no
    ///      stored loan). `invariant_ledger` checks that every other open loan is unchanged.
    function _afterAction() internal {
        uint256 touched = _touched;
        if (touched == 0) return;
        _touched = 0;
        Tracked storage l = _loans[touched - 1];
        // A closed loan can no longer change: every call on it is refused (and checked so).
        if (l.closed) return;
        LoanView memory v = ledger.loan(l.id);
        uint256 last = lastOutstanding[l.id];
        // (3) principal outstanding never increases, whatever the action.
        if (v.principalOutstanding > last) {
            _fail(
                string.concat("principal outstanding increased: ", _str(last), " -> ", _str(v.principalOutstanding)),
                l.id
            );
        }
        lastOutstanding[l.id] = v.principalOutstanding;
        if (v.installmentsPaid > v.installments || v.baseIndex > v.installmentsPaid) {
            _fail("installments paid outside the segment", l.id);
        }
        if (v.installmentsAssessedLate > v.installments) _fail("installments assessed late beyond the last", l.id);
        if (v.bucket > 4) _fail("bucket beyond 4", l.id);
        if (v.status == LoanStatus.Closed) {
            l.closed = true;
            for (uint256 k; k < _open.length; ++k) {
                if (_open[k] == touched - 1) {
                    _open[k] = _open[_open.length - 1];
                    _open.pop();
                    break;
                }
            }
            if (v.principalOutstanding != 0) _fail("closed with principal outstanding", l.id);
            if (ledger.payoffAmount(l.id) != 0) _fail("a closed loan owes something", l.id);
        }
    }

    // =====================================================================================
    // Comparisons (naming the first field that differs)
    // =====================================================================================

    function _compareLoans(LoanView memory a, LoanView memory b, uint256 id) internal {
        bytes memory x = abi.encode(a);
        bytes memory y = abi.encode(b);
        string[40] memory names = [
            "borrower", "lender", "token", "decimals", "status", "kind", "principal",
            "principalOutstanding", "aprBps", "penaltyAprBps", "lateFeeBps", "defaultAfterDays",
            "periodSeconds", "gracePeriodSeconds", "installments", "installmentsPaid",
            "installmentsAssessedLate", "baseIndex", "basePrincipal", "segmentStart",
            "paidPrincipal", "paidInterest", "feesOwed", "penaltyOwed", "carriedInterest",
            "lastAccrual", "bucket", "advanceInterest", "advancePending", "periodMonths",
            "dayCount", "utcOffsetMinutes", "anchorDay", "interestOnly", "roundingExp", "oddDays",
            "calendarMonth", "holidayPeriods", "forbearanceFrom", "forbearanceTo"
        ];
        if (x.length != 40 * 32) return _fail("LoanView is not the 40 words compared", id);
        for (uint256 k; k < 40; ++k) {
            uint256 u = _word(x, k);
            uint256 w = _word(y, k);
            if (u != w) {
                return _fail(
                    string.concat("loan views differ in ", names[k], ": ", _str(u), " vs ", _str(w)), id
                );
            }
        }
    }

    function _compareDue(AmountDue memory a, AmountDue memory b, uint256 at, uint256 id) internal {
        bytes memory x = abi.encode(a);
        bytes memory y = abi.encode(b);
        string[14] memory names = [
            "fees", "penalty", "interest", "principal", "currentInterest", "currentPrincipal",
            "remainingPrincipal", "pastDue", "payoff", "daysPastDue", "nextDueDate",
            "nextInstallment", "accruedInterest", "interestRebate"
        ];
        for (uint256 k; k < 14; ++k) {
            uint256 u = _word(x, k);
            uint256 w = _word(y, k);
            if (u != w) {
                return _fail(
                    string.concat(
                        "amountDue (quote ", _str(at), ") differs in ", names[k], ": ", _str(u), " vs ", _str(w)
                    ),
                    id
                );
            }
        }
    }

    // =====================================================================================
    // Helpers
    // =====================================================================================

    /// @dev A loan to act on: any (sometimes a closed one, whose refusals are checked too),
    ///      else an open one; with none open, a new loan while there is room.
    function _pick(uint256 seed) internal returns (bool, uint256) {
        uint256 n = _loans.length;
        if (n != 0 && (seed >> 128) % 8 == 0) return _use(seed % n);
        return _pickOpen(seed);
    }

    function _use(uint256 i) internal returns (bool, uint256) {
        _touched = i + 1;
        return (true, i);
    }

    /// @dev Mostly an open loan with a pending proposal (when there is one), else any.
    function _pickProposed(uint256 seed) internal returns (bool, uint256) {
        uint256 m = _open.length;
        if ((seed >> 160) % 4 != 0) {
            for (uint256 k; k < m; ++k) {
                uint256 i = _open[(seed % m + k) % m];
                if (_pending[_loans[i].id].deadline != 0) return _use(i);
            }
        }
        return _pick(seed);
    }

    function _pickOpen(uint256 seed) internal returns (bool, uint256) {
        uint256 m = _open.length;
        if (m != 0) return _use(_open[seed % m]);
        uint256 n = _loans.length;
        if (_room() && _originate(_rand(seed, 100), _rand(seed, 101), _rand(seed, 102))) {
            return _use(n);
        }
        counts["no open loan"] += 1;
        if (n == 0) return (false, 0);
        return _use(seed % n);
    }

    function _room() internal view returns (bool) {
        return _open.length < MAX_OPEN && _loans.length < MAX_LOANS;
    }

    /// @dev Due date of installment `number` in the segment in force (0 when outside it).
    function _dueDate(uint256 id, LoanView memory v, uint256 number) internal view returns (uint256 due) {
        if (number <= v.baseIndex || number > v.installments) return 0;
        (due,,) = ledger.installment(id, number);
    }

    /// @dev About one period of the loan, in seconds (a calendar month counts 30 days).
    function _periodOf(LoanView memory v) internal pure returns (uint256) {
        return v.periodMonths != 0 ? v.periodMonths * 30 days : v.periodSeconds;
    }

    /// @dev Whether a quote's charges exceed what the ledger stores (96 bits, saturating).
    function _saturates(AmountDue memory q) internal pure returns (bool) {
        return q.fees > type(uint96).max || q.penalty > type(uint96).max;
    }

    function _mint(address token, address to, uint256 amount) internal {
        if (token == address(usdc)) usdc.mint(to, amount);
        else busd.mint(to, amount);
    }

    /// @dev One of six edge values (three draws in four), else anything in [lo, hi].
    function _choose(uint256 x, uint256[6] memory edges, uint256 lo, uint256 hi)
        internal
        pure
        returns (uint256)
    {
        if (x % 8 < 6) return edges[x % 8];
        return bound(x >> 8, lo, hi);
    }

    function _rand(uint256 seed, uint256 k) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, k)));
    }

    function _fail(string memory what, uint256 id) internal {
        if (violations == 0) {
            firstViolation = string.concat(what, " [loan ", _str(id), ", t=", _str(block.timestamp), "]");
        }
        violations += 1;
    }

    function _ok(bool condition, string memory what, uint256 id) internal {
        if (!condition) _fail(what, id);
    }

    function _eq(uint256 a, uint256 b, string memory what, uint256 id) internal {
        if (a != b) _fail(string.concat(what, ": ", _str(a), " != ", _str(b)), id);
    }

    function _le(uint256 a, uint256 b, string memory what, uint256 id) internal {
        if (a > b) _fail(string.concat(what, ": ", _str(a), " > ", _str(b)), id);
    }

    function _word(bytes memory data, uint256 k) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(data, add(32, mul(k, 32))))
        }
    }

    function _selector(bytes memory err) internal pure returns (bytes4 sel) {
        if (err.length < 4) return bytes4(0);
        assembly ("memory-safe") {
            sel := mload(add(err, 32))
        }
    }

    /// @dev Revert data without its selector.
    function _args(bytes memory err) internal pure returns (bytes memory out) {
        out = new bytes(err.length - 4);
        for (uint256 k; k < out.length; ++k) {
            out[k] = err[k + 4];
        }
    }

    function _str(uint256 x) internal pure returns (string memory) {
        if (x == 0) return "0";
        bytes memory buf = new bytes(78);
        uint256 n;
        while (x != 0) {
            buf[77 - n] = bytes1(uint8(48 + (x % 10)));
            x /= 10;
            ++n;
        }
        bytes memory out = new bytes(n);
        for (uint256 k; k < n; ++k) {
            out[k] = buf[78 - n + k];
        }
        return string(out);
    }

    function _hex(bytes memory data) internal pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        uint256 n = data.length > 68 ? 68 : data.length;
        bytes memory out = new bytes(2 + 2 * n);
        out[0] = "0";
        out[1] = "x";
        for (uint256 k; k < n; ++k) {
            out[2 + 2 * k] = digits[uint8(data[k]) >> 4];
            out[3 + 2 * k] = digits[uint8(data[k]) & 15];
        }
        return string(out);
    }
}
