// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IEnergyCredits} from "../interfaces/IEnergyCredits.sol";
import {IRewardsEngine} from "../interfaces/IRewardsEngine.sol";
import {IStationRegistry} from "../interfaces/IStationRegistry.sol";
import {SessionSettlement} from "../settlement/SessionSettlement.sol";

/// @title EnergyCredits
/// @notice ERC-1155 energy credits backed 1:1 by stablecoins in escrow, with batch settlement
///         of charging sessions built in. Credits are not transferable: they are minted on
///         purchase and burned by settlement or redemption. Payees withdraw (pull) in the
///         stablecoin of the credit id.
/// @dev Pause stops buying, settling and completing redemptions; withdrawing payouts that are
///      already owed, cancelling a redemption and changing mandates stay open
///      (docs/security.md, "Pause").
contract EnergyCredits is SessionSettlement {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- constructor
    constructor(
        address admin,
        address treasury_,
        Timing memory timing_,
        string memory uri_,
        IStationRegistry registry_,
        IRewardsEngine rewards_,
        uint16 operatorShareBps_,
        uint16 referrerShareBps_,
        uint16 stationEpochCapBps_
    ) SessionSettlement(registry_, rewards_, operatorShareBps_, referrerShareBps_, stationEpochCapBps_) {
        if (admin == address(0) || treasury_ == address(0)) revert CreditsZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        treasury = treasury_;
        _uri = uri_;
        _setTiming(timing_);
    }

    // ---------------------------------------------------------------- external: drivers
    /// @inheritdoc IEnergyCredits
    function buy(uint256 id, uint256 amount, address to) public nonReentrant whenNotPaused returns (uint256 credited) {
        if (amount == 0) revert CreditsZeroAmount();
        if (to == address(0)) revert CreditsZeroAddress();
        Credit memory c = _credits[id];
        if (!c.salesOpen) revert CreditsUnknownCredit(id);
        IERC20 token = IERC20(c.token);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        // Fee-on-transfer tokens: credit only what actually arrived.
        credited = token.balanceOf(address(this)) - before;
        if (credited == 0) revert CreditsNothingArrived(id);
        Account storage a = _accounts[to][id];
        uint256 newBalance = uint256(a.balance) + credited;
        if (newBalance > type(uint96).max) revert CreditsAmountTooLarge(newBalance, type(uint96).max);
        a.balance = uint96(newBalance);
        totalSupply[id] += credited;
        emit TransferSingle(msg.sender, address(0), to, id, credited);
        emit CreditsPurchased(msg.sender, to, id, credited);
        _checkReceiver(msg.sender, to, id, credited);
    }

    /// @inheritdoc IEnergyCredits
    function buyWithPermit(
        uint256 id,
        uint256 amount,
        address to,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256) {
        address token = _credits[id].token;
        if (token == address(0)) revert CreditsUnknownCredit(id);
        // A permit front-run by someone else (same signature used first) must not block the buy:
        // if it failed, `buy` still succeeds when the allowance is in place, and fails otherwise.
        try IERC20Permit(token).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        return buy(id, amount, to);
    }

    /// @inheritdoc IEnergyCredits
    function requestRedemption(uint256 id, uint256 amount) external nonReentrant {
        if (amount == 0) revert CreditsZeroAmount();
        Account storage a = _accounts[msg.sender][id];
        if (a.balance < amount) revert CreditsInsufficientBalance(msg.sender, id, a.balance, amount);
        a.balance -= uint96(amount);
        totalSupply[id] -= amount;
        Redemption storage r = _redemptions[msg.sender][id];
        r.amount += uint96(amount); // <= credits ever bought by this driver, each < 2**96 in total
        // Every request restarts the clock for the whole pending amount.
        uint256 unlockAt = block.timestamp + _timing.redemptionDelay;
        r.unlockAt = uint40(unlockAt);
        r.pausedMark = _pausedSoFar();
        totalPendingRedemptions[id] += amount;
        emit TransferSingle(msg.sender, msg.sender, address(0), id, amount);
        emit RedemptionRequested(msg.sender, id, amount, unlockAt);
    }

    /// @inheritdoc IEnergyCredits
    function cancelRedemption(uint256 id) external nonReentrant {
        uint256 amount = _redemptions[msg.sender][id].amount;
        if (amount == 0) revert CreditsNoRedemption(msg.sender, id);
        delete _redemptions[msg.sender][id];
        totalPendingRedemptions[id] -= amount;
        Account storage a = _accounts[msg.sender][id];
        a.balance += uint96(amount); // it left this balance before
        totalSupply[id] += amount;
        emit TransferSingle(msg.sender, address(0), msg.sender, id, amount);
        emit RedemptionCancelled(msg.sender, id, amount);
        _checkReceiver(msg.sender, msg.sender, id, amount);
    }

    /// @inheritdoc IEnergyCredits
    /// @dev The delay is extended by any time spent paused since the request, so a pause never
    ///      shortens the window in which authorized sessions may still settle.
    function completeRedemption(uint256 id) external nonReentrant whenNotPaused returns (uint256 paid) {
        Redemption memory r = _redemptions[msg.sender][id];
        if (r.amount == 0) revert CreditsNoRedemption(msg.sender, id);
        uint256 unlockAt = uint256(r.unlockAt) + (_pausedSoFar() - r.pausedMark);
        if (block.timestamp < unlockAt) revert CreditsRedemptionLocked(msg.sender, id, unlockAt);
        paid = r.amount;
        delete _redemptions[msg.sender][id];
        totalPendingRedemptions[id] -= paid;
        emit RedemptionCompleted(msg.sender, id, paid);
        IERC20(_credits[id].token).safeTransfer(msg.sender, paid);
    }

    /// @inheritdoc IEnergyCredits
    function setMandate(uint256 id, uint96 perSessionCap, uint96 dailyCap) external {
        uint256 unit = _credits[id].capUnit;
        if (unit == 0) revert CreditsUnknownCredit(id);
        uint256 perSession = perSessionCap / unit;
        uint256 daily = dailyCap / unit;
        if (daily > type(uint32).max) revert CreditsCapTooLarge(dailyCap, uint256(type(uint32).max) * unit);
        if (perSession == 0 || perSession > daily) revert CreditsMandateDecrease(perSessionCap, dailyCap);
        Account storage a = _accounts[msg.sender][id];
        if (a.revokedFromDay != 0) {
            _checkRevocationSettled(a, id);
            a.revokedFromDay = 0;
        } else if (perSession < a.perSessionCapUnits || daily < a.dailyCapUnits) {
            // Lowering an open mandate at once could dodge payment for a session in progress.
            revert CreditsMandateDecrease(perSessionCap, dailyCap);
        }
        a.perSessionCapUnits = uint32(perSession);
        a.dailyCapUnits = uint32(daily);
        emit MandateSet(msg.sender, id, perSession * unit, daily * unit);
    }

    /// @inheritdoc IEnergyCredits
    /// @dev Takes effect at the first UTC midnight at least one redemption delay away.
    function revokeMandate(uint256 id) external {
        Account storage a = _accounts[msg.sender][id];
        if (a.dailyCapUnits == 0 || a.revokedFromDay != 0) revert CreditsNoMandate(msg.sender, id);
        uint256 day = (block.timestamp + _timing.redemptionDelay + 1 days - 1) / 1 days;
        a.revokedFromDay = uint24(day);
        emit MandateRevoked(msg.sender, id, day * 1 days);
    }

    /// @inheritdoc IEnergyCredits
    function bindIdToken(bytes32 idTokenHash) external {
        address holder = driverOfIdToken[idTokenHash];
        if (holder != address(0)) revert CreditsIdTokenTaken(idTokenHash, holder);
        driverOfIdToken[idTokenHash] = msg.sender;
        emit IdTokenBound(idTokenHash, msg.sender);
    }

    /// @inheritdoc IEnergyCredits
    /// @dev Withdrawing consent to an operator binds sessions that start later; sessions the
    ///      driver already began there are still owed. "Any station" is narrowed only like a
    ///      mandate is lowered: after a revocation has settled (no session of it can still come).
    function setConsent(uint256 id, address operator, bool allowed) external {
        if (operator == address(0)) {
            Account storage a = _accounts[msg.sender][id];
            if (!allowed && a.anyStation && a.dailyCapUnits != 0) {
                if (a.revokedFromDay == 0) revert CreditsMandateDecrease(0, 0);
                _checkRevocationSettled(a, id);
            }
            a.anyStation = allowed;
        } else {
            _consentUntil[msg.sender][operator] = allowed ? type(uint64).max : block.timestamp;
        }
        emit ConsentSet(msg.sender, id, operator, allowed);
    }

    /// @inheritdoc IEnergyCredits
    function setReferrer(address referrer) external {
        if (referrer == msg.sender) revert CreditsSelfReferral(msg.sender);
        referrerOf[msg.sender] = referrer;
        emit ReferrerSet(msg.sender, referrer);
    }

    /// @inheritdoc IEnergyCredits
    function unbindIdToken(bytes32 idTokenHash) external {
        if (driverOfIdToken[idTokenHash] != msg.sender) revert CreditsNotIdTokenOwner(idTokenHash, msg.sender);
        delete driverOfIdToken[idTokenHash];
        emit IdTokenBound(idTokenHash, address(0));
    }

    // ---------------------------------------------------------------- external: payees
    /// @inheritdoc IEnergyCredits
    /// @dev Open while paused: what is owed was earned by settled, signed sessions. A payee the
    ///      stablecoin blocks can name another recipient; nobody else is affected.
    function withdrawPayout(uint256 id, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert CreditsZeroAddress();
        amount = owed[msg.sender][id];
        if (amount == 0) revert CreditsNothingOwed(msg.sender, id);
        owed[msg.sender][id] = 0;
        totalOwed[id] -= amount;
        emit PayoutWithdrawn(msg.sender, id, to, amount);
        IERC20(_credits[id].token).safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- external: governance
    /// @notice Accept `token` as a new credit id (ids count up from 1).
    function listCredit(address token) external onlyRole(PARAMS_ROLE) returns (uint256 id) {
        if (token == address(0)) revert CreditsZeroAddress();
        if (idOfToken[token] != 0) revert CreditsTokenAlreadyListed(token, idOfToken[token]);
        uint8 decimals = IERC20Metadata(token).decimals();
        if (decimals > 20) revert CreditsUnsupportedDecimals(decimals); // 10**18 < 2**64
        id = ++creditCount;
        uint64 capUnit = decimals > 2 ? uint64(10 ** (decimals - 2)) : 1;
        _credits[id] = Credit({token: token, decimals: decimals, salesOpen: true, capUnit: capUnit});
        idOfToken[token] = id;
        emit CreditListed(id, token, decimals);
        emit CreditSalesChanged(id, true);
    }

    /// @notice Stop or resume sales of credit `id`; held credits still settle and redeem.
    function setSalesOpen(uint256 id, bool open) external onlyRole(PARAMS_ROLE) {
        if (_credits[id].token == address(0)) revert CreditsUnknownCredit(id);
        _credits[id].salesOpen = open;
        emit CreditSalesChanged(id, open);
    }

    /// @notice Governance: redemption delay, settlement window and longest session.
    /// @dev redemptionDelay >= maxSettlementDelay + maxSessionDuration, so a session authorized
    ///      before a redemption request can always still be paid.
    function setTiming(Timing calldata timing_) external onlyRole(PARAMS_ROLE) {
        _setTiming(timing_);
    }

    function setTreasury(address treasury_) external onlyRole(PARAMS_ROLE) {
        if (treasury_ == address(0)) revert CreditsZeroAddress();
        treasury = treasury_;
        emit TreasuryChanged(treasury_);
    }

    /// @notice Guardian: stop buying, settling and completing redemptions for at most
    ///         MAX_PAUSE, and not again within PAUSE_COOLDOWN of the last pause's end.
    function pause() external onlyRole(PAUSER_ROLE) whenNotPaused {
        _closePause(); // an expired pause, if any, goes to the log first
        if (block.timestamp < pausableAgainAt) revert CreditsPauseCoolingDown(pausableAgainAt);
        pausedAt = uint64(block.timestamp);
        pauseEndsAt = uint64(block.timestamp + MAX_PAUSE);
        emit Paused(msg.sender);
    }

    /// @notice Governance (timelock) only: resume before the pause expires.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) whenPaused {
        _closePause();
        emit Unpaused(msg.sender);
    }

    /// @notice Governance (timelock) only: move the open pause's end to `endsAt`, at most
    ///         MAX_PAUSE from now (a vote can keep a real emergency paused; no key alone can).
    function extendPause(uint64 endsAt) external onlyRole(DEFAULT_ADMIN_ROLE) whenPaused {
        if (endsAt <= block.timestamp || endsAt > block.timestamp + MAX_PAUSE) {
            revert CreditsPauseOutOfBounds(endsAt, block.timestamp + MAX_PAUSE);
        }
        pauseEndsAt = endsAt;
        emit PauseExtended(endsAt);
    }

    /// @dev Sessions begun before a revocation's day may settle until the session and settlement
    ///      windows have passed, extended by any time settlement was paused meanwhile; only then
    ///      may the driver lower its caps or narrow its consent.
    function _checkRevocationSettled(Account storage a, uint256 id) internal view {
        uint256 until = uint256(a.revokedFromDay) * 1 days;
        if (block.timestamp < until) revert CreditsMandateRevoking(msg.sender, id, until);
        uint256 window = uint256(_timing.maxSessionDuration) + _timing.maxSettlementDelay;
        // A session ending at e settles until e + delay + paused time after e: every such
        // session (e >= until - window, or earlier and bounded by that) is covered below.
        uint256 readyAt = until + window + _pausedSince(until - window);
        if (block.timestamp < readyAt) revert CreditsMandateSettling(msg.sender, id, readyAt);
    }
}
