// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRewardsEngine
/// @notice Weekly epochs of WATT emission shared among operators by verified, region-weighted
///         energy. Rewards are minted only when claimed, and only for closed epochs.
interface IRewardsEngine {
    /// @notice One phase of the emission schedule: epochs [startEpoch, endEpoch), emission of
    ///         epoch e = emissionPerEpoch * (1 - decayBps/10000)^(e - startEpoch).
    struct Phase {
        uint32 startEpoch;
        uint32 endEpoch;
        uint16 decayBps;
        uint128 emissionPerEpoch;
    }

    error RewardsEpochNotClosed(uint256 epoch, uint256 current);
    error RewardsAlreadyClaimed(bytes32 stationId, uint256 epoch);
    error RewardsNotOperator(bytes32 stationId, address caller, address operator);
    error RewardsWeightSourceNotSet();
    error RewardsNothingToClaim(address operator);
    error RewardsBadSchedule(uint256 index);
    error RewardsScheduleExceedsCap(uint256 scheduled, uint256 maxEmission);
    /// @notice A schedule change must start after the current epoch (`fromEpoch` > `current`).
    error RewardsScheduleStartPassed(uint256 fromEpoch, uint256 current);
    error RewardsGenesisInFuture(uint256 genesis, uint256 nowTime);

    error RewardsWeightSourceAlreadySet(address source);
    error RewardsZeroAddress();
    /// @notice The epoch's rewards are still in escrow: claimable from `claimableAt` (the end of
    ///         the epoch plus the challenge window), unless a finding forfeits them before.
    error RewardsInChallengeWindow(uint256 epoch, uint256 claimableAt);
    /// @notice The price feed's answer is not positive or older than the governed maximum age.
    error RewardsPriceStale(int256 answer, uint256 updatedAt);
    /// @notice The price feed moved more than the governed deviation since its previous round.
    error RewardsPriceDeviation(uint256 price, uint256 previous);
    error RewardsParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    /// @notice The contract whose settled sessions define reward weights was set.
    event WeightSourceSet(address indexed source);
    /// @notice `operator` claimed `amount` WATT earned by `stationId` in `epoch`.
    event RewardsClaimed(uint256 indexed epoch, bytes32 indexed stationId, address indexed operator, uint256 amount);
    /// @notice A finding forfeited what `stationId` earned in `epoch` (never minted).
    event RewardsForfeited(uint256 indexed epoch, bytes32 indexed stationId, bytes32 indexed reason);
    /// @notice A governed parameter changed.
    event ParameterChanged(bytes32 indexed name, uint256 value);
    /// @notice Governance set the WATT/USD price feed (zero: the floor price alone).
    event PriceFeedSet(address indexed feed, uint256 maxAge, uint256 maxDeviationBps);
    /// @notice The schedule from `fromEpoch` on was replaced; `phaseCount` phases now exist.
    event ScheduleChanged(uint256 indexed fromEpoch, uint256 phaseCount, uint256 scheduledTotal);

    /// @notice Claim the rewards each of the caller's `stationIds` earned in each closed epoch of
    ///         `epochs`; mints WATT to the caller (the stations' operator). Epochs that ended
    ///         before the station's current registration pay nothing (they belonged to an earlier
    ///         registration of a released id).
    function claim(uint256[] calldata epochs, bytes32[] calldata stationIds) external returns (uint256 amount);

    /// @notice Findings (fraud proofs and the slashing authority): forfeit what `stationId`
    ///         earned in `epoch` while it is still in escrow. Returns false (and changes
    ///         nothing) when it was already claimed, forfeited, or the window has passed.
    function forfeit(bytes32 stationId, uint256 epoch, bytes32 reason) external returns (bool);

    /// @notice Replace the schedule from `fromEpoch` on (a future epoch: the current and past
    ///         ones keep theirs). A governance proposal names an epoch beyond its voting and
    ///         timelock delays, so it can execute any time before that epoch starts.
    /// @dev Phases before `fromEpoch` are kept (one straddling it ends there); `next` must start
    ///      at `fromEpoch`, be contiguous, and keep the whole schedule within `maxEmission`.
    function setSchedule(uint256 fromEpoch, Phase[] calldata next) external;

    /// @notice The epoch containing the current block time (0-based from genesis).
    function currentEpoch() external view returns (uint256);

    /// @notice WATT emitted for `epoch` under the schedule.
    function emissionOf(uint256 epoch) external view returns (uint256);

    /// @notice When `epoch`'s rewards leave escrow: its end plus the challenge window.
    function claimableAt(uint256 epoch) external view returns (uint256);

    /// @notice USD (18 decimals) per WATT used to bound rewards by fees: the feed's fresh
    ///         answer, never below the governed floor. Reverts when the feed is stale or jumped.
    function wattPrice() external view returns (uint256);

    /// @notice What `stationId` earned in closed `epoch` and is still unclaimed (0 when open or
    ///         forfeited): its share of the epoch's emission by weight, at most the governed
    ///         multiple of the fees its sessions left with the protocol, valued at `wattPrice`.
    function claimable(bytes32 stationId, uint256 epoch) external view returns (uint256);

    /// @notice An upper bound on all WATT the schedule will ever emit.
    function scheduledTotal() external view returns (uint256);

    /// @notice Start of epoch 0 (unix seconds).
    function genesis() external view returns (uint256);
}
