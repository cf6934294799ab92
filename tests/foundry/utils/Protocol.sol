// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {WattToken} from "../../../contracts/tokens/WattToken.sol";
import {IWattToken} from "../../../contracts/interfaces/IWattToken.sol";
import {OperatorStaking} from "../../../contracts/staking/OperatorStaking.sol";
import {RewardsEngine} from "../../../contracts/rewards/RewardsEngine.sol";
import {IRewardsEngine} from "../../../contracts/interfaces/IRewardsEngine.sol";
import {StationRegistry} from "../../../contracts/registry/StationRegistry.sol";
import {IStationRegistry} from "../../../contracts/interfaces/IStationRegistry.sol";
import {IOperatorStaking} from "../../../contracts/interfaces/IOperatorStaking.sol";
import {EnergyCredits} from "../../../contracts/tokens/EnergyCredits.sol";
import {IEnergyCredits} from "../../../contracts/interfaces/IEnergyCredits.sol";
import {ISessionSettlement} from "../../../contracts/interfaces/ISessionSettlement.sol";
import {MockStablecoin} from "../../../contracts/test/MockStablecoin.sol";

/// @notice The protocol deployed and wired as src/wattnet/chain/deploy.py's `deploy_protocol`
///         does, with params/local.yaml's values, this contract as deployer and admin. Given a
///         `shared` WattToken (a v2 beside v1, docs/upgrades.md) it deploys no token: its rewards
///         engine may emit what the token's cap leaves, and WATT's admin (v1's governance)
///         grants it MINTER_ROLE.
contract Protocol {
    uint256 internal constant CAP = 1e27;
    uint256 internal constant GENESIS_SUPPLY = 2e26;
    address internal constant TREASURY = address(0x7EA5);

    WattToken public watt;
    OperatorStaking public staking;
    RewardsEngine public rewards;
    StationRegistry public registry;
    EnergyCredits public credits;
    MockStablecoin public usdc;
    uint256 public usdcId;

    constructor(WattToken shared) {
        address me = address(this);
        watt = address(shared) == address(0) ? new WattToken(me, CAP, TREASURY, GENESIS_SUPPLY) : shared;
        staking = new OperatorStaking(me, IERC20(address(watt)), TREASURY, 1_000e18, 3600, 500e18, 1000);
        IRewardsEngine.Phase[] memory phases = new IRewardsEngine.Phase[](3);
        phases[0] = IRewardsEngine.Phase(0, 104, 50, 1_500_000e18);
        phases[1] = IRewardsEngine.Phase(104, 312, 20, 600_000e18);
        phases[2] = IRewardsEngine.Phase(312, 572, 0, 250_000e18);
        rewards = new RewardsEngine(me, IWattToken(address(watt)), block.timestamp, CAP - watt.totalSupply(), phases);
        registry = new StationRegistry(me, IOperatorStaking(address(staking)), 50_000, 2_000_000);
        credits = new EnergyCredits(
            me,
            TREASURY,
            IEnergyCredits.Timing(7200, 3600, 3600),
            "ipfs://wattnet-credits/{id}.json",
            IStationRegistry(address(registry)),
            IRewardsEngine(address(rewards)),
            8000,
            500,
            5000
        );
        if (address(shared) == address(0)) watt.grantRole(watt.MINTER_ROLE(), address(rewards));
        staking.grantRole(staking.REGISTRY_ROLE(), address(registry));
        staking.setRegistry(IStationRegistry(address(registry)));
        staking.setSettlement(address(credits));
        staking.setRewards(IRewardsEngine(address(rewards)));
        rewards.grantRole(rewards.FINDINGS_ROLE(), address(staking));
        registry.setCredits(IEnergyCredits(address(credits)));
        rewards.setWeightSource(ISessionSettlement(address(credits)));
        staking.grantRole(staking.PARAMS_ROLE(), me);
        registry.grantRole(registry.PARAMS_ROLE(), me);
        rewards.grantRole(rewards.PARAMS_ROLE(), me);
        credits.grantRole(credits.PARAMS_ROLE(), me);
        rewards.setChallengeWindow(86_400);
        rewards.setFeeMultipleBps(8500);
        rewards.setPriceFloor(1e17);
        usdc = new MockStablecoin("USD Coin", "USDC", 6);
        usdcId = credits.listCredit(address(usdc));
    }

    /// @notice Governance's calls in tests: anything the admin may do, made by the admin.
    function act(address target, bytes calldata data) external returns (bool ok, bytes memory ret) {
        (ok, ret) = target.call(data);
    }
}
