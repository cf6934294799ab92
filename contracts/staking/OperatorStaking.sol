// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IOperatorStaking} from "../interfaces/IOperatorStaking.sol";
import {IRewardsEngine} from "../interfaces/IRewardsEngine.sol";
import {IStationRegistry} from "../interfaces/IStationRegistry.sol";
import {IWattToken} from "../interfaces/IWattToken.sol";
import {ReceiptLib} from "../libraries/ReceiptLib.sol";
import {ReadingsProofs} from "./ReadingsProofs.sol";

/// @title OperatorStaking
/// @notice WATT stake behind stations, an unbonding delay, and slashing (by role, or by anyone
///         who proves a station key equivocated).
/// @dev Invariants: totalStaked == sum(active + unbonding) over operators == WATT held here;
///      a slash never exceeds active + unbonding of its operator.
contract OperatorStaking is IOperatorStaking, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- constants and roles
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice May hold an operator's withdrawal while a finding is decided (the guardian until
    ///         the oracle committee exists): quick, bounded, and never a slash by itself.
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    /// @notice A freeze lasts this long (longer than a vote plus the timelock on Arbitrum, so the
    ///         slashing authority can decide in time), and the same operator can be frozen
    ///         again only this long after a freeze ended.
    uint256 public constant FREEZE_PERIOD = 21 days;
    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    bytes32 public constant REGISTRY_ROLE = keccak256("REGISTRY_ROLE");

    uint256 public constant MIN_UNBONDING_DELAY = 1 hours;
    uint256 public constant MAX_UNBONDING_DELAY = 90 days;
    uint256 public constant MAX_BOUNTY_BPS = 5_000;
    /// @notice Bounds of `minStakePerStation`: at least 1 WATT (a station is never free), at
    ///         most 10 million WATT (1 % of the cap; a vote cannot lock every operator out).
    uint256 public constant MIN_STAKE_PER_STATION = 1e18;
    uint256 public constant MAX_STAKE_PER_STATION = 10_000_000e18;
    /// @notice Bounds of `equivocationSlash`: at least 1 WATT (equivocation always costs), at
    ///         most MAX_STAKE_PER_STATION (a slash never exceeds the stake anyway).
    uint256 public constant MIN_EQUIVOCATION_SLASH = 1e18;
    uint256 public constant MAX_EQUIVOCATION_SLASH = MAX_STAKE_PER_STATION;
    /// @notice Bound of `overlapToleranceS`: a charger's clock may step by up to 5 minutes.
    uint256 public constant MAX_OVERLAP_TOLERANCE = 5 minutes;
    bytes32 internal constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice Bound of `stakePerKw`: at most 100,000 WATT per kW of station power.
    uint256 public constant MAX_STAKE_PER_KW = 100_000e18;
    uint256 internal constant BPS = 10_000;
    bytes32 internal constant EQUIVOCATION = "EQUIVOCATION";
    bytes32 internal constant OVER_POWER = "OVER_POWER";
    bytes32 internal constant DRIVER_OVERLAP = "DRIVER_OVERLAP";
    uint256 internal constant EPOCH_LENGTH = 1 weeks;

    // ---------------------------------------------------------------- immutables
    IERC20 public immutable watt;
    /// @notice The readings fraud proofs and challenges (deployed by this contract; it alone
    ///         may enforce their findings and hold withdrawals under challenge).
    ReadingsProofs public immutable readingsProofs;

    // ---------------------------------------------------------------- storage
    mapping(address operator => StakeInfo) internal _stakes;
    /// @inheritdoc IOperatorStaking
    uint256 public totalStaked;
    /// @inheritdoc IOperatorStaking
    uint256 public minStakePerStation;
    uint256 public unbondingDelay;
    uint256 public equivocationSlash;
    uint256 public equivocationBountyBps;
    SlashDestination public slashDestination;
    address public treasury;
    IStationRegistry public registry;
    address public settlement;
    bytes32 public receiptDomainSeparator;
    mapping(bytes32 evidenceId => bool) public evidenceUsed;
    /// @notice The rewards engine whose escrowed rewards proofs forfeit (wired once).
    IRewardsEngine public rewards;
    /// @notice Stake per kW of an active station's power, on top of `minStakePerStation`.
    uint256 public stakePerKw;
    /// @notice Overlaps up to this many seconds are a charger's clock step, not a proof.
    uint256 public overlapToleranceS;
    /// @notice Block in which keccak256(abi.encode(evidenceId, reporter)) was committed: a proof
    ///         pays its bounty only to a reporter who committed it in an earlier block.
    mapping(bytes32 commitment => uint256 blockNumber) public evidenceCommits;
    /// @notice Readings challenges open against an operator: it cannot withdraw meanwhile.
    mapping(address operator => uint256 count) public openChallenges;
    /// @notice Until when `freeze` holds the operator's withdrawal (zero: never frozen).
    mapping(address operator => uint256 until) public frozenUntil;

    // ---------------------------------------------------------------- constructor
    constructor(
        address admin,
        IERC20 watt_,
        address treasury_,
        uint256 minStakePerStation_,
        uint256 unbondingDelay_,
        uint256 equivocationSlash_,
        uint256 equivocationBountyBps_
    ) {
        if (address(watt_) == address(0) || treasury_ == address(0) || admin == address(0)) {
            revert StakingZeroAddress();
        }
        watt = watt_;
        treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMinStake(minStakePerStation_);
        _setUnbondingDelay(unbondingDelay_);
        _setEquivocation(equivocationSlash_, equivocationBountyBps_);
        readingsProofs = new ReadingsProofs(watt_);
    }

    // ---------------------------------------------------------------- external: operators
    /// @inheritdoc IOperatorStaking
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        StakeInfo storage s = _stakes[msg.sender];
        uint256 before = watt.balanceOf(address(this));
        watt.safeTransferFrom(msg.sender, address(this), amount);
        // WATT has no transfer fee; measuring keeps the books right even so.
        uint256 arrived = watt.balanceOf(address(this)) - before;
        s.active += uint128(arrived);
        totalStaked += arrived;
        emit Staked(msg.sender, arrived, s.active);
        _syncStanding(msg.sender);
    }

    /// @inheritdoc IOperatorStaking
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        StakeInfo storage s = _stakes[msg.sender];
        uint256 needed = _required(s.bondedStations, s.bondedKw) + amount;
        if (s.active < needed) revert StakingInsufficientStake(msg.sender, s.active, needed);
        s.active -= uint128(amount);
        s.unbonding += uint128(amount);
        uint256 endsAt = block.timestamp + unbondingDelay;
        s.unbondingEndsAt = uint64(endsAt);
        emit UnbondRequested(msg.sender, amount, endsAt);
    }

    /// @inheritdoc IOperatorStaking
    function withdraw() external nonReentrant {
        StakeInfo storage s = _stakes[msg.sender];
        uint256 amount = s.unbonding;
        if (amount == 0 || block.timestamp < s.unbondingEndsAt) {
            revert StakingUnbondingNotReady(msg.sender, s.unbondingEndsAt, block.timestamp);
        }
        if (openChallenges[msg.sender] != 0) revert StakingUnderChallenge(msg.sender);
        if (block.timestamp < frozenUntil[msg.sender]) {
            revert StakingFrozen(msg.sender, frozenUntil[msg.sender]);
        }
        s.unbonding = 0;
        s.unbondingEndsAt = 0;
        totalStaked -= amount;
        emit Withdrawn(msg.sender, amount);
        watt.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- external: slashing
    /// @inheritdoc IOperatorStaking
    function slash(address operator, uint256 amount, bytes32 reason) external onlyRole(SLASHER_ROLE) nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        StakeInfo storage s = _stakes[operator];
        uint256 available = uint256(s.active) + s.unbonding;
        // Takes what is there, up to `amount`: a shrunken stake cannot make a decided slash fail.
        _slash(operator, s, amount < available ? amount : available, reason, address(0), 0);
        _syncStanding(operator);
    }

    /// @inheritdoc IOperatorStaking
    function slashEquivocation(
        ReceiptLib.SessionReceipt calldata a,
        bytes calldata sigA,
        ReceiptLib.SessionReceipt calldata b,
        bytes calldata sigB
    ) external nonReentrant {
        bytes32 separator = receiptDomainSeparator;
        if (separator == bytes32(0)) revert StakingSettlementNotSet();
        bytes32 hashA = ReceiptLib.structHash(a);
        bytes32 hashB = ReceiptLib.structHash(b);
        if (a.stationId != b.stationId || hashA == hashB || !_conflict(a, b)) {
            revert StakingNotEquivocation(hashA, hashB);
        }
        _checkEvidenceSigner(a.stationId, ReceiptLib.digest(separator, hashA), sigA);
        _checkEvidenceSigner(a.stationId, ReceiptLib.digest(separator, hashB), sigB);
        (bytes32 lo, bytes32 hi) = hashA < hashB ? (hashA, hashB) : (hashB, hashA);
        bool committed = _useEvidence(keccak256(abi.encode(lo, hi)));

        _forfeit(a.stationId, a.endTime, EQUIVOCATION);
        _forfeit(b.stationId, b.endTime, EQUIVOCATION);
        _punish(registry.getStation(a.stationId).operator, EQUIVOCATION, msg.sender, committed);
    }

    /// @inheritdoc IOperatorStaking
    function proveOverPower(ReceiptLib.SessionReceipt calldata r, bytes calldata sig) external nonReentrant {
        bytes32 hashR = _receiptEvidence(r, sig);
        IStationRegistry.Station memory st = registry.getStation(r.stationId);
        bool impossible = r.endTime <= r.startTime
            || uint256(r.energyWh) * 3600 > uint256(st.ratedPowerW) * (r.endTime - r.startTime);
        if (!impossible) revert StakingNotFraud(OVER_POWER);
        bool committed = _useEvidence(keccak256(abi.encode(OVER_POWER, hashR)));
        _forfeit(r.stationId, r.endTime, OVER_POWER);
        _punish(st.operator, OVER_POWER, msg.sender, committed);
    }

    /// @inheritdoc IOperatorStaking
    function proveDriverOverlap(
        ReceiptLib.SessionReceipt calldata a,
        bytes calldata sigA,
        ReceiptLib.SessionReceipt calldata b,
        bytes calldata sigB
    ) external nonReentrant {
        bytes32 hashA = _receiptEvidence(a, sigA);
        bytes32 hashB = _receiptEvidence(b, sigB);
        address operator = registry.getStation(a.stationId).operator;
        bool overlap = a.stationId != b.stationId && a.driver == b.driver && a.driver != address(0)
            && _overlap(a, b)
            && registry.getStation(b.stationId).operator == operator;
        if (!overlap) revert StakingNotFraud(DRIVER_OVERLAP);
        (bytes32 lo, bytes32 hi) = hashA < hashB ? (hashA, hashB) : (hashB, hashA);
        bool committed = _useEvidence(keccak256(abi.encode(DRIVER_OVERLAP, lo, hi)));
        _forfeit(a.stationId, a.endTime, DRIVER_OVERLAP);
        _forfeit(b.stationId, b.endTime, DRIVER_OVERLAP);
        _punish(operator, DRIVER_OVERLAP, msg.sender, committed);
    }

    /// @inheritdoc IOperatorStaking
    function freeze(address operator, bytes32 reason) external onlyRole(FREEZER_ROLE) {
        uint256 until = frozenUntil[operator];
        if (until != 0 && block.timestamp < until + FREEZE_PERIOD) {
            revert StakingFreezeCoolingDown(operator, until + FREEZE_PERIOD);
        }
        until = block.timestamp + FREEZE_PERIOD;
        frozenUntil[operator] = until;
        emit Frozen(operator, until, reason);
    }

    /// @inheritdoc IOperatorStaking
    function enforceFinding(Finding calldata f) external nonReentrant {
        if (msg.sender != address(readingsProofs)) revert StakingNotReadingsProofs(msg.sender);
        bool committed = _useEvidenceOf(f.evidenceId, f.reporter) || f.committed;
        _forfeit(f.stationId, f.timeA, f.reason);
        _forfeit(f.stationId, f.timeB, f.reason);
        _punish(f.operator, f.reason, f.reporter, committed);
    }

    /// @inheritdoc IOperatorStaking
    function holdWithdrawals(address operator, bool hold) external {
        if (msg.sender != address(readingsProofs)) revert StakingNotReadingsProofs(msg.sender);
        if (hold) ++openChallenges[operator];
        else --openChallenges[operator];
    }

    /// @inheritdoc IOperatorStaking
    function commitEvidence(bytes32 commitment) external {
        if (evidenceCommits[commitment] == 0) {
            evidenceCommits[commitment] = block.number;
            emit EvidenceCommitted(commitment, msg.sender);
        }
    }

    // ---------------------------------------------------------------- external: registry hooks
    /// @inheritdoc IOperatorStaking
    function bondStation(address operator, uint256 kw) external onlyRole(REGISTRY_ROLE) {
        StakeInfo storage s = _stakes[operator];
        uint256 needed = _required(uint256(s.bondedStations) + 1, s.bondedKw + kw);
        if (s.active < needed) revert StakingInsufficientStake(operator, s.active, needed);
        s.bondedStations += 1;
        s.bondedKw = uint32(s.bondedKw + kw); // kw <= 2,000 per station, < 2**32 in total
        emit StationBondChanged(operator, true, s.bondedStations);
        emit BondedCapacityChanged(operator, s.bondedKw);
    }

    /// @inheritdoc IOperatorStaking
    function unbondStation(address operator, uint256 kw) external onlyRole(REGISTRY_ROLE) {
        StakeInfo storage s = _stakes[operator];
        if (s.bondedStations == 0) revert StakingStationNotBonded(operator);
        s.bondedStations -= 1;
        s.bondedKw = uint32(kw < s.bondedKw ? s.bondedKw - kw : 0);
        emit StationBondChanged(operator, false, s.bondedStations);
        emit BondedCapacityChanged(operator, s.bondedKw);
    }

    /// @inheritdoc IOperatorStaking
    function resizeStation(address operator, uint256 oldKw, uint256 newKw) external onlyRole(REGISTRY_ROLE) {
        StakeInfo storage s = _stakes[operator];
        uint256 kw = s.bondedKw + newKw;
        s.bondedKw = uint32(oldKw < kw ? kw - oldKw : 0);
        emit BondedCapacityChanged(operator, s.bondedKw);
        _syncStanding(operator);
    }

    // ---------------------------------------------------------------- external: governance
    /// @notice Set the registry whose stations this contract bonds; once only (the admin).
    function setRegistry(IStationRegistry registry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(registry_) == address(0)) revert StakingZeroAddress();
        if (address(registry) != address(0)) revert StakingRegistryAlreadySet(address(registry));
        registry = registry_;
    }

    /// @notice Bind equivocation proofs to the settlement contract's EIP-712 domain; once only.
    function setSettlement(address settlement_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (settlement_ == address(0)) revert StakingZeroAddress();
        if (settlement != address(0)) revert StakingSettlementAlreadySet(settlement);
        settlement = settlement_;
        receiptDomainSeparator = ReceiptLib.domainSeparator(settlement_);
        emit SettlementSet(settlement_);
    }

    /// @notice Wire the rewards engine whose escrowed rewards proofs forfeit; once only.
    function setRewards(IRewardsEngine rewards_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(rewards_) == address(0)) revert StakingZeroAddress();
        if (address(rewards) != address(0)) revert StakingRewardsAlreadySet(address(rewards));
        rewards = rewards_;
    }

    /// @dev Operators' cached standing in the registry goes stale until `refreshStanding`;
    ///      the parameter-change script refreshes every operator right after.
    function setMinStakePerStation(uint256 value) external onlyRole(PARAMS_ROLE) {
        _setMinStake(value);
    }

    /// @notice Governance: overlaps of at most `value` seconds are not proofs (0 .. 5 minutes).
    function setOverlapTolerance(uint256 value) external onlyRole(PARAMS_ROLE) {
        if (value > MAX_OVERLAP_TOLERANCE) {
            revert StakingParameterOutOfBounds("overlapToleranceS", value, 0, MAX_OVERLAP_TOLERANCE);
        }
        overlapToleranceS = value;
        emit ParameterChanged("overlapToleranceS", value);
    }

    /// @notice Governance: stake per kW of station power (0 .. MAX_STAKE_PER_KW). Standing of
    ///         operators goes stale until `refreshStanding`, as for `setMinStakePerStation`.
    function setStakePerKw(uint256 value) external onlyRole(PARAMS_ROLE) {
        if (value > MAX_STAKE_PER_KW) {
            revert StakingParameterOutOfBounds("stakePerKw", value, 0, MAX_STAKE_PER_KW);
        }
        stakePerKw = value;
        emit ParameterChanged("stakePerKw", value);
    }

    function setUnbondingDelay(uint256 value) external onlyRole(PARAMS_ROLE) {
        _setUnbondingDelay(value);
    }

    function setEquivocationPenalty(uint256 slashAmount, uint256 bountyBps) external onlyRole(PARAMS_ROLE) {
        _setEquivocation(slashAmount, bountyBps);
    }

    function setSlashDestination(SlashDestination destination) external onlyRole(PARAMS_ROLE) {
        slashDestination = destination;
        emit ParameterChanged("slashDestination", uint256(destination));
    }

    function setTreasury(address treasury_) external onlyRole(PARAMS_ROLE) {
        if (treasury_ == address(0)) revert StakingZeroAddress();
        treasury = treasury_;
        emit TreasuryChanged(treasury_);
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IOperatorStaking
    function stakeOf(address operator) external view returns (StakeInfo memory) {
        return _stakes[operator];
    }

    /// @notice The EIP-712 digest a station key signs for `receipt` (settlement's domain; the
    ///         view lives here because the settlement contract is at the code size limit).
    function receiptDigest(ReceiptLib.SessionReceipt calldata receipt) external view returns (bytes32) {
        return ReceiptLib.digest(receiptDomainSeparator, ReceiptLib.structHash(receipt));
    }

    /// @inheritdoc IOperatorStaking
    function receiptEvidence(ReceiptLib.SessionReceipt calldata r, bytes calldata sig)
        external
        view
        returns (bytes32)
    {
        return _receiptEvidence(r, sig);
    }

    /// @inheritdoc IOperatorStaking
    function inGoodStanding(address operator) external view returns (bool) {
        StakeInfo storage s = _stakes[operator];
        return s.active >= _required(s.bondedStations, s.bondedKw);
    }

    /// @notice What `stations` stations of `kw` kW in total need at stake.
    function _required(uint256 stations, uint256 kw) internal view returns (uint256) {
        return stations * minStakePerStation + kw * stakePerKw;
    }

    // ---------------------------------------------------------------- internal
    /// @dev Tell the registry when an operator's standing may have changed. Interaction with a
    ///      trusted contract, after all effects.
    function _syncStanding(address operator) internal {
        IStationRegistry r = registry;
        if (address(r) != address(0)) r.refreshStanding(operator);
    }

    /// @dev Takes from active first, then unbonding; `amount <= active + unbonding` is checked
    ///      by every caller. Effects and events precede the token transfers.
    function _slash(
        address operator,
        StakeInfo storage s,
        uint256 amount,
        bytes32 reason,
        address reporter,
        uint256 bounty
    ) internal {
        uint256 fromActive = amount < s.active ? amount : s.active;
        s.active -= uint128(fromActive);
        s.unbonding -= uint128(amount - fromActive);
        totalStaked -= amount;
        SlashDestination destination = slashDestination;
        emit Slashed(operator, amount, reason, reporter, bounty, destination);
        if (bounty > 0) watt.safeTransfer(reporter, bounty);
        uint256 rest = amount - bounty;
        if (rest == 0) return;
        if (destination == SlashDestination.Burn) IWattToken(address(watt)).burn(rest);
        else watt.safeTransfer(treasury, rest);
    }

    /// @dev The governed penalty (at most what the operator has at stake), the bounty to the
    ///      caller, and the standing refresh. Every proof ends here, after its effects.
    function _punish(address operator, bytes32 reason, address reporter, bool committed) internal {
        StakeInfo storage s = _stakes[operator];
        uint256 available = uint256(s.active) + s.unbonding;
        uint256 amount = equivocationSlash < available ? equivocationSlash : available;
        // The bounty goes only to a reporter who committed the evidence in an earlier block (a
        // copier of a proof seen in the mempool earns nothing); reporting one's own fraud earns
        // nothing back (it would halve the penalty), nor does an oracle key reporting receipts
        // it held in custody (it saw them first).
        bool paid = committed && reporter != operator
            && !IAccessControl(settlement).hasRole(ORACLE_ROLE, reporter);
        uint256 bounty = paid ? (amount * equivocationBountyBps) / BPS : 0;
        _slash(operator, s, amount, reason, reporter, bounty);
        _syncStanding(operator);
    }

    /// @dev Forfeit the station's escrowed rewards of the epoch containing `time` (a finding
    ///      that comes after the window, or before genesis, still slashes).
    function _forfeit(bytes32 stationId, uint256 time, bytes32 reason) internal {
        IRewardsEngine r = rewards;
        if (address(r) == address(0)) return;
        uint256 genesis = r.genesis();
        if (time < genesis) return;
        r.forfeit(stationId, (time - genesis) / EPOCH_LENGTH, reason);
    }

    /// @dev Mark the evidence used; true when the caller committed it in an earlier block.
    function _useEvidence(bytes32 evidenceId) internal returns (bool committed) {
        return _useEvidenceOf(evidenceId, msg.sender);
    }

    /// @dev Mark the evidence used; true when `reporter` committed it in an earlier block.
    function _useEvidenceOf(bytes32 evidenceId, address reporter) internal returns (bool committed) {
        if (evidenceUsed[evidenceId]) revert StakingEvidenceUsed(evidenceId);
        evidenceUsed[evidenceId] = true;
        uint256 at = evidenceCommits[keccak256(abi.encode(evidenceId, reporter))];
        committed = at != 0 && at < block.number;
    }

    /// @dev The receipt's struct hash, once its signature recovers to a key of its station.
    function _receiptEvidence(ReceiptLib.SessionReceipt calldata r, bytes calldata sig)
        internal
        view
        returns (bytes32 h)
    {
        bytes32 separator = receiptDomainSeparator;
        if (separator == bytes32(0)) revert StakingSettlementNotSet();
        h = ReceiptLib.structHash(r);
        _checkEvidenceSigner(r.stationId, ReceiptLib.digest(separator, h), sig);
    }

    /// @dev Same session id with other content, or overlapping times on the same connector (by
    ///      more than the clock-step tolerance).
    function _conflict(ReceiptLib.SessionReceipt calldata a, ReceiptLib.SessionReceipt calldata b)
        internal
        view
        returns (bool)
    {
        if (a.sessionId == b.sessionId) return true;
        return a.connectorId == b.connectorId && _overlap(a, b);
    }

    /// @dev The two sessions overlap by more than the governed clock-step tolerance.
    function _overlap(ReceiptLib.SessionReceipt calldata a, ReceiptLib.SessionReceipt calldata b)
        internal
        view
        returns (bool)
    {
        uint256 tol = overlapToleranceS;
        return uint256(a.startTime) + tol < b.endTime && uint256(b.startTime) + tol < a.endTime;
    }

    /// @dev Station id 0 never matches: stationOfSigner returns 0 for keys never bound.
    function _checkEvidenceSigner(bytes32 stationId, bytes32 digest, bytes calldata sig) internal view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, sig);
        if (err != ECDSA.RecoverError.NoError || recovered == address(0) || stationId == bytes32(0)
            || registry.stationOfSigner(recovered) != stationId)
        {
            revert StakingBadEvidenceSignature(stationId, recovered);
        }
    }

    function _setMinStake(uint256 value) internal {
        if (value < MIN_STAKE_PER_STATION || value > MAX_STAKE_PER_STATION) {
            revert StakingParameterOutOfBounds(
                "minStakePerStation", value, MIN_STAKE_PER_STATION, MAX_STAKE_PER_STATION
            );
        }
        minStakePerStation = value;
        emit ParameterChanged("minStakePerStation", value);
    }

    function _setUnbondingDelay(uint256 value) internal {
        if (value < MIN_UNBONDING_DELAY || value > MAX_UNBONDING_DELAY) {
            revert StakingParameterOutOfBounds("unbondingDelay", value, MIN_UNBONDING_DELAY, MAX_UNBONDING_DELAY);
        }
        unbondingDelay = value;
        emit ParameterChanged("unbondingDelay", value);
    }

    function _setEquivocation(uint256 slashAmount, uint256 bountyBps) internal {
        if (slashAmount < MIN_EQUIVOCATION_SLASH || slashAmount > MAX_EQUIVOCATION_SLASH) {
            revert StakingParameterOutOfBounds(
                "equivocationSlash", slashAmount, MIN_EQUIVOCATION_SLASH, MAX_EQUIVOCATION_SLASH
            );
        }
        if (bountyBps > MAX_BOUNTY_BPS) {
            revert StakingParameterOutOfBounds("equivocationBountyBps", bountyBps, 0, MAX_BOUNTY_BPS);
        }
        equivocationSlash = slashAmount;
        equivocationBountyBps = bountyBps;
        emit ParameterChanged("equivocationSlash", slashAmount);
        emit ParameterChanged("equivocationBountyBps", bountyBps);
    }
}
