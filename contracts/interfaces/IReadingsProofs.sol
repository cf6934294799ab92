// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReadingsLib} from "../libraries/ReadingsLib.sol";
import {ReceiptLib} from "../libraries/ReceiptLib.sol";

/// @title IReadingsProofs
/// @notice Proofs that a rewarded session's committed meter readings do not back it, and
///         challenges that make an operator publish them. Findings are enforced by staking:
///         the station's escrowed rewards of the session's epoch are forfeited, its operator is
///         slashed the governed penalty, and a reporter who committed the evidence first (or
///         opened the challenge) earns the bounty, unless it is the operator or an oracle key.
interface IReadingsProofs {
    /// @notice An open challenge: the operator must publish readings backing the receipt
    ///         before `deadline`, or lose its stake and the station's escrow of that epoch.
    struct Challenge {
        address challenger;
        uint40 deadline;
        uint40 endTime;
        uint128 bond;
        bytes32 stationId;
        address operator;
    }

    /// @notice The evidence does not prove the fraud it was submitted as (`kind`).
    error ReadingsNotFraud(bytes32 kind);
    /// @notice The readings are not the preimage of the receipt's `readings` commitment.
    error ReadingsMismatch(bytes32 committed, bytes32 supplied);
    /// @notice The receipt commits to no readings (it earned no reward weight).
    error ReadingsNotCommitted(bytes32 receiptHash);
    /// @notice The receipt is already challenged, or was found withheld.
    error ReadingsAlreadyChallenged(bytes32 receiptHash);
    /// @notice No challenge is open against this receipt.
    error ReadingsNoChallenge(bytes32 receiptHash);
    /// @notice The challenge's answer period has not ended.
    error ReadingsAnswerPeriodOpen(bytes32 receiptHash, uint256 deadline);
    /// @notice The answer's readings do not back the receipt (prove bad readings instead).
    error ReadingsBadAnswer(bytes32 receiptHash);

    /// @notice `challenger` bonded `bond` WATT asking the operator to publish a receipt's readings.
    event ReadingsChallenged(
        bytes32 indexed receiptHash,
        bytes32 indexed stationId,
        address indexed operator,
        address challenger,
        uint256 bond,
        uint256 deadline
    );
    /// @notice Readings backing the receipt were published; the operator received the bond.
    event ReadingsAnswered(bytes32 indexed receiptHash, address indexed operator, uint256 bond);

    /// @notice Permissionless: the station's key signed a receipt whose committed readings (`rd`,
    ///         the preimage of `r.readings`) come from a meter never certified for the station,
    ///         lack the meter's valid signatures, or show less energy than the receipt claims.
    function proveBadReadings(
        ReceiptLib.SessionReceipt calldata r,
        bytes calldata sig,
        ReadingsLib.Readings calldata rd
    ) external;

    /// @notice Permissionless: the station committed two receipts to validly signed readings of
    ///         one meter whose register ranges overlap (one metered energy claimed twice).
    ///         Back-to-back sessions share an end point and do not overlap.
    function proveReadingsOverlap(
        ReceiptLib.SessionReceipt calldata a,
        bytes calldata sigA,
        ReadingsLib.Readings calldata rdA,
        ReceiptLib.SessionReceipt calldata b,
        bytes calldata sigB,
        ReadingsLib.Readings calldata rdB
    ) external;

    /// @notice Permissionless: bond `challengeBond()` WATT (pulled from the caller; approve this
    ///         contract) to demand the readings behind a station-signed receipt that commits to
    ///         readings. Until it closes, the operator cannot withdraw stake.
    function challengeReadings(ReceiptLib.SessionReceipt calldata r, bytes calldata sig) external;

    /// @notice Anyone (the operator, typically): publish readings that back a challenged
    ///         receipt; the bond goes to the operator.
    function answerReadings(ReceiptLib.SessionReceipt calldata r, ReadingsLib.Readings calldata rd) external;

    /// @notice Permissionless, after the answer period: the readings were withheld. Slashes,
    ///         forfeits, returns the bond and pays the bounty to the challenger.
    function finalizeChallenge(bytes32 receiptHash) external;

    /// @notice The open challenge against a receipt (deadline zero when none).
    function challengeOf(bytes32 receiptHash) external view returns (Challenge memory);

    /// @notice The bond a challenge takes: a proof's bounty, at least 1 WATT.
    function challengeBond() external view returns (uint256);

    /// @notice What a receipt's `readings` field holds for `rd` (for off-chain cross-checks).
    function readingsCommitment(ReadingsLib.Readings calldata rd) external pure returns (bytes32);

    /// @notice The begin and end register (Wh) the proofs read from `rd`.
    function registersWh(ReadingsLib.Readings calldata rd) external pure returns (uint256 beginWh, uint256 endWh);
}
