// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC1155MetadataURI} from "@openzeppelin/contracts/token/ERC1155/extensions/IERC1155MetadataURI.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IEnergyCredits} from "../interfaces/IEnergyCredits.sol";

/// @title CreditLedger
/// @notice Storage and read side of the energy-credit ledger: a non-transferable ERC-1155 whose
///         ids are accepted stablecoins, each driver's balance and mandate in one slot, pending
///         redemptions, and payees' pull balances. EnergyCredits adds the user actions and
///         SessionSettlement the settlement of signed sessions.
/// @dev Invariant, per id: stablecoin held >= totalSupply + totalPendingRedemptions + totalOwed,
///      with equality unless tokens were sent without buying.
abstract contract CreditLedger is IEnergyCredits, IERC1155MetadataURI, AccessControl, Pausable, ReentrancyGuardTransient {
    // ---------------------------------------------------------------- constants and roles
    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint256 public constant MIN_SETTLEMENT_DELAY = 1 hours;
    uint256 public constant MAX_SETTLEMENT_DELAY = 30 days;
    uint256 public constant MIN_SESSION_DURATION = 1 hours;
    uint256 public constant MAX_SESSION_DURATION = 7 days;
    uint256 public constant MAX_REDEMPTION_DELAY = 90 days;
    /// @notice A guardian's pause ends by itself after this long (longer than a vote and the
    ///         timelock on Arbitrum, so governance can extend it in time), and the guardian can
    ///         pause again only this long after a pause ended: at most half the time frozen.
    uint256 public constant MAX_PAUSE = 14 days;
    uint256 public constant PAUSE_COOLDOWN = 14 days;

    // ---------------------------------------------------------------- storage
    /// @dev One accepted stablecoin. `capUnit` = 10**(decimals - 2): mandates count in it.
    struct Credit {
        address token;
        uint8 decimals;
        bool salesOpen;
        uint64 capUnit;
    }

    mapping(uint256 id => Credit) internal _credits;
    mapping(address token => uint256 id) public idOfToken;
    uint256 public creditCount;

    mapping(address driver => mapping(uint256 id => Account)) internal _accounts;
    mapping(address driver => mapping(uint256 id => Redemption)) internal _redemptions;
    /// @inheritdoc IEnergyCredits
    mapping(bytes32 idTokenHash => address driver) public driverOfIdToken;
    /// @inheritdoc IEnergyCredits
    mapping(address driver => address) public referrerOf;
    /// @dev Sessions starting before this time may charge the driver at the operator's stations:
    ///      type(uint64).max while consent stands, the withdrawal time after it was withdrawn
    ///      (sessions the driver began before withdrawing are still owed), zero if never given.
    mapping(address driver => mapping(address operator => uint256 until)) internal _consentUntil;

    /// @inheritdoc IEnergyCredits
    mapping(address payee => mapping(uint256 id => uint256)) public owed;
    /// @inheritdoc IEnergyCredits
    mapping(uint256 id => uint256) public totalSupply;
    /// @inheritdoc IEnergyCredits
    mapping(uint256 id => uint256) public totalPendingRedemptions;
    /// @inheritdoc IEnergyCredits
    mapping(uint256 id => uint256) public totalOwed;

    Timing internal _timing;
    address public treasury;
    string internal _uri;
    /// @dev Sum of all closed pause intervals; the start and the expiry of the open one (zero
    ///      when none); when the guardian may pause again; the closed intervals, oldest first.
    uint64 public pausedTotal;
    uint64 public pausedAt;
    uint64 public pauseEndsAt;
    uint64 public pausableAgainAt;
    PauseSpan[] internal _pauseSpans;

    // ---------------------------------------------------------------- ERC-1155 (non-transferable)
    /// @notice Credits cannot be transferred; always reverts.
    function safeTransferFrom(address, address, uint256, uint256, bytes calldata) external pure {
        revert CreditsNonTransferable();
    }

    /// @notice Credits cannot be transferred; always reverts.
    function safeBatchTransferFrom(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
    {
        revert CreditsNonTransferable();
    }

    /// @notice Approvals are meaningless for non-transferable credits; always reverts.
    function setApprovalForAll(address, bool) external pure {
        revert CreditsNonTransferable();
    }

    // ---------------------------------------------------------------- views
    /// @notice Spendable credits of `account` in `id`.
    function balanceOf(address account, uint256 id) external view returns (uint256) {
        return _accounts[account][id].balance;
    }

    /// @notice Spendable credits of each (account, id) pair.
    function balanceOfBatch(address[] calldata accounts, uint256[] calldata ids)
        external
        view
        returns (uint256[] memory balances)
    {
        if (accounts.length != ids.length) revert CreditsLengthMismatch(accounts.length, ids.length);
        balances = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            balances[i] = _accounts[accounts[i]][ids[i]].balance;
        }
    }

    /// @notice Always false: nobody can move anyone's credits.
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @notice Metadata URI (same for every id, with the `{id}` placeholder).
    function uri(uint256) external view returns (string memory) {
        return _uri;
    }

    /// @inheritdoc IEnergyCredits
    function tokenOf(uint256 id) external view returns (address) {
        return _credits[id].token;
    }

    /// @notice Whether credit `id` can be bought now.
    function salesOpen(uint256 id) external view returns (bool) {
        return _credits[id].salesOpen;
    }

    /// @notice Smallest units per cap unit of credit `id` (10**(decimals - 2)).
    function capUnitOf(uint256 id) external view returns (uint256) {
        return _credits[id].capUnit;
    }

    /// @inheritdoc IEnergyCredits
    function accountOf(address driver, uint256 id) external view returns (Account memory) {
        return _accounts[driver][id];
    }

    /// @inheritdoc IEnergyCredits
    function mandateOf(address driver, uint256 id) external view returns (Mandate memory m) {
        Account memory a = _accounts[driver][id];
        uint256 unit = _credits[id].capUnit;
        m.perSessionCap = uint256(a.perSessionCapUnits) * unit;
        m.dailyCap = uint256(a.dailyCapUnits) * unit;
        m.validUntil = uint256(a.revokedFromDay) * 1 days;
    }

    /// @inheritdoc IEnergyCredits
    function redemptionOf(address driver, uint256 id) external view returns (Redemption memory) {
        return _redemptions[driver][id];
    }

    /// @inheritdoc IEnergyCredits
    function timing() external view returns (Timing memory) {
        return _timing;
    }

    function supportsInterface(bytes4 interfaceId) public view virtual override(AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IERC1155).interfaceId || interfaceId == type(IERC1155MetadataURI).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internal
    /// @inheritdoc IEnergyCredits
    function consentOf(address driver, address operator) external view returns (bool) {
        return _consentUntil[driver][operator] > block.timestamp;
    }

    /// @notice Paused: the guardian paused less than `pauseEndsAt` ago and governance has not
    ///         unpaused. A pause ends by itself at `pauseEndsAt` (MAX_PAUSE after it began,
    ///         unless governance moved it): no key can keep the ledger frozen against a vote.
    function paused() public view override returns (bool) {
        return pausedAt != 0 && block.timestamp < pauseEndsAt;
    }

    /// @dev Paused seconds since the ledger began, the open pause counted up to now or expiry.
    function _pausedSoFar() internal view returns (uint64) {
        (uint256 from, uint256 to) = _openSpan();
        return pausedTotal + uint64(to - from);
    }

    /// @dev Paused seconds after time `t` (up to now): the clocks of sessions, redemptions and
    ///      mandate revocations stop while settlement cannot run. Pauses are rare (each ends by
    ///      a vote or expiry, with a cooldown before the next), so the walk back is short.
    function _pausedSince(uint256 t) internal view returns (uint256 total) {
        (uint256 from, uint256 to) = _openSpan();
        if (to > t) total = to - (from > t ? from : t);
        for (uint256 i = _pauseSpans.length; i != 0; --i) {
            PauseSpan memory p = _pauseSpans[i - 1];
            if (p.to <= t) break;
            total += p.to - (p.from > t ? p.from : t);
        }
    }

    /// @dev The open pause as [from, to): to = min(now, expiry); (0, 0) when none.
    function _openSpan() internal view returns (uint256 from, uint256 to) {
        from = pausedAt;
        if (from == 0) return (0, 0);
        to = block.timestamp < pauseEndsAt ? block.timestamp : pauseEndsAt;
    }

    /// @dev Close the open pause (ended by governance, or expired) into the log; the guardian
    ///      may pause again PAUSE_COOLDOWN after it ended. False when none was open.
    function _closePause() internal returns (bool) {
        (uint256 from, uint256 to) = _openSpan();
        if (from == 0) return false;
        _pauseSpans.push(PauseSpan(uint64(from), uint64(to)));
        pausedTotal += uint64(to - from);
        pausedAt = 0;
        pauseEndsAt = 0;
        pausableAgainAt = uint64(to + PAUSE_COOLDOWN);
        return true;
    }

    function _setTiming(Timing memory t) internal {
        bool ok = t.maxSettlementDelay >= MIN_SETTLEMENT_DELAY && t.maxSettlementDelay <= MAX_SETTLEMENT_DELAY
            && t.maxSessionDuration >= MIN_SESSION_DURATION && t.maxSessionDuration <= MAX_SESSION_DURATION
            && uint256(t.redemptionDelay) >= uint256(t.maxSettlementDelay) + t.maxSessionDuration
            && t.redemptionDelay <= MAX_REDEMPTION_DELAY;
        if (!ok) revert CreditsTimingOutOfBounds(t.redemptionDelay, t.maxSettlementDelay, t.maxSessionDuration);
        _timing = t;
        emit TimingChanged(t.redemptionDelay, t.maxSettlementDelay, t.maxSessionDuration);
    }

    /// @dev ERC-1155 acceptance check for credits minted to a contract; callers run it after all
    ///      effects and under the reentrancy guard.
    function _checkReceiver(address operator, address to, uint256 id, uint256 value) internal {
        if (to.code.length == 0) return;
        try IERC1155Receiver(to).onERC1155Received(operator, address(0), id, value, "") returns (bytes4 ret) {
            if (ret != IERC1155Receiver.onERC1155Received.selector) revert CreditsReceiverRejected(to);
        } catch {
            revert CreditsReceiverRejected(to);
        }
    }
}
