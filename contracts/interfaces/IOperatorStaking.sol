// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReceiptLib} from "../libraries/ReceiptLib.sol";
import {IStationRegistry} from "./IStationRegistry.sol";

/// @title IOperatorStaking
/// @notice Operators stake WATT behind their stations; stake unbonds with a delay and can be
///         slashed while bonded or unbonding.
interface IOperatorStaking {
    /// @notice Where slashed WATT goes.
    enum SlashDestination {
        Treasury,
        Burn
    }

    /// @notice An operator's position. `active` backs stations; `unbonding` waits out the delay.
    ///         Stations need `minStakePerStation` each plus `stakePerKw` per kW of the power
    ///         settlement uses for them (certified while a certified meter is bound).
    struct StakeInfo {
        uint128 active;
        uint128 unbonding;
        uint64 unbondingEndsAt;
        uint32 bondedStations;
        uint32 bondedKw;
    }

    /// @notice A finding proven by ReadingsProofs, for staking to enforce.
    /// @param evidenceId What marks the evidence used (a second proof of it reverts).
    /// @param stationId The station whose escrowed rewards are forfeited.
    /// @param timeA A time in the first epoch to forfeit; `timeB` the second (may be the same).
    /// @param operator Whom to slash.
    /// @param reporter Who proved it (paid the bounty when it qualifies).
    /// @param committed The reporter committed it earlier (a challenge is its own commitment).
    struct Finding {
        bytes32 evidenceId;
        bytes32 stationId;
        uint256 timeA;
        uint256 timeB;
        address operator;
        bytes32 reason;
        address reporter;
        bool committed;
    }

    error StakingZeroAmount();
    /// @notice The operator's active stake does not cover what its stations need.
    error StakingInsufficientStake(address operator, uint256 stake, uint256 needed);
    /// @notice Nothing is unbonding, or the delay has not passed.
    error StakingUnbondingNotReady(address operator, uint256 endsAt, uint256 nowTime);
    /// @notice The two receipts are not a proof of equivocation.
    error StakingNotEquivocation(bytes32 hashA, bytes32 hashB);
    /// @notice The receipt's signature does not recover to a key ever bound to its station.
    error StakingBadEvidenceSignature(bytes32 stationId, address recovered);
    /// @notice This pair of receipts was already used to slash.
    error StakingEvidenceUsed(bytes32 evidenceId);
    error StakingParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    error StakingZeroAddress();
    error StakingSettlementAlreadySet(address settlement);
    error StakingSettlementNotSet();
    error StakingStationNotBonded(address operator);
    /// @notice The evidence does not prove the fraud it was submitted as (`kind`).
    error StakingNotFraud(bytes32 kind);
    error StakingRewardsAlreadySet(address rewards);
    error StakingRegistryAlreadySet(address registry);
    /// @notice The operator has open readings challenges; it may withdraw once they close.
    error StakingUnderChallenge(address operator);
    /// @notice A freeze holds the operator's withdrawal until `until`.
    error StakingFrozen(address operator, uint256 until);
    /// @notice The operator was frozen recently; it can be frozen again at `at`.
    error StakingFreezeCoolingDown(address operator, uint256 at);
    /// @notice Only the ReadingsProofs contract this staking deployed may call this.
    error StakingNotReadingsProofs(address caller);

    /// @notice `operator` staked `amount` more WATT.
    event Staked(address indexed operator, uint256 amount, uint256 active);
    /// @notice `operator` moved `amount` from active to unbonding, withdrawable at `endsAt`.
    event UnbondRequested(address indexed operator, uint256 amount, uint256 endsAt);
    /// @notice `operator` withdrew `amount` of matured unbonding stake.
    event Withdrawn(address indexed operator, uint256 amount);
    /// @notice `operator` lost `amount`; `bounty` of it went to `reporter` (zero for role slashes).
    event Slashed(
        address indexed operator,
        uint256 amount,
        bytes32 indexed reason,
        address indexed reporter,
        uint256 bounty,
        SlashDestination destination
    );
    /// @notice The registry bonded (`bonded` true) or released a station slot of `operator`.
    event StationBondChanged(address indexed operator, bool bonded, uint256 bondedStations);
    /// @notice A governed parameter changed.
    event ParameterChanged(bytes32 indexed name, uint256 value);
    /// @notice `by` committed evidence (keccak256 of the evidence id and the reporter).
    event EvidenceCommitted(bytes32 indexed commitment, address indexed by);
    /// @notice The power (kW) of `operator`'s active stations, which its stake must cover, changed.
    event BondedCapacityChanged(address indexed operator, uint256 bondedKw);
    /// @notice The treasury receiving slashed stake changed.
    event TreasuryChanged(address indexed treasury);
    /// @notice The freezer held `operator`'s withdrawal until `until` while `reason` is decided.
    event Frozen(address indexed operator, uint256 until, bytes32 reason);
    /// @notice The settlement contract whose receipt domain equivocation proofs use was set.
    event SettlementSet(address indexed settlement);

    /// @notice Stake `amount` WATT (pulled from the caller).
    function stake(uint256 amount) external;

    /// @notice Start unbonding `amount` of active stake; it stays slashable until withdrawn.
    function requestUnbond(uint256 amount) external;

    /// @notice Withdraw all unbonding stake whose delay has passed.
    function withdraw() external;

    /// @notice Slash up to `amount` from `operator` (active first, then unbonding; what is there
    ///         when it is less); slasher role only.
    function slash(address operator, uint256 amount, bytes32 reason) external;

    /// @notice Permissionless: slash the operator of a station whose key signed two conflicting
    ///         receipts (same session id with different content, or overlapping times on one
    ///         connector). The caller earns the governed bounty.
    function slashEquivocation(
        ReceiptLib.SessionReceipt calldata a,
        bytes calldata sigA,
        ReceiptLib.SessionReceipt calldata b,
        bytes calldata sigB
    ) external;

    /// @notice Permissionless: slash the operator of a station whose key signed a receipt with
    ///         more energy than its power (certified maximum while a certified meter is bound)
    ///         times the session's duration, or ending before it starts. Forfeits the station's
    ///         escrowed rewards of the receipt's epoch; the caller earns the bounty.
    function proveOverPower(ReceiptLib.SessionReceipt calldata r, bytes calldata sig) external;

    /// @notice Permissionless: slash an operator two of whose stations signed overlapping
    ///         sessions of one driver (a driver cannot charge at two stations at once: wallets
    ///         of the operator's own farming in parallel). Forfeits both stations' escrowed
    ///         rewards; the caller earns the bounty. Different operators: a matter for the
    ///         slashing authority (one of them may be the victim of a cloned card).
    function proveDriverOverlap(
        ReceiptLib.SessionReceipt calldata a,
        bytes calldata sigA,
        ReceiptLib.SessionReceipt calldata b,
        bytes calldata sigB
    ) external;

    /// @notice FREEZER_ROLE: hold `operator`'s withdrawal for FREEZE_PERIOD while a finding
    ///         that needs judgement goes to the slashing authority; not renewable until
    ///         FREEZE_PERIOD after it ended. Stake stays slashable; nothing is taken.
    function freeze(address operator, bytes32 reason) external;

    /// @notice ReadingsProofs only: forfeit the station's escrow for the finding's epochs and
    ///         slash its operator as any proof does (same penalty, same bounty rules).
    function enforceFinding(Finding calldata f) external;

    /// @notice ReadingsProofs only: a readings challenge against `operator` opened (`hold`) or
    ///         closed. While any is open the operator cannot withdraw.
    function holdWithdrawals(address operator, bool hold) external;

    /// @notice The receipt's struct hash, reverting unless `sig` is its station's signature.
    function receiptEvidence(ReceiptLib.SessionReceipt calldata r, bytes calldata sig)
        external
        view
        returns (bytes32);

    /// @notice Commit `keccak256(abi.encode(evidenceId, reporter))` before submitting a proof:
    ///         the bounty is paid only to a reporter whose commitment is from an earlier block
    ///         (a proof without one still slashes). The first commitment of a value counts.
    function commitEvidence(bytes32 commitment) external;

    /// @notice Registry hook: reserve one station of `kw` kW; reverts unless the active stake
    ///         covers it; registry role only.
    function bondStation(address operator, uint256 kw) external;

    /// @notice Registry hook: release one station of `kw` kW; registry role only.
    function unbondStation(address operator, uint256 kw) external;

    /// @notice Registry hook: an active station's power changed from `oldKw` to `newKw` (a meter
    ///         certified or released). Never reverts on coverage: an operator short of stake is
    ///         suspended (its stations stop settling) until it stakes more; registry role only.
    function resizeStation(address operator, uint256 oldKw, uint256 newKw) external;

    /// @notice The operator's position.
    function stakeOf(address operator) external view returns (StakeInfo memory);

    /// @notice True while the active stake covers every bonded station.
    function inGoodStanding(address operator) external view returns (bool);

    /// @notice Sum of every operator's active and unbonding stake.
    function totalStaked() external view returns (uint256);

    /// @notice The station registry (wired once).
    function registry() external view returns (IStationRegistry);

    /// @notice The governed penalty of a proven finding, in WATT wei.
    function equivocationSlash() external view returns (uint256);

    /// @notice The reporter's share of a penalty, in bps.
    function equivocationBountyBps() external view returns (uint256);

    /// @notice Whether the evidence id was already used by a proof.
    function evidenceUsed(bytes32 evidenceId) external view returns (bool);

    /// @notice Governed minimum stake per station, in WATT wei.
    function minStakePerStation() external view returns (uint256);
}
