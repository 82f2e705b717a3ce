// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TestStablecoin} from "./TestStablecoin.sol";

/// @title BlocklistStablecoin
/// @notice A test stablecoin with an issuer's blocklist and pause, as USDC and USDT have: a
///         blocked address can neither send nor receive, and nothing moves while paused.
contract BlocklistStablecoin is TestStablecoin {
    /// @notice A transfer from or to a blocked address, or while paused.
    error TransferBlocked(address from, address to);

    mapping(address account => bool) public blocked;
    bool public paused;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_)
        TestStablecoin(name_, symbol_, decimals_, owner_)
    {}

    /// @notice Blocks or unblocks `account` (owner only).
    function setBlocked(address account, bool isBlocked) external onlyOwner {
        blocked[account] = isBlocked;
    }

    /// @notice Pauses or resumes every transfer (owner only).
    function setPaused(bool isPaused) external onlyOwner {
        paused = isPaused;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (paused || blocked[from] || blocked[to]) revert TransferBlocked(from, to);
        super._update(from, to, value);
    }
}
