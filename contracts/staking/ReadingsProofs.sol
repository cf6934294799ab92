// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IOperatorStaking} from "../interfaces/IOperatorStaking.sol";
import {IReadingsProofs} from "../interfaces/IReadingsProofs.sol";
import {IStationRegistry} from "../interfaces/IStationRegistry.sol";
import {ReadingsLib} from "../libraries/ReadingsLib.sol";
import {ReceiptLib} from "../libraries/ReceiptLib.sol";

/// @title ReadingsProofs
/// @notice Fraud proofs over the meter readings a receipt commits to, and challenges that make
///         an operator publish them. Deployed by OperatorStaking (its own contract because
///         staking is near the code size limit); findings are enforced by staking, with the same
///         penalty, bounty and escrow forfeiture as every other proof.
/// @dev Holds only challenge bonds: every bond is returned to its challenger or paid to the
///      operator when its challenge closes. Effects before interactions throughout.
contract ReadingsProofs is IReadingsProofs, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 internal constant BAD_READINGS = "BAD_READINGS";
    bytes32 internal constant READINGS_OVERLAP = "READINGS_OVERLAP";
    bytes32 internal constant READINGS_WITHHELD = "READINGS_WITHHELD";
    uint256 internal constant BPS = 10_000;
    /// @notice A challenge bond is never below 1 WATT (challenging is never free).
    uint256 public constant MIN_BOND = 1e18;
    /// @notice How long an operator has to answer a challenge (the freeze it causes is bounded
    ///         by it; far below the registry's release delay, so the station is still its own).
    uint256 public constant ANSWER_PERIOD = 2 days;

    IOperatorStaking public immutable staking;
    IERC20 public immutable watt;

    /// @notice Open challenges by the challenged receipt's struct hash.
    mapping(bytes32 receiptHash => Challenge) internal _challenges;

    constructor(IERC20 watt_) {
        staking = IOperatorStaking(msg.sender);
        watt = watt_;
    }

    // ---------------------------------------------------------------- proofs
    /// @inheritdoc IReadingsProofs
    function proveBadReadings(
        ReceiptLib.SessionReceipt calldata r,
        bytes calldata sig,
        ReadingsLib.Readings calldata rd
    ) external nonReentrant {
        bytes32 hashR = staking.receiptEvidence(r, sig);
        _checkCommitment(r, rd);
        IStationRegistry registry = staking.registry();
        if (_readingsHold(registry, r, rd)) revert ReadingsNotFraud(BAD_READINGS);
        _enforce(keccak256(abi.encode(BAD_READINGS, hashR)), r.stationId, r.endTime, r.endTime,
            registry.getStation(r.stationId).operator, BAD_READINGS, msg.sender, false);
    }

    /// @inheritdoc IReadingsProofs
    function proveReadingsOverlap(
        ReceiptLib.SessionReceipt calldata a,
        bytes calldata sigA,
        ReadingsLib.Readings calldata rdA,
        ReceiptLib.SessionReceipt calldata b,
        bytes calldata sigB,
        ReadingsLib.Readings calldata rdB
    ) external nonReentrant {
        bytes32 hashA = staking.receiptEvidence(a, sigA);
        bytes32 hashB = staking.receiptEvidence(b, sigB);
        _checkCommitment(a, rdA);
        _checkCommitment(b, rdB);
        IStationRegistry registry = staking.registry();
        bool overlap = hashA != hashB && a.stationId == b.stationId
            && ReadingsLib.meterKeyHash(rdA) == ReadingsLib.meterKeyHash(rdB)
            && ReadingsLib.signedByMeter(rdA) && ReadingsLib.signedByMeter(rdB);
        if (overlap) {
            (uint256 beginA, uint256 endA) = ReadingsLib.registersWh(rdA);
            (uint256 beginB, uint256 endB) = ReadingsLib.registersWh(rdB);
            overlap = beginA < endB && beginB < endA;
        }
        if (!overlap) revert ReadingsNotFraud(READINGS_OVERLAP);
        (bytes32 lo, bytes32 hi) = hashA < hashB ? (hashA, hashB) : (hashB, hashA);
        _enforce(keccak256(abi.encode(READINGS_OVERLAP, lo, hi)), a.stationId, a.endTime, b.endTime,
            registry.getStation(a.stationId).operator, READINGS_OVERLAP, msg.sender, false);
    }

    // ---------------------------------------------------------------- challenges
    /// @inheritdoc IReadingsProofs
    function challengeReadings(ReceiptLib.SessionReceipt calldata r, bytes calldata sig) external nonReentrant {
        bytes32 hashR = staking.receiptEvidence(r, sig);
        if (r.readings == bytes32(0)) revert ReadingsNotCommitted(hashR);
        if (_challenges[hashR].deadline != 0 || staking.evidenceUsed(_withheldId(hashR))) {
            revert ReadingsAlreadyChallenged(hashR);
        }
        address operator = staking.registry().getStation(r.stationId).operator;
        uint256 bond = challengeBond();
        uint256 deadline = block.timestamp + ANSWER_PERIOD;
        _challenges[hashR] = Challenge({
            challenger: msg.sender,
            deadline: uint40(deadline),
            endTime: r.endTime,
            bond: uint128(bond),
            stationId: r.stationId,
            operator: operator
        });
        emit ReadingsChallenged(hashR, r.stationId, operator, msg.sender, bond, deadline);
        staking.holdWithdrawals(operator, true);
        watt.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc IReadingsProofs
    function answerReadings(ReceiptLib.SessionReceipt calldata r, ReadingsLib.Readings calldata rd)
        external
        nonReentrant
    {
        bytes32 hashR = ReceiptLib.structHash(r);
        Challenge memory c = _challenges[hashR];
        if (c.deadline == 0) revert ReadingsNoChallenge(hashR);
        _checkCommitment(r, rd);
        if (!_readingsHold(staking.registry(), r, rd)) revert ReadingsBadAnswer(hashR);
        delete _challenges[hashR];
        emit ReadingsAnswered(hashR, c.operator, c.bond);
        staking.holdWithdrawals(c.operator, false);
        // The challenge was groundless: its bond pays for the operator's trouble.
        watt.safeTransfer(c.operator, c.bond);
    }

    /// @inheritdoc IReadingsProofs
    function finalizeChallenge(bytes32 receiptHash) external nonReentrant {
        Challenge memory c = _challenges[receiptHash];
        if (c.deadline == 0) revert ReadingsNoChallenge(receiptHash);
        if (block.timestamp <= c.deadline) revert ReadingsAnswerPeriodOpen(receiptHash, c.deadline);
        delete _challenges[receiptHash];
        staking.holdWithdrawals(c.operator, false);
        // Opening the challenge committed the evidence: the challenger is paid as a reporter.
        _enforce(_withheldId(receiptHash), c.stationId, c.endTime, c.endTime, c.operator, READINGS_WITHHELD,
            c.challenger, true);
        watt.safeTransfer(c.challenger, c.bond);
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IReadingsProofs
    function challengeOf(bytes32 receiptHash) external view returns (Challenge memory) {
        return _challenges[receiptHash];
    }

    /// @inheritdoc IReadingsProofs
    function challengeBond() public view returns (uint256) {
        uint256 bounty = (staking.equivocationSlash() * staking.equivocationBountyBps()) / BPS;
        return bounty > MIN_BOND ? bounty : MIN_BOND;
    }

    /// @inheritdoc IReadingsProofs
    function readingsCommitment(ReadingsLib.Readings calldata rd) external pure returns (bytes32) {
        return ReadingsLib.commitment(rd);
    }

    /// @inheritdoc IReadingsProofs
    function registersWh(ReadingsLib.Readings calldata rd) external pure returns (uint256 beginWh, uint256 endWh) {
        return ReadingsLib.registersWh(rd);
    }

    // ---------------------------------------------------------------- internal
    function _enforce(
        bytes32 evidenceId,
        bytes32 stationId,
        uint256 timeA,
        uint256 timeB,
        address operator,
        bytes32 reason,
        address reporter,
        bool committed
    ) internal {
        staking.enforceFinding(
            IOperatorStaking.Finding({
                evidenceId: evidenceId,
                stationId: stationId,
                timeA: timeA,
                timeB: timeB,
                operator: operator,
                reason: reason,
                reporter: reporter,
                committed: committed
            })
        );
    }

    function _withheldId(bytes32 receiptHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(READINGS_WITHHELD, receiptHash));
    }

    /// @dev The receipt's `readings` field is the commitment to these readings.
    function _checkCommitment(ReceiptLib.SessionReceipt calldata r, ReadingsLib.Readings calldata rd) internal pure {
        bytes32 c = ReadingsLib.commitment(rd);
        if (r.readings != c) revert ReadingsMismatch(r.readings, c);
    }

    /// @dev The readings back the receipt: a meter ever certified for its station signed both
    ///      records, and its register advanced by at least the energy the receipt claims.
    function _readingsHold(
        IStationRegistry registry,
        ReceiptLib.SessionReceipt calldata r,
        ReadingsLib.Readings calldata rd
    ) internal view returns (bool) {
        if (!registry.meterEverBound(ReadingsLib.meterKeyHash(rd), r.stationId)) return false;
        if (!ReadingsLib.signedByMeter(rd)) return false;
        (uint256 beginWh, uint256 endWh) = ReadingsLib.registersWh(rd);
        return endWh >= beginWh && endWh - beginWh >= r.energyWh;
    }
}
