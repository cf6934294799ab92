// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";
import {IRewardsEngine} from "../interfaces/IRewardsEngine.sol";
import {ISessionSettlement} from "../interfaces/ISessionSettlement.sol";
import {IStationRegistry} from "../interfaces/IStationRegistry.sol";
import {IWattToken} from "../interfaces/IWattToken.sol";

/// @title RewardsEngine
/// @notice WATT rewards for verified energy, in weekly epochs, on a phased, decaying schedule.
/// @dev Weights are read from the settlement ledger (EnergyCredits), which only ever adds to the
///      current epoch. Invariants: closed epochs' weights are final;
///      minted for an epoch <= its emission (shares round down); total minted <= the sum of
///      emissions of closed epochs <= scheduledTotal() <= maxEmission; an epoch's emission never
///      changes once the epoch has begun (schedule changes start at the next epoch).
///      Fraud never pays: an epoch's rewards stay in escrow for the challenge window, findings
///      forfeit them meanwhile, and a station's reward is worth at most `feeMultipleBps` of the
///      fees its sessions left with the protocol (valued at `wattPrice`). What is not minted
///      because of a forfeit or the fee bound is never minted. A station id released and
///      registered again (StationRegistry) earns its new operator nothing for epochs that ended
///      before the new registration: those were the previous operator's.
contract RewardsEngine is IRewardsEngine, AccessControl, ReentrancyGuardTransient {
    // ---------------------------------------------------------------- constants and roles
    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    /// @notice Forfeits escrowed rewards: fraud proofs (OperatorStaking) and the slashing authority.
    bytes32 public constant FINDINGS_ROLE = keccak256("FINDINGS_ROLE");

    /// @notice Bounds of the challenge window (escrow after an epoch ends).
    uint256 public constant MIN_CHALLENGE_WINDOW = 1 days;
    uint256 public constant MAX_CHALLENGE_WINDOW = 90 days;
    /// @notice Rewards are worth at most this share of the fees retained (10000: never more).
    uint256 public constant MAX_FEE_MULTIPLE_BPS = 10_000;
    /// @notice Bounds of the floor price, USD (18 decimals) per WATT: 1e-12 USD .. 1,000,000 USD.
    uint256 public constant MIN_PRICE_FLOOR = 1e6;
    uint256 public constant MAX_PRICE_FLOOR = 1e24;
    /// @notice Bounds of the price feed's freshness and its round-to-round deviation.
    uint256 public constant MIN_FEED_AGE = 1 minutes;
    uint256 public constant MAX_FEED_AGE = 3 days;
    uint256 public constant MAX_FEED_DEVIATION_BPS = 5_000;

    uint256 public constant EPOCH_LENGTH = 1 weeks;
    uint256 public constant MAX_PHASES = 32;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;

    // ---------------------------------------------------------------- immutables
    IWattToken public immutable watt;
    /// @inheritdoc IRewardsEngine
    uint256 public immutable genesis;
    /// @notice The most the schedule may ever emit (WATT cap minus genesis supply).
    uint256 public immutable maxEmission;

    // ---------------------------------------------------------------- storage
    Phase[] internal _phases;
    ISessionSettlement public weightSource;
    IStationRegistry public registry;
    mapping(uint256 epoch => mapping(bytes32 stationId => bool)) public claimed;
    mapping(uint256 epoch => uint256) public mintedFor;
    uint256 public totalMinted;
    /// @notice Escrowed rewards a finding forfeited.
    mapping(uint256 epoch => mapping(bytes32 stationId => bool)) public forfeited;
    /// @notice Seconds after an epoch ends before its rewards can be claimed.
    uint256 public challengeWindow = 30 days;
    /// @notice A station's epoch reward is worth at most this share (bps) of its retained fees.
    uint256 public feeMultipleBps = 5_000;
    /// @notice The lowest WATT price rewards are valued at (USD, 18 decimals, per WATT).
    uint256 public priceFloor = 1e17;
    IAggregatorV3 public priceFeed;
    uint256 public feedMaxAge;
    uint256 public feedMaxDeviationBps;
    uint256 internal _feedScale;

    // ---------------------------------------------------------------- constructor
    constructor(address admin, IWattToken watt_, uint256 genesis_, uint256 maxEmission_, Phase[] memory phases_) {
        if (genesis_ > block.timestamp) revert RewardsGenesisInFuture(genesis_, block.timestamp);
        watt = watt_;
        genesis = genesis_;
        maxEmission = maxEmission_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _replaceFrom(0, phases_);
    }

    // ---------------------------------------------------------------- external
    /// @inheritdoc IRewardsEngine
    function claim(uint256[] calldata epochs, bytes32[] calldata stationIds)
        external
        nonReentrant
        returns (uint256 amount)
    {
        IStationRegistry reg = registry;
        if (address(reg) == address(0)) revert RewardsWeightSourceNotSet();
        uint256 current = currentEpoch();
        uint256 price = wattPrice();
        for (uint256 j = 0; j < stationIds.length; ++j) {
            bytes32 stationId = stationIds[j];
            IStationRegistry.Station memory st = reg.getStation(stationId);
            if (st.operator != msg.sender) revert RewardsNotOperator(stationId, msg.sender, st.operator);
            for (uint256 i = 0; i < epochs.length; ++i) {
                uint256 epoch = epochs[i];
                if (epoch >= current) revert RewardsEpochNotClosed(epoch, current);
                uint256 readyAt = claimableAt(epoch);
                if (block.timestamp < readyAt) revert RewardsInChallengeWindow(epoch, readyAt);
                if (claimed[epoch][stationId]) revert RewardsAlreadyClaimed(stationId, epoch);
                claimed[epoch][stationId] = true;
                uint256 share =
                    forfeited[epoch][stationId] || _before(epoch, st.registeredAt) ? 0 : _share(stationId, epoch, price);
                mintedFor[epoch] += share;
                amount += share;
                emit RewardsClaimed(epoch, stationId, msg.sender, share);
            }
        }
        if (amount == 0) revert RewardsNothingToClaim(msg.sender);
        totalMinted += amount;
        watt.mint(msg.sender, amount);
    }

    /// @inheritdoc IRewardsEngine
    /// @dev Never reverts on a finding that comes too late, so a fraud proof that also slashes
    ///      still slashes after the window.
    function forfeit(bytes32 stationId, uint256 epoch, bytes32 reason)
        external
        onlyRole(FINDINGS_ROLE)
        returns (bool)
    {
        if (claimed[epoch][stationId] || forfeited[epoch][stationId] || block.timestamp >= claimableAt(epoch)) {
            return false;
        }
        forfeited[epoch][stationId] = true;
        emit RewardsForfeited(epoch, stationId, reason);
        return true;
    }

    /// @notice Governance: the escrow after each epoch, within bounds.
    function setChallengeWindow(uint256 window) external onlyRole(PARAMS_ROLE) {
        _checkBounds("challengeWindow", window, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        challengeWindow = window;
        emit ParameterChanged("challengeWindow", window);
    }

    /// @notice Governance: rewards are worth at most `bps` of the fees retained (1..10000).
    function setFeeMultipleBps(uint256 bps) external onlyRole(PARAMS_ROLE) {
        _checkBounds("feeMultipleBps", bps, 1, MAX_FEE_MULTIPLE_BPS);
        feeMultipleBps = bps;
        emit ParameterChanged("feeMultipleBps", bps);
    }

    /// @notice Governance: the lowest WATT price rewards are valued at (USD wei per WATT).
    function setPriceFloor(uint256 price) external onlyRole(PARAMS_ROLE) {
        _checkBounds("priceFloor", price, MIN_PRICE_FLOOR, MAX_PRICE_FLOOR);
        priceFloor = price;
        emit ParameterChanged("priceFloor", price);
    }

    /// @notice Governance: a WATT/USD feed (zero address: the floor alone), the oldest answer
    ///         accepted, and the largest move between two rounds accepted.
    function setPriceFeed(IAggregatorV3 feed, uint256 maxAge, uint256 maxDeviationBps)
        external
        onlyRole(PARAMS_ROLE)
    {
        uint256 scale = 0;
        if (address(feed) != address(0)) {
            _checkBounds("feedMaxAge", maxAge, MIN_FEED_AGE, MAX_FEED_AGE);
            _checkBounds("feedMaxDeviationBps", maxDeviationBps, 1, MAX_FEED_DEVIATION_BPS);
            uint8 decimals = feed.decimals();
            _checkBounds("feedDecimals", decimals, 0, 18);
            scale = 10 ** (18 - decimals);
        }
        priceFeed = feed;
        feedMaxAge = maxAge;
        feedMaxDeviationBps = maxDeviationBps;
        _feedScale = scale;
        emit PriceFeedSet(address(feed), maxAge, maxDeviationBps);
    }

    /// @notice Wire the settlement ledger whose weights rewards follow; once only.
    function setWeightSource(ISessionSettlement source) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(source) == address(0)) revert RewardsZeroAddress();
        if (address(weightSource) != address(0)) revert RewardsWeightSourceAlreadySet(address(weightSource));
        weightSource = source;
        registry = source.registry();
        emit WeightSourceSet(address(source));
    }

    /// @inheritdoc IRewardsEngine
    function setSchedule(uint256 fromEpoch, Phase[] calldata next) external onlyRole(PARAMS_ROLE) {
        uint256 current = currentEpoch();
        if (fromEpoch <= current || fromEpoch > type(uint32).max) {
            revert RewardsScheduleStartPassed(fromEpoch, current);
        }
        _replaceFrom(fromEpoch, next);
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IRewardsEngine
    function currentEpoch() public view returns (uint256) {
        return (block.timestamp - genesis) / EPOCH_LENGTH;
    }

    /// @inheritdoc IRewardsEngine
    function emissionOf(uint256 epoch) public view returns (uint256) {
        uint256 n = _phases.length;
        for (uint256 i = 0; i < n; ++i) {
            Phase memory p = _phases[i];
            if (epoch >= p.startEpoch && epoch < p.endEpoch) {
                uint256 factor = _rpow(((BPS - p.decayBps) * WAD) / BPS, epoch - p.startEpoch);
                return (uint256(p.emissionPerEpoch) * factor) / WAD;
            }
        }
        return 0;
    }

    /// @inheritdoc IRewardsEngine
    function claimable(bytes32 stationId, uint256 epoch) external view returns (uint256) {
        if (epoch >= currentEpoch() || claimed[epoch][stationId] || forfeited[epoch][stationId]) return 0;
        IStationRegistry reg = registry;
        if (address(reg) != address(0) && _before(epoch, reg.getStation(stationId).registeredAt)) return 0;
        return _share(stationId, epoch, wattPrice());
    }

    /// @inheritdoc IRewardsEngine
    function claimableAt(uint256 epoch) public view returns (uint256) {
        return genesis + (epoch + 1) * EPOCH_LENGTH + challengeWindow;
    }

    /// @inheritdoc IRewardsEngine
    function wattPrice() public view returns (uint256 price) {
        price = priceFloor;
        IAggregatorV3 feed = priceFeed;
        if (address(feed) == address(0)) return price;
        (uint80 round, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        if (answer <= 0 || updatedAt + feedMaxAge < block.timestamp) revert RewardsPriceStale(answer, updatedAt);
        uint256 scaled = uint256(answer) * _feedScale;
        if (round > 1) {
            (, int256 prev,,,) = feed.getRoundData(round - 1);
            if (prev > 0) {
                uint256 before = uint256(prev) * _feedScale;
                uint256 moved = scaled > before ? scaled - before : before - scaled;
                if (moved * BPS > before * feedMaxDeviationBps) revert RewardsPriceDeviation(scaled, before);
            }
        }
        if (scaled > price) price = scaled;
    }

    /// @inheritdoc IRewardsEngine
    function scheduledTotal() public view returns (uint256 total) {
        uint256 n = _phases.length;
        for (uint256 i = 0; i < n; ++i) {
            total += _phaseBound(_phases[i]);
        }
    }

    /// @notice The schedule's phases.
    function phases() external view returns (Phase[] memory) {
        return _phases;
    }

    // ---------------------------------------------------------------- internal
    /// @dev The station's share of the epoch's emission by weight, at most feeMultipleBps of its
    ///      retained fees converted at `price`.
    function _share(bytes32 stationId, uint256 epoch, uint256 price) internal view returns (uint256) {
        ISessionSettlement source = weightSource;
        if (address(source) == address(0)) return 0;
        uint256 total = source.totalEpochWeight(epoch);
        if (total == 0) return 0;
        ISessionSettlement.StationEpoch memory se = source.stationEpoch(epoch, stationId);
        uint256 byWeight = (emissionOf(epoch) * se.weight) / total;
        uint256 byFees = (uint256(se.fees) * feeMultipleBps * WAD) / (BPS * price);
        return byWeight < byFees ? byWeight : byFees;
    }

    /// @dev `epoch` ended by `time` (a station registered at `time` settled nothing in it).
    function _before(uint256 epoch, uint256 time) internal view returns (bool) {
        return genesis + (epoch + 1) * EPOCH_LENGTH <= time;
    }

    function _checkBounds(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert RewardsParameterOutOfBounds(name, value, min, max);
    }

    /// @dev Keep phases before `fromEpoch` (cutting one that straddles it), append `next`, which
    ///      must start at `fromEpoch` and be contiguous; revert if the whole exceeds maxEmission.
    function _replaceFrom(uint256 fromEpoch, Phase[] memory next) internal {
        while (_phases.length > 0 && _phases[_phases.length - 1].startEpoch >= fromEpoch) _phases.pop();
        if (_phases.length > 0 && _phases[_phases.length - 1].endEpoch > fromEpoch) {
            _phases[_phases.length - 1].endEpoch = uint32(fromEpoch);
        }
        if (_phases.length + next.length > MAX_PHASES) revert RewardsBadSchedule(next.length);
        uint256 expectedStart = fromEpoch;
        for (uint256 i = 0; i < next.length; ++i) {
            Phase memory p = next[i];
            if (p.startEpoch != expectedStart || p.endEpoch <= p.startEpoch || p.decayBps >= BPS) {
                revert RewardsBadSchedule(i);
            }
            _phases.push(p);
            expectedStart = p.endEpoch;
        }
        uint256 total = scheduledTotal();
        if (total > maxEmission) revert RewardsScheduleExceedsCap(total, maxEmission);
        emit ScheduleChanged(fromEpoch, _phases.length, total);
    }

    /// @dev Upper bound of a phase's emission: e0 * (1 - q^n) / (1 - q), q = 1 - d, rounded up;
    ///      each epoch's emission rounds down, so the real sum never exceeds it.
    function _phaseBound(Phase memory p) internal pure returns (uint256) {
        uint256 n = uint256(p.endEpoch) - p.startEpoch;
        if (p.decayBps == 0) return uint256(p.emissionPerEpoch) * n;
        uint256 qn = _rpow(((BPS - p.decayBps) * WAD) / BPS, n); // exact: BPS divides WAD
        uint256 numerator = uint256(p.emissionPerEpoch) * (WAD - qn) * BPS;
        uint256 denominator = uint256(p.decayBps) * WAD;
        return (numerator + denominator - 1) / denominator;
    }

    /// @dev x^n in WAD fixed point, rounding down at each step (so <= the exact power); x <= WAD.
    function _rpow(uint256 x, uint256 n) internal pure returns (uint256 z) {
        z = WAD;
        while (n > 0) {
            if (n & 1 == 1) z = (z * x) / WAD;
            x = (x * x) / WAD;
            n >>= 1;
        }
    }
}
