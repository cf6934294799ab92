// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReceiptLib} from "../libraries/ReceiptLib.sol";
import {IRewardsEngine} from "./IRewardsEngine.sol";
import {IStationRegistry} from "./IStationRegistry.sol";

/// @title ISessionSettlement
/// @notice Batch settlement of station-signed session receipts: verify, burn the driver's
///         credits, split the cost into pull balances, and record reward weight. Implemented by
///         the EnergyCredits ledger itself (settling is a write to the driver's ledger entry).
interface ISessionSettlement {
    /// @notice Why a receipt was skipped (mirrored by wattnet.domain.RejectReason).
    enum RejectReason {
        None,
        AlreadySettled,
        StationInactive,
        BadSignature,
        BadTimes,
        Stale,
        EnergyImplausible,
        CostMismatch,
        NotAuthorized,
        InsufficientCredits,
        TariffUnknown,
        Malformed // the removed ABI entry point's (settleBatch); kept so the numbers stay
    }

    /// @notice One station's reward record in one epoch (one storage slot).
    /// @param rewardedWh Energy counted towards the station's epoch cap.
    /// @param weight Wh x reward bps / 10000 earned for its operator.
    /// @param fees What its sessions left with the protocol (the treasury's share), in USD with
    ///        18 decimals (one unit of a credit = 10**-decimals dollar); bounds its WATT reward.
    struct StationEpoch {
        uint64 rewardedWh;
        uint96 weight;
        uint96 fees;
    }

    error SettlementSharesOutOfBounds(uint256 operatorBps, uint256 referrerBps);
    error SettlementCapOutOfBounds(uint256 capBps, uint256 min, uint256 max);
    error SettlementPaused();
    error SettlementZeroAddress();
    error SettlementWrongNonce(uint64 nonce, uint64 expected);
    error SettlementWrongCommittee();
    error SettlementBadSignatures();
    error SettlementTooFewSigners(uint256 signers, uint256 threshold);

    /// @notice A receipt in a batch was skipped; the rest of the batch went on.
    event ReceiptRejected(bytes32 indexed stationId, uint64 indexed sessionId, RejectReason reason);
    /// @notice A batch was processed: `settled` receipts paid, `rejected` skipped, `totalCost` credits moved.
    event BatchSettled(address indexed submitter, uint256 settled, uint256 rejected, uint256 totalCost);
    /// @notice A committee-signed batch settled as batch `nonce` (`settleSigned`).
    event BatchSigned(uint64 indexed nonce, bytes32 batchHash);
    /// @notice The oracle committee published its threshold and members (`setCommittee`).
    event CommitteeSet(bytes32 committeeHash);
    /// @notice Governance changed the payment split (treasury gets the rest).
    event SharesChanged(uint256 operatorBps, uint256 referrerBps);
    /// @notice Governance changed the per-station reward cap (share of rated power x epoch).
    event StationEpochCapChanged(uint256 capBps);

    /// @notice Settle a batch of receipts in the packed encoding of ReceiptLib (grouped by
    ///         station, fields at their natural widths; sorted by station and credit id costs
    ///         least gas), as the single oracle key (ORACLE_ROLE; nobody holds it once the
    ///         committee took over: `settleSigned`). Reverts `ReceiptLib.ReceiptBadEncoding` when
    ///         the bytes do not parse; receipts that parse but fail a check are skipped with
    ///         `ReceiptRejected`.
    /// @return settled How many receipts were paid.
    function settlePacked(bytes calldata packed) external returns (uint256 settled);

    /// @notice `settlePacked` for anyone who brings batch `nonce` signed by the oracle
    ///         committee: at least `threshold` members' signatures over the EIP-712 digest of
    ///         `SettleBatch(uint64 nonce,uint32 round,bytes32 batchHash)` (this contract's
    ///         domain, `batchHash` = keccak256(packed)), 64 bytes each (EIP-2098 r, vs), in the
    ///         order of the members in `committee`. `committee` is `abi.encodePacked(uint8 threshold,
    ///         address[] members)` as the committee published it (its keccak256 must equal
    ///         `committeeHash`); the members are ascending, so signers sorted by address are in
    ///         order. Nonces are consumed in order, one batch each. `round` is the proposer's
    ///         turn at the nonce (a node signs one batch per nonce and round).
    /// @return settled How many receipts were paid.
    function settleSigned(
        bytes calldata packed,
        uint64 nonce,
        uint32 round,
        bytes calldata committee,
        bytes calldata signatures
    ) external returns (uint256 settled);

    /// @notice The oracle committee (COMMITTEE_ROLE) publishes keccak256 of its
    ///         `abi.encodePacked(uint8 threshold, address[] members)` after every change.
    function setCommittee(bytes32 newHash) external;

    /// @notice The published committee's hash (zero until a committee has members).
    function committeeHash() external view returns (bytes32);

    /// @notice The nonce the next committee-signed batch must carry.
    function batchNonce() external view returns (uint64);


    /// @notice `stationId`'s reward record in `epoch`: capped energy, weight, retained fees.
    function stationEpoch(uint256 epoch, bytes32 stationId) external view returns (StationEpoch memory);

    /// @notice Reward weight all stations earned in `epoch`.
    function totalEpochWeight(uint256 epoch) external view returns (uint256);

    /// @notice Whether session `sessionId` of `stationId` has been settled.
    function isSettled(bytes32 stationId, uint64 sessionId) external view returns (bool);

    /// @notice The EIP-712 domain separator receipts are signed under.
    function domainSeparator() external view returns (bytes32);

    /// @notice The station registry settlement reads.
    function registry() external view returns (IStationRegistry);

    /// @notice The rewards engine settlement credits weight to.
    function rewards() external view returns (IRewardsEngine);
}
