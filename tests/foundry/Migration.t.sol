// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InvariantBase} from "./utils/Vm.sol";
import {Protocol} from "./utils/Protocol.sol";
import {SettlementHandler} from "./Settlement.invariants.t.sol";
import {EnergyCredits} from "../../contracts/tokens/EnergyCredits.sol";
import {MockStablecoin} from "../../contracts/test/MockStablecoin.sol";

/// @notice Rehearses docs/upgrades.md: a v2 ledger takes over from v1 while every driver's
///         credits and every owed payout stay whole. Governance closes v1's sales and lists the
///         same stablecoin on v2; sessions already under way still settle on v1 (from a pending
///         redemption too); drivers redeem on v1 and buy on v2; payees withdraw from v1; the
///         oracle's role on v1 is revoked; v1 ends holding nothing.
contract MigrationRehearsal is InvariantBase {
    function test_migration__credits_and_payouts_stay_whole() public {
        vm.warp(1_700_000_000);
        Protocol v1 = new Protocol();
        SettlementHandler h = new SettlementHandler(v1);
        EnergyCredits c1 = v1.credits();
        MockStablecoin usdc = v1.usdc();
        uint256 id = v1.usdcId();
        v1.act(address(c1), abi.encodeWithSignature("grantRole(bytes32,address)", keccak256("ORACLE_ROLE"), address(h)));
        vm.warp(block.timestamp + 2 hours);
        h.settle(0, 0, 5_000, 600 | (60 << 16), 1, false);
        h.settle(1, 1, 9_000, 1_800 | (10 << 16), 2, false);
        require(h.settledCount() == 2, "setup: sessions did not settle");

        // v2 beside v1, with the same stablecoin listed (the deploy script, then governance).
        Protocol v2 = new Protocol();
        EnergyCredits c2 = v2.credits();
        (bool ok,) = v2.act(address(c2), abi.encodeWithSignature("listCredit(address)", address(usdc)));
        require(ok, "list on v2");
        uint256 id2 = c2.idOfToken(address(usdc));

        // Step 1 (governance): v1 sells no more credits.
        (ok,) = v1.act(address(c1), abi.encodeCall(EnergyCredits.setSalesOpen, (id, false)));
        require(ok, "close v1 sales");
        vm.prank(h.drivers(2));
        try c1.buy(id, 1e6, h.drivers(2)) { revert("v1 still sells"); } catch {}

        // Step 2 (drivers): request redemption of everything on v1.
        for (uint256 i; i < 3; ++i) {
            address d = h.drivers(i);
            h.requestRedemption(i, h.ghostBalance(d) - 1); // 1 + (balance - 1) % balance = balance
            require(c1.balanceOf(d, id) == 0, "balance left after requesting all");
        }
        // A session that ended before the requests still settles on v1, from the pending amount.
        h.settle(0, 2, 4_000, 900 | (0 << 16), 0, false);
        require(h.settledCount() == 3, "a session under way did not settle during the migration");

        // Step 3: after the redemption delay, drivers take their stablecoin and buy on v2.
        vm.warp(block.timestamp + c1.timing().redemptionDelay);
        for (uint256 i; i < 3; ++i) {
            address d = h.drivers(i);
            uint256 pending = h.ghostPending(d);
            uint256 before = usdc.balanceOf(d);
            h.completeRedemption(i);
            require(usdc.balanceOf(d) == before + pending, "redemption not paid in full");
            vm.startPrank(d);
            usdc.approve(address(c2), pending);
            c2.setMandate(id2, 1e11, 4e13);
            c2.buy(id2, pending, d);
            vm.stopPrank();
            require(c2.balanceOf(d, id2) == pending, "v2 credits != v1 credits left");
        }

        // Step 4: payees withdraw what v1 owes; the oracle's v1 role is revoked.
        uint256 owedTotal = c1.totalOwed(id);
        require(owedTotal > 0, "setup: nothing owed");
        for (uint256 k; k < 3; ++k) h.withdraw(k);
        require(h.ghostWithdrawn(h.OPERATOR()) + h.ghostWithdrawn(h.TREASURY()) + h.ghostWithdrawn(address(0xD001))
            == owedTotal, "payouts not whole");
        v1.act(address(c1), abi.encodeWithSignature("revokeRole(bytes32,address)", keccak256("ORACLE_ROLE"), address(h)));
        try h.settle(1, 0, 1_000, 900, 0, false) { revert("v1 settled after the oracle's role was revoked"); } catch {}

        // v1 ends empty: nothing held, nothing owed, no credits outstanding.
        require(usdc.balanceOf(address(c1)) == 0, "v1 still holds stablecoin");
        require(c1.totalSupply(id) + c1.totalPendingRedemptions(id) + c1.totalOwed(id) == 0, "v1 liabilities left");
        require(usdc.balanceOf(address(c2)) == c2.totalSupply(id2), "v2 escrow != v2 credits");
    }
}
