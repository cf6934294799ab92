// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface ICreditsForAttack {
    function buy(uint256 id, uint256 amount, address to) external returns (uint256);
    function requestRedemption(uint256 id, uint256 amount) external;
    function cancelRedemption(uint256 id) external;
    function withdrawPayout(uint256 id, address to) external returns (uint256);
}

/// @notice An ERC-1155 receiver that tries to re-enter EnergyCredits from its hook.
contract MockReentrantReceiver {
    enum Attack {
        None,
        Buy,
        Withdraw,
        Cancel
    }

    ICreditsForAttack public immutable credits;
    Attack public attack;
    bool public reentered;
    bool public reentrySucceeded;

    constructor(ICreditsForAttack credits_) {
        credits = credits_;
    }

    function setAttack(Attack attack_) external {
        attack = attack_;
    }

    function approve(IERC20 token, uint256 amount) external {
        token.approve(address(credits), amount);
    }

    function buy(uint256 id, uint256 amount) external {
        credits.buy(id, amount, address(this));
    }

    function requestRedemption(uint256 id, uint256 amount) external {
        credits.requestRedemption(id, amount);
    }

    function cancelRedemption(uint256 id) external {
        credits.cancelRedemption(id);
    }

    function onERC1155Received(address, address, uint256 id, uint256 value, bytes calldata) external returns (bytes4) {
        if (attack != Attack.None && !reentered) {
            reentered = true;
            bool ok;
            if (attack == Attack.Buy) {
                (ok,) = address(credits).call(abi.encodeCall(ICreditsForAttack.buy, (id, value, address(this))));
            } else if (attack == Attack.Withdraw) {
                (ok,) = address(credits).call(abi.encodeCall(ICreditsForAttack.withdrawPayout, (id, address(this))));
            } else {
                (ok,) = address(credits).call(abi.encodeCall(ICreditsForAttack.cancelRedemption, (id)));
            }
            reentrySucceeded = ok;
        }
        return this.onERC1155Received.selector;
    }
}
