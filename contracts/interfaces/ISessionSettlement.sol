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
        Malformed
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

    /// @notice A receipt in a batch was skipped; the rest of the batch went on.
    event ReceiptRejected(bytes32 indexed stationId, uint64 indexed sessionId, RejectReason reason);
    /// @notice A batch was processed: `settled` receipts paid, `rejected` skipped, `totalCost` credits moved.
    event BatchSettled(address indexed submitter, uint256 settled, uint256 rejected, uint256 totalCost);
    /// @notice Governance changed the payment split (treasury gets the rest).
    event SharesChanged(uint256 operatorBps, uint256 referrerBps);
    /// @notice Governance changed the per-station reward cap (share of rated power x epoch).
    event StationEpochCapChanged(uint256 capBps);

    /// @notice Settle a batch; receipts sorted by station (and credit id) cost least gas.
    /// @return settled How many receipts were paid.
    function settleBatch(ReceiptLib.SignedReceipt[] calldata batch) external returns (uint256 settled);

    /// @notice The same as `settleBatch` for receipts in the packed encoding of ReceiptLib
    ///         (grouped by station, fields at their natural widths): about 1,200 gas a receipt
    ///         less. What the oracle sends. Reverts `ReceiptLib.ReceiptBadEncoding` when the
    ///         bytes do not parse; receipts that parse but fail a check are skipped as usual.
    /// @return settled How many receipts were paid.
    function settlePacked(bytes calldata packed) external returns (uint256 settled);


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
