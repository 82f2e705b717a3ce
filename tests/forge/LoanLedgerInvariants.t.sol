// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The ledger's handler-based invariant suite and its fuzz tests.
//
//   node_modules/.bin/forge test --offline --match-contract LoanLedgerInvariantTest
//                     the invariant campaign (tests/forge/handlers/LedgerHandler.sol drives it)
//   node_modules/.bin/forge test --offline --match-contract LoanLedgerFuzzTest
//                     payoff to the day, borrower signatures
//
// The handler checks each action's outcome as it goes and counts what went wrong;
// `invariant_ledger` fails on the first such violation (its message names the check, the loan
// and the time) and checks the ledger as a whole. What is checked:
//   1. each repayment's split (RepaymentApplied fees + penalty + interest + principal, read
//      from the recorded logs) is what `repay` returned and what left the payer's balance;
//   2. nothing is pulled beyond `amountDue(id, now).payoff` quoted just before: exactly
//      min(amount, payoff), closing iff amount >= payoff (then owing nothing); a partial
//      repayment lowers that payoff by exactly what it paid (by less only when the rebate cap,
//      principal outstanding - 1, binds);
//   3. principal outstanding never rises: a repayment lowers it by its principal part plus any
//      rebate, a restructuring by the interest paid ahead, anything else not at all;
//   4. money is conserved: the payer's loss is the lender's gain plus the increase of its
//      claimable balance (held exactly when the lender is blocklisted); the ledger's token
//      balances are the sums of claimable balances; claims pay out exactly those;
//   5. `assess` twice at one timestamp: the second stores and emits nothing (loan(id) and the
//      quote unchanged); an assess changes nothing owed now and lowers nothing owed later
//      (penalty between checkpoints accrues lazily, in the borrower's favour; 2 units of
//      rounding allowed);
//   6. split payments equal combined ones: from one state snapshot, `a + b` at once and `a`
//      then `b` in the same second pull the same and leave the same loan(id) and amountDue
//      (now, a period on, 400 days on), recoveries after default included;
// and along the way: charges a checkpoint adds stay within their rates on what is past due
// (none after default); defaults only at the threshold past grace, refusals with the right
// error; restructurings keep the payoff of their second and start current; the pending
// proposal is the last proposed (dropped at acceptance, withdrawal, default); the registry
// never refuses a report; closed loans refuse every call. Quotes whose charges exceed 96 bits
// are left out of the comparisons: the ledger stores charges saturated (LoanAccounting.store),
// so such a quote is lowered by the next store, as documented.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CreditRegistry} from "../../contracts/CreditRegistry.sol";
import {LoanLedger} from "../../contracts/LoanLedger.sol";
import {
    AmountDue,
    ILoanLedger,
    LoanStatus,
    LoanView,
    OriginationTerms,
    ScheduleKind
} from "../../contracts/interfaces/ILoanLedger.sol";
import {BlocklistStablecoin} from "../../contracts/test/BlocklistStablecoin.sol";
import {TestStablecoin} from "../../contracts/test/TestStablecoin.sol";
import {LedgerHandler, LedgerSetup, Split} from "./handlers/LedgerHandler.sol";
import {LVM, LedgerVm, SECP256K1_N} from "./lib/LedgerVm.sol";
import {Test, TestBase} from "./lib/Test.sol";

/// @notice A ledger with its registry, a 6-decimal stablecoin and a 6-decimal blocklist
///         stablecoin, both allowed; roles for two lenders and a servicer.
abstract contract LedgerFixture is TestBase {
    CreditRegistry internal registry;
    LoanLedger internal ledger;
    TestStablecoin internal usdc;
    BlocklistStablecoin internal busd;

    function _deploy(address lenderA, address lenderB, address servicer) internal {
        vm.warp(1_800_000_000);
        registry = new CreditRegistry(address(this));
        ledger = new LoanLedger(address(this), registry);
        registry.grantRole(registry.REPORTER_ROLE(), address(ledger));
        usdc = new TestStablecoin("USD Coin", "USDC", 6, address(this));
        busd = new BlocklistStablecoin("Blocklist USD", "BUSD", 6, address(this));
        ledger.setTokenAllowed(address(usdc), true);
        ledger.setTokenAllowed(address(busd), true);
        ledger.grantRole(ledger.ORIGINATOR_ROLE(), lenderA);
        ledger.grantRole(ledger.ORIGINATOR_ROLE(), lenderB);
        ledger.grantRole(ledger.SERVICER_ROLE(), servicer);
    }

    function _key(string memory label) internal pure returns (uint256) {
        return (uint256(keccak256(bytes(label))) % (SECP256K1_N - 1)) + 1;
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = LVM.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}

/// @notice The invariant campaign: random loans and histories through LedgerHandler.
contract LoanLedgerInvariantTest is Test, LedgerFixture {
    LedgerHandler internal handler;

    function setUp() public {
        _deploy(addr("lender A"), addr("lender B"), addr("servicer"));
        uint256[3] memory keys = [_key("borrower 1"), _key("borrower 2"), _key("borrower 3")];
        handler = new LedgerHandler(LedgerSetup(ledger, usdc, busd), keys);
        busd.setBlocked(handler.lenderB(), true);
        usdc.transferOwnership(address(handler));
        busd.transferOwnership(address(handler));

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](12);
        selectors[0] = LedgerHandler.originate.selector;
        selectors[1] = LedgerHandler.repay.selector;
        selectors[2] = LedgerHandler.splitRepay.selector;
        selectors[3] = LedgerHandler.warp.selector;
        selectors[4] = LedgerHandler.assess.selector;
        selectors[5] = LedgerHandler.declareDefault.selector;
        selectors[6] = LedgerHandler.proposeRestructure.selector;
        selectors[7] = LedgerHandler.acceptRestructure.selector;
        selectors[8] = LedgerHandler.withdrawRestructure.selector;
        selectors[9] = LedgerHandler.claim.selector;
        selectors[10] = LedgerHandler.holiday.selector;
        selectors[11] = LedgerHandler.forbear.selector;
        targetSelector(address(handler), selectors);
    }

    /// @notice Every expectation the handler checked after each action held (see the list at
    ///         the top of this file); and, for the ledger as a whole: its token balances are
    ///         the sums of claimable balances, every unit pulled from payers reached a lender,
    ///         is held, or was claimed, and every open loan's principal outstanding is what the
    ///         handler last saw (so no action changed a loan it did not act on), never more
    ///         than its principal; a loan closes once (the handler checks then that it owes
    ///         nothing, and afterwards that every call on it is refused).
    function invariant_ledger() public view {
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        address[2] memory tokens = [address(usdc), address(busd)];
        address[2] memory lenders = handler.lenders();
        for (uint256 k; k < 2; ++k) {
            address token = tokens[k];
            uint256 held = ledger.claimable(lenders[0], token) + ledger.claimable(lenders[1], token);
            uint256 balance = IERC20(token).balanceOf(address(ledger));
            vm.assertEq(balance, held, "the ledger's balance is the sum of claimable balances");
            vm.assertEq(
                handler.pulled(token),
                handler.paidToLenders(token) + balance + handler.claimedOut(token),
                "every unit pulled from payers reached a lender, is held or was claimed"
            );
        }
        vm.assertEq(ledger.loanCount(), handler.loanCount(), "loan count");
        uint256[] memory open = handler.openLoanIds();
        for (uint256 i; i < open.length; ++i) {
            LoanView memory v = ledger.loan(open[i]);
            vm.assertEq(v.principalOutstanding, handler.lastOutstanding(open[i]), "principal as last seen");
            vm.assertLe(
                v.principalOutstanding,
                v.principal + handler.capitalised(open[i]),
                "principal outstanding within the principal and the interest holidays capitalised"
            );
            vm.assertTrue(v.status != LoanStatus.Closed, "closed loans are seen closed");
        }
    }

    /// @notice The handler is not vacuous: a fixed pseudo-random sequence of its actions
    ///         reaches every path the invariants are about (held repayments and claims, one
    ///         unit, payoffs and more, rebates, defaults and recoveries, restructurings,
    ///         split payments), with no violation.
    function test_handlerReachesEveryPath() public {
        for (uint256 k; k < 400; ++k) {
            uint256 r = uint256(keccak256(abi.encode("path", k)));
            uint256 r2 = uint256(keccak256(abi.encode(r)));
            uint256 which = k % 12;
            if (which == 0) handler.originate(r, r2, r >> 64);
            else if (which == 1) handler.repay(r, r2, r >> 32, r % 5 == 0);
            else if (which == 2) handler.splitRepay(r, r2, r >> 32, r2 >> 32, r >> 96);
            else if (which == 3) handler.warp(r, r2, r >> 32);
            else if (which == 4) handler.assess(r);
            else if (which == 5) handler.declareDefault(r, r2 % 2 == 0);
            else if (which == 6) handler.proposeRestructure(r, r2, r >> 32, r2 >> 32, r >> 96);
            else if (which == 7) handler.acceptRestructure(r, r2);
            else if (which == 8) handler.withdrawRestructure(r);
            else if (which == 9) handler.claim(r, r2, r % 2 == 0);
            else if (which == 10) handler.holiday(r, r2, r >> 32);
            else handler.forbear(r, r2, r >> 32);
            if (handler.violations() != 0) break;
        }
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        string[21] memory paths = [
            "originate",
            "originate held",
            "repay",
            "repay one unit",
            "repay held",
            "repay beyond payoff",
            "rebate",
            "close",
            "close after default",
            "claim",
            "assess",
            "default",
            "propose",
            "accept",
            "withdraw",
            "split",
            "split recovery",
            "repay closed refused",
            "warp",
            "holiday",
            "forbearance"
        ];
        for (uint256 k; k < paths.length; ++k) {
            vm.assertTrue(handler.counts(paths[k]) != 0, string.concat("path not reached: ", paths[k]));
        }
        invariant_ledger();
    }
}

/// @notice Fuzz tests of the payoff to the day and of the borrower's signature.
contract LoanLedgerFuzzTest is Test, LedgerFixture {
    address internal lender = addr("lender A");
    address internal otherLender = addr("lender B");
    address internal servicer = addr("servicer");
    uint256 internal borrowerKey = _key("borrower 1");
    address internal borrower;

    function setUp() public {
        _deploy(lender, otherLender, servicer);
        borrower = LVM.addr(borrowerKey);
        vm.prank(lender);
        usdc.approve(address(ledger), type(uint256).max);
        vm.prank(borrower);
        usdc.approve(address(ledger), type(uint256).max);
    }

    /// @dev Terms in the whole allowed range; the first due date `lead` seconds ahead.
    function _terms(
        uint256 kind,
        uint256 principal,
        uint256 installments,
        uint256 apr,
        uint256 period,
        uint256 lead
    ) internal view returns (OriginationTerms memory t) {
        t.borrower = borrower;
        t.token = address(usdc);
        t.kind = ScheduleKind(kind % 3);
        t.aprBps = uint16(bound(apr, 0, 10_000));
        t.installments = uint16(bound(installments, 1, 480));
        t.periodSeconds = uint32(bound(period, 1, 366) * 1 days);
        uint256 maxP = (uint256(type(uint96).max) * 1e4 * 365 days)
            / (1e4 * 365 days + uint256(t.aprBps) * t.periodSeconds * (uint256(t.installments) + 1));
        t.principal = uint128(bound(principal, 1, maxP));
        // Due dates are dates (UTC here): from tomorrow to one period from today, any second.
        uint256 today = block.timestamp / 1 days;
        t.firstDueDate = uint40((today + bound(lead, 1, t.periodSeconds / 1 days)) * 1 days + (lead >> 128) % 1 days);
        t.gracePeriodSeconds = 3 days;
        t.lateFeeBps = 250;
        t.penaltyAprBps = 600;
        t.defaultAfterDays = 90;
    }

    function _originate(OriginationTerms memory t) internal returns (uint256 id) {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(borrowerKey, ledger.originationDigest(t, lender, deadline));
        usdc.mint(lender, t.principal);
        vm.prank(lender);
        id = ledger.originate(t, deadline, sig);
    }

    /// @notice On its origination second a loan owes exactly its principal, whatever its first
    ///         due date (the first period's interest runs from origination, even when the
    ///         period began before): no interest, nothing past due; a repayment of that payoff
    ///         closes it with no interest paid.
    function testFuzz_payoffOnTheOriginationSecondIsThePrincipal(
        uint256 kind,
        uint256 principal,
        uint256 installments,
        uint256 apr,
        uint256 period,
        uint256 lead
    ) public {
        OriginationTerms memory t = _terms(kind, principal, installments, apr, period, lead);
        uint256 id = _originate(t);

        AmountDue memory q = ledger.amountDue(id, block.timestamp);
        vm.assertEq(q.payoff, t.principal, "payoff on the origination second");
        vm.assertEq(ledger.payoffAmount(id), t.principal, "payoffAmount on the origination second");
        vm.assertEq(q.accruedInterest, 0, "no interest accrued");
        vm.assertEq(q.interestRebate, 0, "no rebate");
        vm.assertEq(q.pastDue, 0, "nothing past due");

        vm.assertEq(usdc.balanceOf(borrower), t.principal, "the borrower got the principal");
        LVM.recordLogs();
        vm.prank(borrower);
        uint256 paid = ledger.repay(id, t.principal + 1);
        vm.assertEq(paid, t.principal, "the payoff pulled is the principal");
        Split memory s = _appliedSplit(LVM.getRecordedLogs());
        vm.assertEq(s.interest, 0, "no interest paid");
        vm.assertEq(s.principal, t.principal, "all of it principal");
        vm.assertTrue(ledger.loan(id).status == LoanStatus.Closed, "closed");
        vm.assertEq(usdc.balanceOf(borrower), 0, "the borrower paid back exactly the principal");
        vm.assertEq(usdc.balanceOf(lender), t.principal, "the lender got it back");
    }

    /// @notice In the first period the payoff is the principal plus the first installment's
    ///         interest for the days from the origination date to the date paid, over the
    ///         first period's days (origination date to first due date), rounded down; paying
    ///         it closes the loan, one unit less does not.
    function testFuzz_payoffCountsWholeDaysOfTheRunningPeriod(
        uint256 kind,
        uint256 principal,
        uint256 installments,
        uint256 apr,
        uint256 period,
        uint256 lead,
        uint256 elapsed
    ) public {
        OriginationTerms memory t = _terms(kind, principal, installments, apr, period, lead);
        uint256 id = _originate(t);
        uint256 start = block.timestamp;
        // Any time up to the first due date (inclusive): installment 1 is still running.
        uint256 at = start + bound(elapsed, 0, (t.firstDueDate / 1 days + 1) * 1 days - 1 - start);
        (, , uint256 interest1) = ledger.installment(id, 1);
        // The first period's days: from the origination date to the first due date.
        uint256 length = t.firstDueDate / 1 days - start / 1 days;
        uint256 days_ = at / 1 days - start / 1 days;
        if (days_ > length) days_ = length;
        uint256 expected = t.principal + (interest1 * days_) / length;

        vm.assertEq(ledger.amountDue(id, at).payoff, expected, "payoff quoted ahead for that second");
        vm.warp(at);
        vm.assertEq(ledger.payoffAmount(id), expected, "payoff to the day");
        usdc.mint(borrower, expected);
        if (expected > 1) {
            uint256 snapshot = LVM.snapshotState();
            vm.prank(borrower);
            vm.assertEq(ledger.repay(id, expected - 1), expected - 1, "one unit less is a repayment");
            vm.assertTrue(ledger.loan(id).status == LoanStatus.Active, "one unit less does not close");
            LVM.revertToStateAndDelete(snapshot);
        }
        vm.prank(borrower);
        vm.assertEq(ledger.repay(id, type(uint128).max), expected, "the payoff is what is pulled");
        vm.assertTrue(ledger.loan(id).status == LoanStatus.Closed, "the payoff closes");
    }

    /// @notice A signature of the borrower's terms by any other key is refused, with the
    ///         digest the borrower must sign, and uses no nonce, moves no money, makes no loan;
    ///         the borrower's own signature of the same terms is accepted.
    function testFuzz_originationRefusesAnyOtherSigner(uint256 otherKey, uint256 principal, uint256 deadlineSeed)
        public
    {
        otherKey = bound(otherKey, 1, SECP256K1_N - 1);
        vm.assume(otherKey != borrowerKey);
        OriginationTerms memory t = _terms(0, bound(principal, 1, 1e15), 12, 1200, 30 days, 30 days);
        uint256 deadline = block.timestamp + bound(deadlineSeed, 0, 365 days);
        bytes32 digest = ledger.originationDigest(t, lender, deadline);
        usdc.mint(lender, t.principal);

        vm.expectRevert(
            abi.encodeWithSelector(ILoanLedger.InvalidBorrowerSignature.selector, borrower, digest)
        );
        vm.prank(lender);
        ledger.originate(t, deadline, _sign(otherKey, digest));
        vm.assertEq(ledger.loanCount(), 0, "no loan");
        vm.assertEq(ledger.nonces(borrower), 0, "no nonce used");
        vm.assertEq(usdc.balanceOf(lender), t.principal, "no principal moved");

        vm.prank(lender);
        uint256 id = ledger.originate(t, deadline, _sign(borrowerKey, digest));
        vm.assertEq(id, 1, "the borrower's own signature is accepted");
        vm.assertEq(ledger.nonces(borrower), 1, "its nonce is used");
    }

    /// @notice The borrower's signature binds the lender, every term and the nonce: it is
    ///         refused for another lender, for any changed term, and a second time.
    function testFuzz_borrowerSignatureBindsLenderTermsAndNonce(uint256 principal, uint256 which) public {
        principal = bound(principal, 2, 1e15);
        OriginationTerms memory t = _terms(1, principal, 6, 500, 7 days, 7 days);
        uint256 deadline = block.timestamp + 1 days;
        bytes memory sig = _sign(borrowerKey, ledger.originationDigest(t, lender, deadline));
        usdc.mint(lender, t.principal);
        usdc.mint(otherLender, t.principal);
        vm.prank(otherLender);
        usdc.approve(address(ledger), type(uint256).max);

        // Another lender presenting the borrower's signature for lender A.
        vm.expectRevert(
            abi.encodeWithSelector(
                ILoanLedger.InvalidBorrowerSignature.selector,
                borrower,
                ledger.originationDigest(t, otherLender, deadline)
            )
        );
        vm.prank(otherLender);
        ledger.originate(t, deadline, sig);

        // One term changed (a copy of the terms: memory structs are references).
        OriginationTerms memory changed = _terms(1, principal, 6, 500, 7 days, 7 days);
        which %= 4;
        if (which == 0) changed.principal = t.principal - 1;
        else if (which == 1) changed.aprBps = t.aprBps + 1;
        else if (which == 2) changed.installments = t.installments + 1;
        else changed.kind = ScheduleKind.Bullet;
        vm.expectRevert(
            abi.encodeWithSelector(
                ILoanLedger.InvalidBorrowerSignature.selector,
                borrower,
                ledger.originationDigest(changed, lender, deadline)
            )
        );
        vm.prank(lender);
        ledger.originate(changed, deadline, sig);

        vm.prank(lender);
        vm.assertEq(ledger.originate(t, deadline, sig), 1, "the signed terms, by the named lender");
        // The nonce is used: the same signature is refused the second time.
        vm.expectRevert(
            abi.encodeWithSelector(
                ILoanLedger.InvalidBorrowerSignature.selector,
                borrower,
                ledger.originationDigest(t, lender, deadline)
            )
        );
        vm.prank(lender);
        ledger.originate(t, deadline, sig);
        vm.assertEq(ledger.loanCount(), 1, "one loan");
    }

    function _appliedSplit(LedgerVm.Log[] memory logs) internal view returns (Split memory s) {
        uint256 found;
        for (uint256 k; k < logs.length; ++k) {
            if (logs[k].emitter == address(ledger) && logs[k].topics[0] == ILoanLedger.RepaymentApplied.selector) {
                s = abi.decode(logs[k].data, (Split));
                ++found;
            }
        }
        vm.assertEq(found, 1, "one RepaymentApplied");
    }
}
