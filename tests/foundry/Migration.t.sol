// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InvariantBase} from "./utils/Vm.sol";
import {Protocol} from "./utils/Protocol.sol";
import {WattToken} from "../../contracts/tokens/WattToken.sol";
import {SettlementHandler} from "./Settlement.invariants.t.sol";
import {EnergyCredits} from "../../contracts/tokens/EnergyCredits.sol";
import {MockStablecoin} from "../../contracts/test/MockStablecoin.sol";
import {OperatorStaking} from "../../contracts/staking/OperatorStaking.sol";
import {RewardsEngine} from "../../contracts/rewards/RewardsEngine.sol";
import {StationRegistry} from "../../contracts/registry/StationRegistry.sol";
import {IStationRegistry} from "../../contracts/interfaces/IStationRegistry.sol";
import {IOperatorStaking} from "../../contracts/interfaces/IOperatorStaking.sol";
import {IRewardsEngine} from "../../contracts/interfaces/IRewardsEngine.sol";

/// @notice Rehearses docs/upgrades.md: a v2 ledger takes over from v1 while every driver's
///         credits and every owed payout stay whole. Governance closes v1's sales and lists the
///         same stablecoin on v2; sessions already under way still settle on v1 (from a pending
///         redemption too); drivers redeem on v1 and buy on v2; payees withdraw from v1; the
///         oracle's role on v1 is revoked; v1 ends holding nothing.
contract MigrationRehearsal is InvariantBase {
    function test_migration__credits_and_payouts_stay_whole() public {
        vm.warp(1_700_000_000);
        Protocol v1 = new Protocol(WattToken(address(0)));
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
        Protocol v2 = new Protocol(WattToken(address(0)));
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

    /// @notice docs/upgrades.md steps 6 and 7: a v2 beside v1 sharing WATT. Governance hands the
    ///         emission over (v1 emits nothing from the next epoch; v2 may mint); the operator
    ///         deactivates its stations on v1, unbonds and withdraws its whole stake, stakes on v2
    ///         and registers the same stations (same ids, signer keys, power, place) with proofs
    ///         bound to v2's registry; rewards escrowed on v1 for the epoch before the hand-over
    ///         are claimed on v1, whole; v2's stations settle and earn on v2; v1's minter role is
    ///         revoked after its last claim. WATT supply = genesis + both engines' mints.
    function test_migration__stakes_stations_and_rewards_move_whole() public {
        vm.warp(1_700_000_000);
        Protocol v1 = new Protocol(WattToken(address(0)));
        WattToken watt = v1.watt();
        _earnUncertified(v1);
        SettlementHandler h = new SettlementHandler(v1);
        v1.act(address(v1.credits()), abi.encodeWithSignature("grantRole(bytes32,address)", keccak256("ORACLE_ROLE"), address(h)));
        vm.warp(block.timestamp + 2 hours);
        // flags 128: receipts committing to signed readings earn reward weight
        h.settle(0, 0, 5_000, 600 | (60 << 16), 128, false);
        h.settle(1, 1, 9_000, 1_800 | (10 << 16), 128, false);
        require(h.settledCount() == 2, "setup: sessions did not settle on v1");
        address op = h.OPERATOR();
        OperatorStaking s1 = v1.staking();
        StationRegistry r1 = v1.registry();
        RewardsEngine w1 = v1.rewards();
        uint256 staked = s1.stakeOf(op).active;
        require(staked == 10_000e18 && s1.stakeOf(op).bondedStations == 2, "setup: stake");

        // v2 beside v1 on the same WATT (the deploy script, then governance's grant).
        Protocol v2 = new Protocol(watt);
        _earnUncertified(v2);
        RewardsEngine w2 = v2.rewards();
        require(w2.maxEmission() == watt.cap() - watt.totalSupply(), "v2 may emit only what the cap leaves");

        // Step 7 (governance): v1 emits nothing from the next epoch on; v2 rewards may mint.
        uint256 handOver = w1.currentEpoch() + 1;
        uint256 emitted0 = w1.emissionOf(0);
        (bool ok,) = v1.act(address(w1), abi.encodeCall(RewardsEngine.setSchedule, (handOver, new IRewardsEngine.Phase[](0))));
        require(ok, "v1 setSchedule");
        (ok,) = v1.act(address(watt), abi.encodeWithSignature("grantRole(bytes32,address)", watt.MINTER_ROLE(), address(w2)));
        require(ok, "MINTER_ROLE to v2 rewards");
        require(w1.emissionOf(0) == emitted0 && emitted0 > 0, "the hand-over changed an epoch before it");
        require(w1.emissionOf(handOver) == 0 && w1.emissionOf(handOver + 50) == 0, "v1 still emits after the hand-over");

        // Step 6 (operator): stations off on v1, the whole stake unbonded and withdrawn.
        vm.startPrank(op);
        for (uint256 i; i < 2; ++i) r1.deactivateStation(h.stations(i));
        require(s1.stakeOf(op).bondedStations == 0, "deactivated stations still bonded");
        s1.requestUnbond(staked);
        vm.stopPrank();
        vm.warp(block.timestamp + s1.unbondingDelay());
        uint256 before = watt.balanceOf(op);
        vm.prank(op);
        s1.withdraw();
        require(watt.balanceOf(op) == before + staked, "stake not returned whole");
        require(s1.totalStaked() == 0 && watt.balanceOf(address(s1)) == 0, "v1 staking still holds WATT");

        // ... staked again on v2 (the handler stakes 10,000 WATT), the same stations registered
        // with new proofs of possession bound to v2's registry.
        SettlementHandler h2 = new SettlementHandler(v2);
        require(v2.staking().stakeOf(op).active == staked && v2.staking().stakeOf(op).bondedStations == 2, "v2 stake");
        for (uint256 i; i < 2; ++i) {
            bytes32 st = h.stations(i);
            require(h2.stations(i) == st, "not the same station ids");
            IStationRegistry.Station memory a = r1.getStation(st);
            IStationRegistry.Station memory b = v2.registry().getStation(st);
            require(!a.active && b.active, "v1 station active or v2 station inactive");
            require(b.operator == a.operator && b.signer == a.signer && b.ratedPowerW == a.ratedPowerW
                && b.geohash == a.geohash && b.connectorCount == a.connectorCount, "station not moved whole");
        }
        v2.act(address(v2.credits()), abi.encodeWithSignature("grantRole(bytes32,address)", keccak256("ORACLE_ROLE"), address(h2)));
        vm.warp(block.timestamp + 2 hours);
        h2.settle(0, 0, 6_000, 900 | (30 << 16), 128, false);
        require(h2.settledCount() == 1, "the moved station does not settle on v2");

        // Rewards escrowed on v1 (epoch 0) are claimed on v1, whole; v2 pays its own epoch 0.
        vm.warp(w1.claimableAt(0) > w2.claimableAt(0) ? w1.claimableAt(0) : w2.claimableAt(0));
        uint256 owed1 = w1.claimable(h.stations(0), 0) + w1.claimable(h.stations(1), 0);
        require(owed1 > 0, "setup: v1 owes no rewards");
        h.claim(0);
        require(h.ghostMinted() == owed1, "v1 rewards not paid whole");
        require(w1.claimable(h.stations(0), handOver) == 0, "v1 pays for an epoch after the hand-over");
        h2.claim(0);
        require(h2.ghostMinted() > 0, "v2 rewards did not mint");
        (ok,) = v1.act(address(watt), abi.encodeWithSignature("revokeRole(bytes32,address)", watt.MINTER_ROLE(), address(w1)));
        require(ok && !watt.hasRole(watt.MINTER_ROLE(), address(w1)), "v1 minter not revoked");
        require(watt.totalSupply() == 2e26 + h.ghostMinted() + h2.ghostMinted(), "WATT supply != genesis + mints");
    }

    function _earnUncertified(Protocol p) internal {
        (bool ok,) = p.act(address(p.registry()), abi.encodeWithSignature("setUncertifiedRewardBps(uint256)", 2000));
        require(ok, "setUncertifiedRewardBps");
    }
}
