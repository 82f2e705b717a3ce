// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title TestStablecoin
/// @notice A stablecoin for local chains: configurable decimals (6 like USDC by default in the
///         deploy scripts, 18 like DAI), minted by its owner.
contract TestStablecoin is ERC20, Ownable {
    uint8 private immutable _decimals;

    /// @param decimals_ number of decimals of the token's smallest unit
    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {
        _decimals = decimals_;
    }

    /// @notice Mints `amount` smallest units to `to`.
    /// @dev Owner only. Emits {Transfer}.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Decimals of the token's smallest unit.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
