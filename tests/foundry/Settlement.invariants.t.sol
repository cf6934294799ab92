// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "./utils/Vm.sol";
import {IDriverGhost, LedgerChecks} from "./utils/LedgerChecks.sol";
import {Protocol} from "./utils/Protocol.sol";
import {EnergyCredits} from "../../contracts/tokens/EnergyCredits.sol";
import {MockStablecoin} from "../../contracts/test/MockStablecoin.sol";
import {WattToken} from "../../contracts/tokens/WattToken.sol";
import {RewardsEngine} from "../../contracts/rewards/RewardsEngine.sol";
import {StationRegistry} from "../../contracts/registry/StationRegistry.sol";
import {IStationRegistry} from "../../contracts/interfaces/IStationRegistry.sol";
import {ReceiptLib} from "../../contracts/libraries/ReceiptLib.sol";

/// @notice Every actor of settlement: the oracle settles fresh receipts, replays settled ones
///         and sends batches with a receipt twice; drivers buy, redeem and cancel; payees
///         (operator, treasury, referrer) withdraw; the operator claims WATT rewards; time
///         jumps. Ghost totals as in tests/contracts/invariants/test_settlement_invariants.py.
contract SettlementHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant TARIFF = 300_000; // 0.30 USDC per kWh
    uint32 internal constant POWER_W = 22_000;
    address public constant OPERATOR = address(0x0B0B);
    address public constant TREASURY = address(0x7EA5);

    Protocol public immutable p;
    EnergyCredits public immutable credits;
    MockStablecoin public immutable usdc;
    uint256 public immutable id;
    uint256 public immutable registeredAt;

    address[3] public drivers;
    bytes32[2] public stations;
    uint256[2] internal keys;
    uint64[2] public nextSession;

    mapping(address => uint256) public ghostBalance;
    mapping(address => uint256) public ghostPending;
    mapping(address => uint256) public ghostOwed;
    mapping(address => uint256) public ghostWithdrawn;
    mapping(bytes32 => mapping(uint64 => bool)) public ghostSettled;
    ReceiptLib.SignedReceipt[] internal settledReceipts;
    uint256 public settledCount;
    uint256 public replaysRefused;
    uint256 public ghostMinted;

    constructor(Protocol protocol) {
        p = protocol;
        credits = protocol.credits();
        usdc = protocol.usdc();
        id = protocol.usdcId();
        WattToken watt = protocol.watt();
        vm.prank(TREASURY);
        watt.transfer(OPERATOR, 10_000e18);
        vm.startPrank(OPERATOR);
        watt.approve(address(protocol.staking()), type(uint256).max);
        protocol.staking().stake(10_000e18);
        vm.stopPrank();
        for (uint256 i; i < 2; ++i) {
            keys[i] = 0x5171 + i;
            stations[i] = keccak256(abi.encode("station", i));
            _register(protocol.registry(), stations[i], keys[i]);
        }
        registeredAt = block.timestamp;
        for (uint256 i; i < 3; ++i) {
            address d = address(uint160(0xD000 + i));
            drivers[i] = d;
            usdc.mint(d, 1e15);
            vm.startPrank(d);
            usdc.approve(address(credits), type(uint256).max);
            credits.setMandate(id, 1e11, 4e13);
            credits.setConsent(id, OPERATOR, true);
            if (i == 0) credits.setReferrer(address(0xD001));
            credits.buy(id, 1e9, d);
            vm.stopPrank();
            ghostBalance[d] = 1e9;
        }
    }

    function _register(StationRegistry registry, bytes32 stationId, uint256 key) internal {
        bytes32 domain = keccak256(abi.encode(
            keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
            keccak256("WattNet StationRegistry"), keccak256("1"), block.chainid, address(registry)));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", domain, keccak256(abi.encode(
            keccak256("SignerBinding(bytes32 stationId,address operator)"), stationId, OPERATOR))));
        (bytes32 r, bytes32 vs) = _sign(key, digest);
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        uint96[] memory tariffs = new uint96[](1);
        tariffs[0] = uint96(TARIFF);
        vm.prank(OPERATOR);
        registry.registerStation(IStationRegistry.StationParams(
            stationId, vm.addr(key), POWER_W, 2, bytes8("u09tvw0"), "", "", ids, tariffs), r, vs);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes32 r, bytes32 vs) {
        (uint8 v, bytes32 r_, bytes32 s) = vm.sign(key, digest);
        r = r_;
        vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
    }

    function _receipt(uint256 st, address driver, uint256 energySeed, uint256 timeSeed, address referrer,
                      bool readings) internal returns (ReceiptLib.SignedReceipt memory sr, bool ok) {
        uint256 duration = 60 + timeSeed % 3540;
        uint256 end = block.timestamp - (timeSeed >> 16) % 1800;
        if (end < duration || end - duration < registeredAt) return (sr, false);
        uint256 energy = 1 + energySeed % (uint256(POWER_W) * duration / 3600);
        ReceiptLib.SessionReceipt memory rc = ReceiptLib.SessionReceipt({
            stationId: stations[st], sessionId: nextSession[st]++, connectorId: 1, driver: driver, creditId: id,
            energyWh: uint32(energy), startTime: uint40(end - duration), endTime: uint40(end),
            cost: uint128(energy * TARIFF / 1000), referrer: referrer,
            readings: readings ? keccak256(abi.encode(energySeed)) : bytes32(0)
        });
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", credits.domainSeparator(), keccak256(abi.encode(
            ReceiptLib.TYPEHASH, rc.stationId, rc.sessionId, rc.connectorId, rc.driver, rc.creditId, rc.energyWh,
            rc.startTime, rc.endTime, rc.cost, rc.referrer, rc.readings))));
        (bytes32 r, bytes32 vs) = _sign(keys[st], digest);
        return (ReceiptLib.SignedReceipt(rc, r, vs), true);
    }

    /// @dev `batch` in ReceiptLib's packed encoding (settlePacked), one group per receipt.
    function _pack(ReceiptLib.SignedReceipt[] memory batch) internal pure returns (bytes memory out) {
        for (uint256 i; i < batch.length; ++i) {
            ReceiptLib.SessionReceipt memory rc = batch[i].receipt;
            uint8 flags = (rc.referrer != address(0) ? 1 : 0) | (rc.readings != bytes32(0) ? 2 : 0);
            out = bytes.concat(out, abi.encodePacked(rc.stationId, uint16(1), flags, rc.sessionId, rc.connectorId,
                rc.driver, uint32(rc.creditId), rc.energyWh, rc.startTime, rc.endTime, rc.cost));
            out = bytes.concat(out, abi.encodePacked(batch[i].r, batch[i].vs));
            if (rc.referrer != address(0)) out = bytes.concat(out, abi.encodePacked(rc.referrer));
            if (rc.readings != bytes32(0)) out = bytes.concat(out, abi.encodePacked(rc.readings));
        }
    }

    /// @dev What settlement must do with a fresh, valid receipt: charge the balance, then the
    ///      pending redemption; refuse when both together fall short.
    function _expectCharge(ReceiptLib.SessionReceipt memory rc) internal {
        address d = rc.driver;
        uint256 cost = rc.cost;
        if (ghostBalance[d] >= cost) {
            ghostBalance[d] -= cost;
        } else {
            ghostPending[d] -= cost - ghostBalance[d];
            ghostBalance[d] = 0;
        }
        uint256 toOperator = cost * 8000 / 10_000;
        uint256 toReferrer = rc.referrer == credits.referrerOf(d) && rc.referrer != address(0) ? cost * 500 / 10_000 : 0;
        ghostOwed[OPERATOR] += toOperator;
        ghostOwed[rc.referrer] += toReferrer;
        ghostOwed[TREASURY] += cost - toOperator - toReferrer;
        ghostSettled[rc.stationId][rc.sessionId] = true;
        settledCount++;
    }

    function settle(uint256 st, uint256 who, uint256 energySeed, uint256 timeSeed, uint8 flags, bool twice) external {
        address d = drivers[who % 3];
        address referrer = flags % 3 == 0 ? address(0) : flags % 3 == 1 ? address(0xD001) : address(0xBAD);
        (ReceiptLib.SignedReceipt memory sr, bool ok) = _receipt(st % 2, d, energySeed, timeSeed, referrer, flags > 127);
        if (!ok) return;
        ReceiptLib.SignedReceipt[] memory batch = new ReceiptLib.SignedReceipt[](twice ? 2 : 1);
        batch[0] = sr;
        if (twice) batch[1] = sr;
        bool affordable = ghostBalance[d] + ghostPending[d] >= sr.receipt.cost;
        if (credits.paused()) {
            try credits.settlePacked(_pack(batch)) { revert("settled while paused"); } catch {}
            nextSession[st % 2]--; // the id was not used
            return;
        }
        uint256 n = credits.settlePacked(_pack(batch));
        require(n == (affordable ? 1 : 0), "a fresh receipt settled other than exactly once");
        if (affordable) {
            _expectCharge(sr.receipt);
            settledReceipts.push(sr);
        }
    }

    function replay(uint256 k) external {
        if (settledReceipts.length == 0 || credits.paused()) return;
        ReceiptLib.SignedReceipt[] memory batch = new ReceiptLib.SignedReceipt[](1);
        batch[0] = settledReceipts[k % settledReceipts.length];
        require(credits.settlePacked(_pack(batch)) == 0, "a settled receipt settled again");
        replaysRefused++;
    }

    function buy(uint256 who, uint256 amount) external {
        address d = drivers[who % 3];
        amount = 1 + amount % 1e9;
        if (credits.paused()) return;
        vm.prank(d);
        credits.buy(id, amount, d);
        ghostBalance[d] += amount;
    }

    function requestRedemption(uint256 who, uint256 amount) external {
        address d = drivers[who % 3];
        if (ghostBalance[d] == 0) return;
        amount = 1 + amount % ghostBalance[d];
        vm.prank(d);
        credits.requestRedemption(id, amount);
        ghostBalance[d] -= amount;
        ghostPending[d] += amount;
    }

    function cancelRedemption(uint256 who) external {
        address d = drivers[who % 3];
        if (ghostPending[d] == 0) return;
        vm.prank(d);
        credits.cancelRedemption(id);
        ghostBalance[d] += ghostPending[d];
        ghostPending[d] = 0;
    }

    function completeRedemption(uint256 who) external {
        address d = drivers[who % 3];
        vm.prank(d);
        try credits.completeRedemption(id) returns (uint256 paid) {
            require(paid == ghostPending[d], "redeemed a different amount");
            ghostPending[d] = 0;
        } catch {}
    }

    function withdraw(uint256 which) external {
        address payee = which % 3 == 0 ? OPERATOR : which % 3 == 1 ? TREASURY : address(0xD001);
        uint256 before = usdc.balanceOf(payee);
        vm.prank(payee);
        try credits.withdrawPayout(id, payee) returns (uint256 amount) {
            require(amount == ghostOwed[payee] && amount > 0, "withdrew other than what was owed");
            require(usdc.balanceOf(payee) == before + amount, "payee not paid what it withdrew");
            ghostWithdrawn[payee] += amount;
            ghostOwed[payee] = 0;
        } catch {
            require(ghostOwed[payee] == 0, "a payee owed something could not withdraw");
        }
    }

    function claim(uint256 epochSeed) external {
        RewardsEngine rewards = p.rewards();
        uint256 current = rewards.currentEpoch();
        if (current == 0) return;
        uint256[] memory epochs = new uint256[](1);
        epochs[0] = epochSeed % current;
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = stations[0];
        ids[1] = stations[1];
        vm.prank(OPERATOR);
        try rewards.claim(epochs, ids) returns (uint256 amount) {
            ghostMinted += amount;
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + 1 + seconds_ % 2 days);
    }

    function pause(bool on) external {
        if (on) {
            try credits.pause() {} catch {}
        } else {
            p.act(address(credits), abi.encodeCall(EnergyCredits.unpause, ()));
        }
    }

    function settledAt(uint256 i) external view returns (bytes32, uint64) {
        ReceiptLib.SessionReceipt memory rc = settledReceipts[i].receipt;
        return (rc.stationId, rc.sessionId);
    }
}

contract SettlementInvariants is LedgerChecks {
    Protocol internal p;
    SettlementHandler internal h;

    function setUp() public {
        vm.warp(1_700_000_000);
        p = new Protocol(WattToken(address(0)));
        // Uncertified stations earn rewards (at most 20 %), so the claim path mints WATT.
        (bool ok,) = p.act(address(p.registry()), abi.encodeWithSignature("setUncertifiedRewardBps(uint256)", 2000));
        require(ok, "setUncertifiedRewardBps");
        h = new SettlementHandler(p);
        EnergyCredits c = p.credits();
        p.act(address(c), abi.encodeWithSignature("grantRole(bytes32,address)", keccak256("ORACLE_ROLE"), address(h)));
        p.act(address(c), abi.encodeWithSignature("grantRole(bytes32,address)", keccak256("PAUSER_ROLE"), address(h)));
        vm.warp(block.timestamp + 2 hours);
        _target(address(h));
    }

    /// The handler is not vacuous: fresh receipts settle once (also twice in one batch), replays
    /// are refused, payees withdraw, and the operator's claim mints WATT after the epoch closes.
    function test_handlerReachesEveryPath() public {
        h.settle(0, 0, 5_000, 600 | (60 << 16), 200, false);
        h.settle(1, 1, 7_000, 1_200 | (5 << 16), 129, true);
        require(h.settledCount() == 2, "fresh receipts did not settle");
        h.replay(0);
        h.replay(1);
        require(h.replaysRefused() == 2, "replays not refused");
        h.withdraw(0);
        require(h.ghostWithdrawn(h.OPERATOR()) > 0, "operator withdrew nothing");
        vm.warp(block.timestamp + 9 days);
        h.claim(0);
        require(h.ghostMinted() > 0, "no WATT for the first epoch");
        invariant_exactlyOnce();
        invariant_pullPaymentsMatchGhost();
        invariant_wattWithinEmissionSchedule();
    }

    /// Escrow solvency with settlement: held == unspent + pending + owed, to the smallest unit.
    function invariant_escrowEqualsLiabilities() public view {
        _checkEscrow(p);
    }

    /// Credits supply equals the drivers' ghost balances; every driver matches its ghost.
    function invariant_creditsMatchGhost() public view {
        _checkDrivers(p, IDriverGhost(address(h)));
    }

    /// Pull payments: what each payee is owed is the ghost split of the sessions it was paid
    /// for, less what it withdrew; nobody else is owed anything.
    function invariant_pullPaymentsMatchGhost() public view {
        EnergyCredits c = p.credits();
        uint256 id = p.usdcId();
        address[3] memory payees = [h.OPERATOR(), h.TREASURY(), address(0xD001)];
        uint256 sum;
        for (uint256 i; i < 3; ++i) {
            require(c.owed(payees[i], id) == h.ghostOwed(payees[i]), "owed != ghost");
            sum += h.ghostOwed(payees[i]);
        }
        require(c.owed(address(0xBAD), id) == 0, "a referrer the driver did not choose was paid");
        require(c.totalOwed(id) == sum, "totalOwed != sum of payees");
    }

    /// Exactly-once: every session the ghost settled is marked settled, and the next unused
    /// session id of each station is not.
    function invariant_exactlyOnce() public view {
        EnergyCredits c = p.credits();
        for (uint256 i; i < h.settledCount(); ++i) {
            (bytes32 st, uint64 sid) = h.settledAt(i);
            require(c.isSettled(st, sid), "a settled session is not marked");
        }
        for (uint256 s; s < 2; ++s) {
            require(!c.isSettled(h.stations(s), h.nextSession(s)), "an unused session id is marked");
        }
    }

    /// WATT: supply never above genesis plus the emission of the closed epochs, nor the cap.
    function invariant_wattWithinEmissionSchedule() public view {
        RewardsEngine r = p.rewards();
        uint256 scheduled;
        uint256 current = r.currentEpoch();
        for (uint256 e; e < current; ++e) {
            scheduled += r.emissionOf(e);
        }
        require(r.totalMinted() == h.ghostMinted(), "minted != ghost");
        require(r.totalMinted() <= scheduled, "minted beyond the schedule");
        require(p.watt().totalSupply() == 2e26 + h.ghostMinted(), "WATT supply != genesis + minted");
        require(p.watt().totalSupply() <= p.watt().cap(), "WATT above cap");
    }
}
