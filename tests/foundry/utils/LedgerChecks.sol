// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InvariantBase} from "./Vm.sol";
import {Protocol} from "./Protocol.sol";
import {EnergyCredits} from "../../../contracts/tokens/EnergyCredits.sol";

/// @notice What a handler's ghost ledger exposes: its three drivers and their ghost balances.
interface IDriverGhost {
    function drivers(uint256 i) external view returns (address);
    function ghostBalance(address driver) external view returns (uint256);
    function ghostPending(address driver) external view returns (uint256);
}

/// @notice The credit ledger's books, checked the same way by every suite.
abstract contract LedgerChecks is InvariantBase {
    /// Escrow solvency: the stablecoin held equals unspent credits plus pending redemptions plus
    /// owed payouts, to the smallest unit.
    function _checkEscrow(Protocol p) internal view {
        EnergyCredits c = p.credits();
        uint256 id = p.usdcId();
        require(p.usdc().balanceOf(address(c))
            == c.totalSupply(id) + c.totalPendingRedemptions(id) + c.totalOwed(id), "escrow != liabilities");
    }

    /// Every driver's balance and pending redemption equal its ghost; supply and pending totals
    /// equal the ghost sums.
    function _checkDrivers(Protocol p, IDriverGhost h) internal view {
        EnergyCredits c = p.credits();
        uint256 id = p.usdcId();
        uint256 supply;
        uint256 pending;
        for (uint256 i; i < 3; ++i) {
            address d = h.drivers(i);
            require(c.balanceOf(d, id) == h.ghostBalance(d), "balance != ghost");
            require(c.redemptionOf(d, id).amount == h.ghostPending(d), "pending != ghost");
            supply += h.ghostBalance(d);
            pending += h.ghostPending(d);
        }
        require(c.totalSupply(id) == supply, "supply != ghost sum");
        require(c.totalPendingRedemptions(id) == pending, "pending total != ghost sum");
    }
}
