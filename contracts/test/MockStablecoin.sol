// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @notice Test stablecoin: 6 decimals, EIP-2612 permit, free minting, and a blocklist (as
///         USDC has) so tests can show one blocked payee never blocks another.
contract MockStablecoin is ERC20, ERC20Permit {
    uint8 internal immutable _decimals;
    mapping(address => bool) public blocked;

    error MockBlocked(address account);

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) ERC20Permit(name_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[from]) revert MockBlocked(from);
        if (blocked[to]) revert MockBlocked(to);
        super._update(from, to, value);
    }
}
