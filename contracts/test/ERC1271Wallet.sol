// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ERC1271Wallet
/// @notice A minimal contract wallet for tests: it accepts a signature when its owner (an EOA)
///         signed the hash itself, and lets the owner call other contracts through it (so it
///         can, for example, revoke an attestation it issued).
contract ERC1271Wallet is IERC1271 {
    error NotOwner(address caller, address owner);
    error CallFailed(address target, bytes returnData);

    /// @notice The wallet called `target`.
    event Executed(address indexed target, bytes data);

    address private immutable _owner;

    constructor(address owner_) {
        _owner = owner_;
    }

    /// @notice ERC-1271: the magic value when `owner()` signed `hash` (raw, no prefix).
    function isValidSignature(bytes32 hash, bytes calldata signature)
        external
        view
        returns (bytes4)
    {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && signer == _owner) {
            return IERC1271.isValidSignature.selector;
        }
        return 0xffffffff;
    }

    /// @notice Calls `target` with `data` from the wallet.
    /// @dev Owner only. Emits {Executed}; bubbles up failures as {CallFailed}.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != _owner) revert NotOwner(msg.sender, _owner);
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) revert CallFailed(target, result);
        emit Executed(target, data);
    }

    /// @notice The EOA that signs for this wallet.
    function owner() external view returns (address) {
        return _owner;
    }
}
