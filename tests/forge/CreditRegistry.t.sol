// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Forge suites for the contracts in contracts/ live in tests/forge (foundry.toml's `test`).
//
//   make forge-test   every suite, default profile: fuzz 256 runs, invariants 256 runs x depth 100
//   make fuzz         the same, FOUNDRY_PROFILE=deep: 2000 runs, invariants 2000 runs x depth 200
//   node_modules/.bin/forge test --match-contract CreditRegistryInvariantTest -vvv
//                     one suite, with the failing call sequence and traces
//
// forge is pinned in package.json and builds offline with the checkout's solc (foundry.toml);
// `make setup` installs both. tests/forge/lib/Test.sol has the cheatcodes and helpers.
//
// An invariant suite has a handler that calls the contract under test the way its real callers
// do (here: ledgers reporting their own loans) and keeps a model of what the views must return.
// The test contract targets only the handler's functions (targetContract, targetSelector);
// forge calls them in random sequences and checks every `invariant_*` function after each call.
// A handler never asserts (a reverting call would just be discarded): it counts what went wrong
// in ghost variables that the invariants check. The ledger's suite follows the same pattern.

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {CreditRegistry} from "../../contracts/CreditRegistry.sol";
import {CreditRecord, ICreditRegistry} from "../../contracts/interfaces/ICreditRegistry.sol";
import {Test, TestBase} from "./lib/Test.sol";

uint256 constant MAX16 = type(uint16).max;
uint256 constant MAX24 = type(uint24).max;
uint256 constant MAX96 = type(uint96).max;

/// @dev Uncapped sums of what one reporter reported about one borrower.
struct Figures {
    uint256 paidOnTime;
    uint256 paidLate;
    uint256 missed;
    uint256 defaults;
    uint256 opened;
    uint256 closed;
    uint256 repaid;
    uint256 maxDaysPastDue;
}

/// @dev A record's fields widened, to compare with a model.
struct Expected {
    uint256 paidOnTime;
    uint256 paidLate;
    uint256 missed;
    uint256 currentDaysPastDue;
    uint256 maxDaysPastDue;
    uint256 defaults;
    uint256 loansOpened;
    uint256 loansClosed;
    uint256 totalRepaid;
}

abstract contract RegistryAssertions is TestBase {
    function _capped(Figures memory f, uint256 currentDaysPastDue)
        internal
        pure
        returns (Expected memory e)
    {
        e.paidOnTime = min(f.paidOnTime, MAX24);
        e.paidLate = min(f.paidLate, MAX24);
        e.missed = min(f.missed, MAX24);
        e.currentDaysPastDue = currentDaysPastDue;
        e.maxDaysPastDue = min(f.maxDaysPastDue, MAX16);
        e.defaults = min(f.defaults, MAX16);
        e.loansOpened = min(f.opened, MAX16);
        e.loansClosed = min(f.closed, MAX16);
        e.totalRepaid = min(f.repaid, MAX96);
    }

    function _widened(CreditRecord memory r) internal pure returns (Expected memory e) {
        e.paidOnTime = r.paidOnTime;
        e.paidLate = r.paidLate;
        e.missed = r.missed;
        e.currentDaysPastDue = r.currentDaysPastDue;
        e.maxDaysPastDue = r.maxDaysPastDue;
        e.defaults = r.defaults;
        e.loansOpened = r.loansOpened;
        e.loansClosed = r.loansClosed;
        e.totalRepaid = r.totalRepaid;
    }

    /// @dev `total` plus one reporter's (capped) record, capped again: how the registry sums.
    function _addCapped(Expected memory total, Expected memory r) internal pure {
        total.paidOnTime = min(total.paidOnTime + r.paidOnTime, MAX24);
        total.paidLate = min(total.paidLate + r.paidLate, MAX24);
        total.missed = min(total.missed + r.missed, MAX24);
        total.maxDaysPastDue = max(total.maxDaysPastDue, r.maxDaysPastDue);
        total.defaults = min(total.defaults + r.defaults, MAX16);
        total.loansOpened = min(total.loansOpened + r.loansOpened, MAX16);
        total.loansClosed = min(total.loansClosed + r.loansClosed, MAX16);
        total.totalRepaid = min(total.totalRepaid + r.totalRepaid, MAX96);
    }

    function _assertRecord(CreditRecord memory got, Expected memory want, string memory what)
        internal
        pure
    {
        // The invariants compare many records after every call: one comparison when equal.
        if (keccak256(abi.encode(_widened(got))) == keccak256(abi.encode(want))) return;
        vm.assertEq(got.paidOnTime, want.paidOnTime, string.concat(what, ": paidOnTime"));
        vm.assertEq(got.paidLate, want.paidLate, string.concat(what, ": paidLate"));
        vm.assertEq(got.missed, want.missed, string.concat(what, ": missed"));
        vm.assertEq(
            got.currentDaysPastDue,
            want.currentDaysPastDue,
            string.concat(what, ": currentDaysPastDue")
        );
        vm.assertEq(
            got.maxDaysPastDue, want.maxDaysPastDue, string.concat(what, ": maxDaysPastDue")
        );
        vm.assertEq(got.defaults, want.defaults, string.concat(what, ": defaults"));
        vm.assertEq(got.loansOpened, want.loansOpened, string.concat(what, ": loansOpened"));
        vm.assertEq(got.loansClosed, want.loansClosed, string.concat(what, ": loansClosed"));
        vm.assertEq(got.totalRepaid, want.totalRepaid, string.concat(what, ": totalRepaid"));
    }
}

/// @notice Example-based and fuzz tests of each report and view.
contract CreditRegistryTest is Test, RegistryAssertions {
    CreditRegistry internal registry;
    bytes32 internal reporterRole;
    address internal admin = addr("admin");
    address internal ledgerA = addr("ledger A");
    address internal ledgerB = addr("ledger B");
    address internal borrower = addr("borrower");

    function setUp() public {
        registry = new CreditRegistry(admin);
        reporterRole = registry.REPORTER_ROLE();
        vm.startPrank(admin);
        registry.grantRole(reporterRole, ledgerA);
        registry.grantRole(reporterRole, ledgerB);
        vm.stopPrank();
    }

    function testFuzz_repaymentsAddUpAndSaturate(
        uint256 onTime1,
        uint256 late1,
        uint256 amount1,
        uint256 onTime2,
        uint256 late2,
        uint256 amount2,
        bool closes
    ) public {
        // Counts and amounts far beyond the fields (a ledger's are much smaller), not so far
        // that the registry's uint256 sums could overflow.
        onTime1 = bound(onTime1, 0, 2 * MAX24);
        late1 = bound(late1, 0, 2 * MAX24);
        onTime2 = bound(onTime2, 0, 2 * MAX24);
        late2 = bound(late2, 0, 2 * MAX24);
        amount1 = bound(amount1, 0, 2 * MAX96);
        amount2 = bound(amount2, 0, 2 * MAX96);

        vm.startPrank(ledgerA);
        registry.reportLoanOpened(borrower, 7);
        registry.reportRepayment(borrower, 7, onTime1, late1, amount1, false);
        vm.expectEmit(address(registry));
        emit ICreditRegistry.RepaymentReported(borrower, ledgerA, 7, onTime2, late2, amount2);
        registry.reportRepayment(borrower, 7, onTime2, late2, amount2, closes);
        vm.stopPrank();

        Figures memory f;
        f.paidOnTime = onTime1 + onTime2;
        f.paidLate = late1 + late2;
        f.repaid = amount1 + amount2;
        f.opened = 1;
        f.closed = closes ? 1 : 0;
        Expected memory want = _capped(f, 0);
        _assertRecord(registry.reporterRecord(borrower, ledgerA), want, "reporter record");
        _assertRecord(registry.creditRecord(borrower), want, "credit record");
        Figures memory none;
        _assertRecord(registry.reporterRecord(borrower, ledgerB), _capped(none, 0), "ledger B");
    }

    function testFuzz_totalsSumEveryReporter(
        uint256 onTimeA,
        uint256 onTimeB,
        uint256 missedA,
        uint256 missedB,
        uint256 amountA,
        uint256 amountB,
        bool bFirst
    ) public {
        onTimeA = bound(onTimeA, 0, 2 * MAX24);
        onTimeB = bound(onTimeB, 0, 2 * MAX24);
        missedA = bound(missedA, 0, 2 * MAX24);
        missedB = bound(missedB, 0, 2 * MAX24);
        amountA = bound(amountA, 0, 2 * MAX96);
        amountB = bound(amountB, 0, 2 * MAX96);
        (address first, address second) = bFirst ? (ledgerB, ledgerA) : (ledgerA, ledgerB);
        vm.prank(first);
        registry.reportLoanOpened(borrower, 1);
        vm.prank(second);
        registry.reportLoanOpened(borrower, 1);

        vm.startPrank(ledgerA);
        registry.reportRepayment(borrower, 1, onTimeA, 0, amountA, false);
        registry.reportDelinquency(borrower, 1, missedA, 0);
        vm.stopPrank();
        vm.startPrank(ledgerB);
        registry.reportRepayment(borrower, 1, onTimeB, 0, amountB, false);
        registry.reportDelinquency(borrower, 1, missedB, 0);
        vm.stopPrank();

        Expected memory a = _capped(Figures(onTimeA, 0, missedA, 0, 1, 0, amountA, 0), 0);
        Expected memory b = _capped(Figures(onTimeB, 0, missedB, 0, 1, 0, amountB, 0), 0);
        _assertRecord(registry.reporterRecord(borrower, ledgerA), a, "ledger A's record");
        _assertRecord(registry.reporterRecord(borrower, ledgerB), b, "ledger B's record");
        Expected memory total;
        _addCapped(total, a);
        _addCapped(total, b);
        _assertRecord(registry.creditRecord(borrower), total, "credit record");

        address[] memory reporters = registry.reportersOf(borrower);
        vm.assertEq(reporters.length, 2, "two reporters");
        vm.assertEq(reporters[0], first, "first reporter first");
        vm.assertEq(reporters[1], second, "then the second");
    }

    function testFuzz_currentDaysPastDueIsTheWorstOpenLoan(
        uint256 dpdA1,
        uint256 dpdA2,
        uint256 dpdB1
    ) public {
        // Past the uint16 field too: reported days saturate at 65535.
        dpdA1 = bound(dpdA1, 1, 100_000);
        dpdA2 = bound(dpdA2, 1, 100_000);
        dpdB1 = bound(dpdB1, 1, 100_000);
        // Loan id 1 of ledger A and loan id 1 of ledger B are different loans.
        vm.startPrank(ledgerA);
        registry.reportLoanOpened(borrower, 1);
        registry.reportLoanOpened(borrower, 2);
        registry.reportDelinquency(borrower, 1, 1, dpdA1);
        registry.reportDefault(borrower, 2, dpdA2);
        vm.stopPrank();
        vm.startPrank(ledgerB);
        registry.reportLoanOpened(borrower, 1);
        registry.reportDelinquency(borrower, 1, 2, dpdB1);
        vm.stopPrank();

        uint256 a1 = min(dpdA1, MAX16);
        uint256 a2 = min(dpdA2, MAX16);
        uint256 b1 = min(dpdB1, MAX16);
        uint256 maxA = max(a1, a2);
        vm.assertEq(registry.loanDaysPastDue(ledgerA, 1), a1, "A's loan 1");
        vm.assertEq(registry.loanDaysPastDue(ledgerA, 2), a2, "A's loan 2");
        vm.assertEq(registry.loanDaysPastDue(ledgerB, 1), b1, "B's loan 1");
        CreditRecord memory recA = registry.reporterRecord(borrower, ledgerA);
        vm.assertEq(recA.currentDaysPastDue, maxA, "A's worst open loan");
        vm.assertEq(recA.maxDaysPastDue, maxA, "A's worst ever");
        CreditRecord memory total = registry.creditRecord(borrower);
        vm.assertEq(total.currentDaysPastDue, max(maxA, b1), "the borrower's worst open loan");
        vm.assertEq(total.missed, 3, "missed installments of both ledgers");
        vm.assertEq(total.defaults, 1, "one default");

        // A's loan 1 is repaid in full and its loan 2 cured: only B's loan is still late.
        vm.startPrank(ledgerA);
        registry.reportRepayment(borrower, 1, 0, 1, 10, true);
        registry.reportDelinquency(borrower, 2, 0, 0);
        vm.stopPrank();
        vm.assertEq(registry.loanDaysPastDue(ledgerA, 1), 0, "A's loan 1 closed");
        vm.assertEq(registry.loanDaysPastDue(ledgerA, 2), 0, "A's loan 2 cured");
        recA = registry.reporterRecord(borrower, ledgerA);
        vm.assertEq(recA.currentDaysPastDue, 0, "A: nothing late");
        vm.assertEq(recA.maxDaysPastDue, maxA, "A's worst ever stays");
        total = registry.creditRecord(borrower);
        vm.assertEq(total.currentDaysPastDue, b1, "B's loan is the only late one");
        vm.assertEq(total.maxDaysPastDue, max(maxA, b1), "the worst ever stays");

        vm.prank(ledgerB);
        registry.reportRepayment(borrower, 1, 0, 2, 20, true);
        total = registry.creditRecord(borrower);
        vm.assertEq(total.currentDaysPastDue, 0, "every loan closed or current");
        vm.assertEq(total.loansClosed, 2, "two loans closed");
    }

    function testFuzz_onlyReportersWrite(address caller, uint256 which) public {
        vm.assume(caller != ledgerA && caller != ledgerB);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, reporterRole
            )
        );
        vm.prank(caller);
        which %= 4;
        if (which == 0) registry.reportLoanOpened(borrower, 1);
        else if (which == 1) registry.reportRepayment(borrower, 1, 1, 0, 100, true);
        else if (which == 2) registry.reportDelinquency(borrower, 1, 1, 30);
        else registry.reportDefault(borrower, 1, 90);
        vm.assertEq(registry.creditRecord(borrower).loansOpened, 0, "nothing recorded");
        vm.assertEq(registry.reportersOf(borrower).length, 0, "no reporter listed");
    }

    /// @dev 65,536 openings and defaults: the uint16 counters stop at their maximum, the
    ///      reporter stays listed once.
    function test_loanCountersSaturate() public {
        vm.startPrank(ledgerA);
        for (uint256 i = 1; i <= MAX16 + 1; ++i) {
            registry.reportLoanOpened(borrower, i);
            registry.reportDefault(borrower, 1, 95);
        }
        vm.stopPrank();
        CreditRecord memory total = registry.creditRecord(borrower);
        vm.assertEq(total.loansOpened, MAX16, "loansOpened saturates");
        vm.assertEq(total.defaults, MAX16, "defaults saturate");
        vm.assertEq(total.currentDaysPastDue, 95, "one loan in default");
        vm.assertEq(registry.reportersOf(borrower).length, 1, "listed once");
    }
}

/// @notice Plays two ledgers that open loans for three borrowers and report on them (each loan
///         id of a ledger belongs to one borrower, opened before any other report), and keeps
///         the model the invariants compare the registry's views with.
/// @dev The model is packed (a loan in two slots, a reporter's sums in four): the invariants
///      read all of it after every call, and cold storage reads are most of their cost.
contract CreditRegistryHandler is TestBase {
    struct Loan {
        address reporter;
        uint16 daysPastDue;
        bool closed;
        address borrower;
        uint96 id;
    }

    /// @dev Figures, uncapped, in 128 bits (a run adds far less than 2^128 to any of them).
    struct Sums {
        uint128 paidOnTime;
        uint128 paidLate;
        uint128 missed;
        uint128 defaults;
        uint128 opened;
        uint128 closed;
        uint128 repaid;
        uint128 maxDaysPastDue;
    }

    uint256 internal constant MAX_LOANS = 16;

    CreditRegistry public immutable registry;
    Loan[] internal _loans;
    mapping(address reporter => uint96) internal _lastId;
    mapping(address borrower => mapping(address reporter => Sums)) internal _sums;
    mapping(address borrower => address[]) internal _reportersOf;

    /// @notice Ghost: reports that reverted (a report must never revert).
    uint256 public reverts;
    /// @notice Ghost: calls after which one of a borrower's totals had gone down.
    uint256 public decreases;

    constructor() {
        registry = new CreditRegistry(address(this));
        bytes32 role = registry.REPORTER_ROLE();
        registry.grantRole(role, reporterAt(0));
        registry.grantRole(role, reporterAt(1));
    }

    function reporterAt(uint256 i) public pure returns (address) {
        return addr(i == 0 ? "ledger A" : "ledger B");
    }

    function borrowerAt(uint256 i) public pure returns (address) {
        return addr(i == 0 ? "borrower 1" : i == 1 ? "borrower 2" : "borrower 3");
    }

    // ----- actions (the fuzzer's targets) -----------------------------------------------

    /// @dev Opens a loan while there are fewer than MAX_LOANS: a handful per borrower and
    ///      ledger exercises the registry as well as more would, and the checks read them all.
    function openLoan(uint256 reporterSeed, uint256 borrowerSeed) external {
        if (_loans.length >= MAX_LOANS) return;
        _open(reporterAt(reporterSeed % 2), borrowerAt(borrowerSeed % 3));
    }

    function repay(uint256 loanSeed, uint256 onTime, uint256 late, uint256 amount, bool closes)
        external
    {
        Loan storage loan = _loans[_pick(loanSeed)];
        // Large enough that the 24-bit counters and the 96-bit total fill up in a run.
        onTime = bound(onTime, 0, 1 << 22);
        late = bound(late, 0, 1 << 22);
        amount = bound(amount, 0, 1 << 94);
        CreditRecord memory before = registry.creditRecord(loan.borrower);
        vm.prank(loan.reporter);
        try registry.reportRepayment(loan.borrower, loan.id, onTime, late, amount, closes) {
            Sums storage f = _sums[loan.borrower][loan.reporter];
            f.paidOnTime += uint128(onTime);
            f.paidLate += uint128(late);
            f.repaid += uint128(amount);
            if (closes) {
                f.closed += 1;
                loan.closed = true;
                loan.daysPastDue = 0;
            }
        } catch {
            ++reverts;
        }
        _checkTotals(loan.borrower, before);
    }

    function reportDelinquency(uint256 loanSeed, uint256 missed, uint256 dpdSeed) external {
        Loan storage loan = _loans[_pick(loanSeed)];
        missed = bound(missed, 0, 1 << 22);
        uint256 dpd = _daysPastDue(dpdSeed);
        CreditRecord memory before = registry.creditRecord(loan.borrower);
        vm.prank(loan.reporter);
        try registry.reportDelinquency(loan.borrower, loan.id, missed, dpd) {
            Sums storage f = _sums[loan.borrower][loan.reporter];
            f.missed += uint128(missed);
            f.maxDaysPastDue = uint128(max(f.maxDaysPastDue, dpd));
            loan.daysPastDue = uint16(min(dpd, MAX16));
        } catch {
            ++reverts;
        }
        _checkTotals(loan.borrower, before);
    }

    function reportDefault(uint256 loanSeed, uint256 dpdSeed) external {
        Loan storage loan = _loans[_pick(loanSeed)];
        uint256 dpd = _daysPastDue(dpdSeed);
        CreditRecord memory before = registry.creditRecord(loan.borrower);
        vm.prank(loan.reporter);
        try registry.reportDefault(loan.borrower, loan.id, dpd) {
            Sums storage f = _sums[loan.borrower][loan.reporter];
            f.defaults += 1;
            f.maxDaysPastDue = uint128(max(f.maxDaysPastDue, dpd));
            loan.daysPastDue = uint16(min(dpd, MAX16));
        } catch {
            ++reverts;
        }
        _checkTotals(loan.borrower, before);
    }

    // ----- the model, for the invariants ------------------------------------------------

    function loans() external view returns (Loan[] memory) {
        return _loans;
    }

    function figures(address borrower, address reporter) external view returns (Figures memory) {
        Sums storage f = _sums[borrower][reporter];
        return Figures(
            f.paidOnTime, f.paidLate, f.missed, f.defaults, f.opened, f.closed, f.repaid,
            f.maxDaysPastDue
        );
    }

    function reportersOf(address borrower) external view returns (address[] memory) {
        return _reportersOf[borrower];
    }

    // ----- internals --------------------------------------------------------------------

    function _open(address reporter, address borrower) internal returns (uint256 index) {
        uint96 id = ++_lastId[reporter];
        CreditRecord memory before = registry.creditRecord(borrower);
        vm.prank(reporter);
        try registry.reportLoanOpened(borrower, id) {
            Sums storage f = _sums[borrower][reporter];
            if (f.opened == 0) _reportersOf[borrower].push(reporter);
            f.opened += 1;
        } catch {
            ++reverts;
        }
        _checkTotals(borrower, before);
        _loans.push(Loan(reporter, 0, false, borrower, id));
        return _loans.length - 1;
    }

    /// @dev An open loan picked by `seed`; a new one when every loan is closed.
    function _pick(uint256 seed) internal returns (uint256) {
        uint256 n = _loans.length;
        for (uint256 k; k < n; ++k) {
            uint256 i = (seed % n + k) % n;
            if (!_loans[i].closed) return i;
        }
        return _open(reporterAt(seed % 2), borrowerAt((seed / 2) % 3));
    }

    /// @dev Mostly current or a few months late, sometimes past the uint16 field.
    function _daysPastDue(uint256 seed) internal pure returns (uint256) {
        if (seed % 4 == 0) return 0;
        if (seed % 11 == 0) return bound(seed, 60_000, 200_000);
        return bound(seed, 1, 400);
    }

    /// @dev Counts a call after which one of the borrower's totals (all but the current days
    ///      past due) is lower than before it.
    function _checkTotals(address borrower, CreditRecord memory b) internal {
        CreditRecord memory a = registry.creditRecord(borrower);
        if (
            a.paidOnTime < b.paidOnTime || a.paidLate < b.paidLate || a.missed < b.missed
                || a.maxDaysPastDue < b.maxDaysPastDue || a.defaults < b.defaults
                || a.loansOpened < b.loansOpened || a.loansClosed < b.loansClosed
                || a.totalRepaid < b.totalRepaid
        ) ++decreases;
    }
}

/// @notice Invariants of the registry under random report sequences from two ledgers.
/// @dev One `invariant_` function: forge runs a whole campaign (runs x depth calls) for each,
///      so the properties are checked together after every call, each with its own message.
contract CreditRegistryInvariantTest is Test, RegistryAssertions {
    CreditRegistryHandler internal handler;
    CreditRegistry internal registry;

    function setUp() public {
        handler = new CreditRegistryHandler();
        registry = handler.registry();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](4);
        selectors[0] = CreditRegistryHandler.openLoan.selector;
        selectors[1] = CreditRegistryHandler.repay.selector;
        selectors[2] = CreditRegistryHandler.reportDelinquency.selector;
        selectors[3] = CreditRegistryHandler.reportDefault.selector;
        targetSelector(address(handler), selectors);
    }

    function invariant_registryAgreesWithTheModel() public view {
        // A report never reverts, and no call lowers a borrower's totals.
        vm.assertEq(handler.reverts(), 0, "a report reverted");
        vm.assertEq(handler.decreases(), 0, "a borrower's total went down");
        CreditRegistryHandler.Loan[] memory loans = handler.loans();
        for (uint256 i; i < 3; ++i) {
            _checkBorrower(handler.borrowerAt(i), loans);
        }
        // Each loan's standing is its last report (0 once closed or cured).
        for (uint256 i; i < loans.length; ++i) {
            vm.assertEq(
                registry.loanDaysPastDue(loans[i].reporter, loans[i].id),
                loans[i].daysPastDue,
                "a loan's days past due"
            );
        }
    }

    function _checkBorrower(address borrower, CreditRegistryHandler.Loan[] memory loans)
        internal
        view
    {
        // Each reporter's record is its own reports, each field capped, with the worst of its
        // open loans as current days past due; the borrower's record their capped sum, with
        // the worst of all the borrower's open loans; the worst ever is at least the current.
        Expected memory total;
        for (uint256 j; j < 2; ++j) {
            address reporter = handler.reporterAt(j);
            Expected memory want =
                _capped(handler.figures(borrower, reporter), _worst(loans, borrower, reporter));
            CreditRecord memory got = registry.reporterRecord(borrower, reporter);
            _assertRecord(got, want, "reporter record");
            vm.assertGe(got.maxDaysPastDue, got.currentDaysPastDue, "reporter: max < current");
            _addCapped(total, want);
        }
        total.currentDaysPastDue = _worst(loans, borrower, address(0));
        CreditRecord memory record = registry.creditRecord(borrower);
        _assertRecord(record, total, "credit record");
        vm.assertGe(record.maxDaysPastDue, record.currentDaysPastDue, "max < current");

        // Reporters are listed once each, in the order of their first opening.
        address[] memory listed = registry.reportersOf(borrower);
        address[] memory opened = handler.reportersOf(borrower);
        vm.assertEq(listed.length, opened.length, "number of reporters");
        for (uint256 k; k < opened.length; ++k) {
            vm.assertEq(listed[k], opened[k], "reporter order");
        }
    }

    /// @dev The worst days past due of the borrower's open loans (of `reporter` only, unless
    ///      it is the zero address).
    function _worst(CreditRegistryHandler.Loan[] memory loans, address borrower, address reporter)
        internal
        pure
        returns (uint256 w)
    {
        for (uint256 i; i < loans.length; ++i) {
            if (loans[i].borrower != borrower || loans[i].closed) continue;
            if (reporter != address(0) && loans[i].reporter != reporter) continue;
            w = max(w, loans[i].daysPastDue);
        }
    }
}
