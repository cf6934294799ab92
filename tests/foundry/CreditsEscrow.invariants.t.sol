// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "./utils/Vm.sol";
import {IDriverGhost, LedgerChecks} from "./utils/LedgerChecks.sol";
import {Protocol} from "./utils/Protocol.sol";
import {WattToken} from "../../contracts/tokens/WattToken.sol";
import {EnergyCredits} from "../../contracts/tokens/EnergyCredits.sol";
import {MockStablecoin} from "../../contracts/test/MockStablecoin.sol";

/// @notice Drivers buy, request, cancel and complete redemptions while the guardian pauses and
///         governance unpauses, time jumping between calls. Ghost totals kept here (as the
///         hypothesis machine tests/contracts/invariants/test_credits_invariants.py keeps them in
///         Python): every driver's balance, pending redemption and wallet.
contract CreditsHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant FUNDS = 1e15;

    Protocol public immutable p;
    EnergyCredits public immutable credits;
    MockStablecoin public immutable usdc;
    uint256 public immutable id;
    address public constant GUARDIAN = address(0x6A4D);

    address[3] public drivers;
    mapping(address => uint256) public ghostBalance;
    mapping(address => uint256) public ghostPending;
    mapping(address => uint256) public ghostWallet;
    uint256 public calls;
    uint256 public refusals;

    constructor(Protocol protocol) {
        p = protocol;
        credits = protocol.credits();
        usdc = protocol.usdc();
        id = protocol.usdcId();
        for (uint256 i; i < 3; ++i) {
            address d = address(uint160(0xD000 + i));
            drivers[i] = d;
            usdc.mint(d, FUNDS);
            ghostWallet[d] = FUNDS;
            vm.prank(d);
            usdc.approve(address(credits), type(uint256).max);
        }
    }

    function buy(uint256 who, uint256 amount, uint256 to) external {
        address d = drivers[who % 3];
        address target = drivers[to % 3];
        amount = 1 + amount % 5e8;
        calls++;
        vm.prank(d);
        try credits.buy(id, amount, target) returns (uint256 credited) {
            require(credited == amount, "buy: credited != paid");
            ghostWallet[d] -= amount;
            ghostBalance[target] += amount;
        } catch {
            require(credits.paused(), "buy refused while not paused");
            refusals++;
        }
    }

    function requestRedemption(uint256 who, uint256 amount) external {
        address d = drivers[who % 3];
        if (ghostBalance[d] == 0) return;
        amount = 1 + amount % ghostBalance[d];
        calls++;
        vm.prank(d);
        credits.requestRedemption(id, amount); // never refused: the amount is held
        ghostBalance[d] -= amount;
        ghostPending[d] += amount;
    }

    function requestTooMuch(uint256 who, uint256 extra) external {
        address d = drivers[who % 3];
        calls++;
        vm.prank(d);
        try credits.requestRedemption(id, ghostBalance[d] + 1 + extra % 1e9) {
            revert("a redemption above the balance was accepted");
        } catch {
            refusals++;
        }
    }

    function cancelRedemption(uint256 who) external {
        address d = drivers[who % 3];
        calls++;
        vm.prank(d);
        try credits.cancelRedemption(id) {
            require(ghostPending[d] > 0, "cancelled a redemption that did not exist");
            ghostBalance[d] += ghostPending[d];
            ghostPending[d] = 0;
        } catch {
            require(ghostPending[d] == 0, "cancel refused with a redemption pending");
            refusals++;
        }
    }

    function completeRedemption(uint256 who) external {
        address d = drivers[who % 3];
        calls++;
        vm.prank(d);
        try credits.completeRedemption(id) returns (uint256 paid) {
            require(paid == ghostPending[d] && paid > 0, "completed a different amount");
            require(block.timestamp >= credits.redemptionOf(d, id).unlockAt, "redemption paid early");
            ghostWallet[d] += paid;
            ghostPending[d] = 0;
        } catch {
            refusals++; // nothing pending, still locked, or paused: the invariants check nothing moved
        }
    }

    function withdrawPayout(uint256 who) external {
        address d = drivers[who % 3];
        calls++;
        vm.prank(d);
        try credits.withdrawPayout(id, d) returns (uint256 amount) {
            ghostWallet[d] += amount; // nothing is owed without settlement: must be refused
            revert("paid out what no settlement owed");
        } catch {
            refusals++;
        }
    }

    function pause() external {
        calls++;
        vm.prank(GUARDIAN);
        try credits.pause() {} catch { refusals++; }
    }

    function unpause() external {
        calls++;
        (bool ok,) = p.act(address(credits), abi.encodeCall(EnergyCredits.unpause, ()));
        if (!ok) refusals++;
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + 1 + seconds_ % 6 days);
    }
}

contract CreditsEscrowInvariants is LedgerChecks {
    Protocol internal p;
    CreditsHandler internal h;

    function setUp() public {
        vm.warp(1_700_000_000);
        p = new Protocol(WattToken(address(0)));
        h = new CreditsHandler(p);
        p.act(address(p.credits()), abi.encodeWithSignature(
            "grantRole(bytes32,address)", keccak256("PAUSER_ROLE"), h.GUARDIAN()));
        _target(address(h));
    }

    function invariant_escrowEqualsLiabilities() public view {
        _checkEscrow(p);
    }

    /// Credits supply and pending redemptions equal the ghost sums; every driver's balance,
    /// pending redemption and wallet match its ghost; nothing is owed without settlement.
    function invariant_driversMatchGhost() public view {
        _checkDrivers(p, IDriverGhost(address(h)));
        for (uint256 i; i < 3; ++i) {
            address d = h.drivers(i);
            require(p.usdc().balanceOf(d) == h.ghostWallet(d), "wallet != ghost");
        }
        require(p.credits().totalOwed(p.usdcId()) == 0, "owed without settlement");
    }
}
