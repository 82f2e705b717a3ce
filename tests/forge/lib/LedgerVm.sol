// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The cheatcodes the ledger's invariant suite needs beyond tests/forge/lib/Test.sol's
///         (signatures as in Foundry 1.x's cheatcode reference). Same address as `Vm`.
interface LedgerVm {
    /// @dev A log recorded between `recordLogs()` and `getRecordedLogs()`.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    /// @dev Starts recording every log emitted; `getRecordedLogs` returns and clears them.
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);

    /// @dev secp256k1 signature of `digest` by `privateKey`, and the key's address.
    function sign(uint256 privateKey, bytes32 digest)
        external
        pure
        returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address keyAddr);

    /// @dev EVM state snapshots (Foundry 1.x names).
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
    function revertToStateAndDelete(uint256 snapshotId) external returns (bool success);
}

/// @dev The cheatcode address (keccak256("hevm cheat code")).
LedgerVm constant LVM = LedgerVm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

/// @dev secp256k1's group order: private keys are 1 .. N - 1.
uint256 constant SECP256K1_N =
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
