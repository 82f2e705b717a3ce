// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The few forge cheatcodes the suites in tests/forge use (forge implements them at the
///         address below). forge-std is not a dependency: its npm copies are unofficial and
///         incomplete, and nothing outside npm can be fetched. Add a cheatcode here when a suite
///         needs it, with the signature from Foundry's cheatcode reference.
/// @dev The assertions are cheatcodes too: they revert with the message on failure, which is
///      how forge (1.x) tells a failed test or a broken invariant.
interface Vm {
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function warp(uint256 newTimestamp) external;
    function assume(bool condition) external pure;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(address emitter) external;

    function assertTrue(bool condition, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertGe(uint256 left, uint256 right, string calldata error) external pure;
    function assertLe(uint256 left, uint256 right, string calldata error) external pure;
}

/// @notice Cheatcodes and small helpers shared by tests and invariant handlers.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev `x` mapped into `[lo, hi]` (uniformly for uniform `x`); `hi >= lo`.
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(hi >= lo, "bound: hi < lo");
        uint256 size = hi - lo;
        if (size == type(uint256).max) return x;
        return lo + (x % (size + 1));
    }

    /// @dev A fixed address named by `label`, the same in every run.
    function addr(string memory label) internal pure returns (address) {
        return address(uint160(uint256(keccak256(bytes(label)))));
    }

    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}

/// @notice Base of a forge test contract: forge runs `setUp()` and then each `test*` function
///         (fuzzing its arguments when it has any) and, for `invariant*` functions, random call
///         sequences against the target contracts, checking the invariants after every call.
abstract contract Test is TestBase {
    /// @dev What forge reads from `targetSelectors()`: which functions of `addr` to call.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;

    /// @dev Restricts the invariant fuzzer to `target` (typically a handler); without any
    ///      target, forge calls every contract deployed in `setUp()`.
    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    /// @dev Restricts the calls to `target` to `selectors`.
    function targetSelector(address target, bytes4[] memory selectors) internal {
        _targetSelectors.push(FuzzSelector(target, selectors));
    }

    /// @dev Read by forge before an invariant campaign.
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    /// @dev Read by forge before an invariant campaign.
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }
}
