// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice A malicious test token: during `transferFrom` it calls back into a target contract
///         (the ledger) with prepared calldata, to prove the ledger's reentrancy guard holds.
///         The callback's revert is bubbled up so tests can see which error stopped it.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public callback;
    bool private _armed;

    constructor() ERC20("Reentrant", "REENT") {}

    /// @notice Mints to anyone (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the callback made on the next `transferFrom`.
    function arm(address target_, bytes calldata callback_) external {
        target = target_;
        callback = callback_;
        _armed = true;
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (_armed) {
            _armed = false;
            (bool ok, bytes memory ret) = target.call(callback);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
        return super.transferFrom(from, to, value);
    }
}
