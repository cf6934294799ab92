// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;


/// @title IEnergyCredits
/// @notice ERC-1155 energy credits: id = one accepted stablecoin, 1 credit = 1 smallest unit,
///         backed 1:1 by that stablecoin in escrow. Not freely transferable: credits only move
///         by purchase, settlement and redemption. Payees are paid by pull.
interface IEnergyCredits {
    /// @notice A closed pause interval [from, to) in block time.
    struct PauseSpan {
        uint64 from;
        uint64 to;
    }

    /// @notice A driver's ledger entry for one credit id, in one storage slot: the balance, the
    ///         mandate (what stations may take per session and per UTC day, in cap units of
    ///         10**(decimals - 2), i.e. cents of a dollar coin) and what was spent today.
    /// @param day The UTC day `spentUnits` counts for.
    /// @param spentUnits Spent on `day`, each session rounded up to whole cap units.
    /// @param anyStation The driver let every station charge it (an explicit choice, off by
    ///        default); otherwise only stations of operators it consented to (`consentOf`).
    /// @param revokedFromDay 0 while the mandate is open; else sessions starting on or after
    ///        this UTC day are not authorized.
    struct Account {
        uint96 balance;
        uint24 day;
        uint40 spentUnits;
        bool anyStation;
        uint32 perSessionCapUnits;
        uint32 dailyCapUnits;
        uint24 revokedFromDay;
    }

    /// @notice A mandate in the credit's smallest units (what `mandateOf` returns).
    /// @param validUntil 0 while open-ended, else the first instant it no longer covers.
    struct Mandate {
        uint256 perSessionCap;
        uint256 dailyCap;
        uint256 validUntil;
    }

    /// @notice A pending redemption: credits taken out of the balance, paid out after a delay.
    struct Redemption {
        uint96 amount;
        uint40 unlockAt;
        uint64 pausedMark;
    }

    /// @notice The timing rules settlement and redemption share (seconds).
    struct Timing {
        uint40 redemptionDelay;
        uint40 maxSettlementDelay;
        uint40 maxSessionDuration;
    }

    error CreditsUnknownCredit(uint256 id);
    error CreditsTokenAlreadyListed(address token, uint256 id);
    error CreditsZeroAmount();
    error CreditsZeroAddress();
    error CreditsNothingArrived(uint256 id);
    error CreditsAmountTooLarge(uint256 amount, uint256 max);
    error CreditsInsufficientBalance(address driver, uint256 id, uint256 balance, uint256 needed);
    error CreditsNonTransferable();
    error CreditsNoRedemption(address driver, uint256 id);
    error CreditsRedemptionLocked(address driver, uint256 id, uint256 unlockAt);
    error CreditsNothingOwed(address payee, uint256 id);
    error CreditsMandateDecrease(uint256 perSessionCap, uint256 dailyCap);
    error CreditsMandateRevoking(address driver, uint256 id, uint256 validUntil);
    error CreditsNoMandate(address driver, uint256 id);
    error CreditsIdTokenTaken(bytes32 idTokenHash, address driver);
    error CreditsNotIdTokenOwner(bytes32 idTokenHash, address caller);
    error CreditsTimingOutOfBounds(uint256 redemptionDelay, uint256 maxSettlementDelay, uint256 maxSessionDuration);
    error CreditsReceiverRejected(address to);
    error CreditsCapTooLarge(uint256 cap, uint256 max);
    /// @notice `balanceOfBatch` got arrays of different lengths.
    error CreditsLengthMismatch(uint256 accounts, uint256 ids);
    /// @notice A driver cannot be its own referrer.
    error CreditsSelfReferral(address driver);
    /// @notice Tokens with more than 20 decimals are not supported (the cap unit would not fit).
    error CreditsUnsupportedDecimals(uint8 decimals);
    /// @notice A new mandate after a revocation waits until every session begun under the old
    ///         one is past settlement.
    error CreditsMandateSettling(address driver, uint256 id, uint256 readyAt);
    /// @notice The guardian paused less than PAUSE_COOLDOWN ago; it may pause again at `at`.
    error CreditsPauseCoolingDown(uint256 at);
    /// @notice A pause may be extended to a future time at most MAX_PAUSE from now.
    error CreditsPauseOutOfBounds(uint256 endsAt, uint256 max);

    /// @notice Governance accepted `token` as credit id `id`.
    event CreditListed(uint256 indexed id, address indexed token, uint8 decimals);
    /// @notice Governance stopped (false) or resumed (true) sales of credit `id`.
    event CreditSalesChanged(uint256 indexed id, bool open);
    /// @notice `buyer` paid and `to` received `credits` of `id` (what actually arrived).
    event CreditsPurchased(address indexed buyer, address indexed to, uint256 indexed id, uint256 credits);
    /// @notice `driver` moved `amount` into redemption, payable at `unlockAt`.
    event RedemptionRequested(address indexed driver, uint256 indexed id, uint256 amount, uint256 unlockAt);
    /// @notice `driver` cancelled a pending redemption of `amount`, which returned to the balance.
    event RedemptionCancelled(address indexed driver, uint256 indexed id, uint256 amount);
    /// @notice `driver` was paid `amount` of stablecoin `id` for a matured redemption.
    event RedemptionCompleted(address indexed driver, uint256 indexed id, uint256 amount);
    /// @notice `driver` set its mandate for credit `id`.
    event MandateSet(address indexed driver, uint256 indexed id, uint256 perSessionCap, uint256 dailyCap);
    /// @notice `driver` revoked its mandate for `id`; sessions started before `validUntil` still settle.
    event MandateRevoked(address indexed driver, uint256 indexed id, uint256 validUntil);
    /// @notice `driver` bound (or unbound, with driver zero) an RFID/idToken hash.
    event IdTokenBound(bytes32 indexed idTokenHash, address indexed driver);
    /// @notice `driver` let stations of `operator` charge it (`allowed`), or, with operator zero,
    ///         every station for credit `id` (per credit id; operator consents cover every id).
    event ConsentSet(address indexed driver, uint256 indexed id, address indexed operator, bool allowed);
    /// @notice `driver` chose `referrer` (zero: none) to receive the referral share of its sessions.
    event ReferrerSet(address indexed driver, address indexed referrer);
    /// @notice `payee` withdrew `amount` of stablecoin `id` to `to`.
    event PayoutWithdrawn(address indexed payee, uint256 indexed id, address indexed to, uint256 amount);
    /// @notice The timing rules changed.
    event TimingChanged(uint256 redemptionDelay, uint256 maxSettlementDelay, uint256 maxSessionDuration);
    /// @notice The treasury payee changed.
    event TreasuryChanged(address indexed treasury);
    /// @notice Governance moved the open pause's end.
    event PauseExtended(uint256 endsAt);

    /// @notice Buy `amount` of stablecoin `id` worth of credits for `to`; credits what arrived.
    function buy(uint256 id, uint256 amount, address to) external returns (uint256 credited);

    /// @notice `buy` after an EIP-2612 permit (a failed permit is ignored if allowance suffices).
    function buyWithPermit(
        uint256 id,
        uint256 amount,
        address to,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 credited);

    /// @notice Move `amount` credits into redemption; settlement may still draw on them.
    function requestRedemption(uint256 id, uint256 amount) external;

    /// @notice Return a pending redemption to the balance.
    function cancelRedemption(uint256 id) external;

    /// @notice Pay out a matured redemption in the stablecoin.
    function completeRedemption(uint256 id) external returns (uint256 paid);

    /// @notice Allow stations to charge up to these caps (smallest units, rounded down to whole
    ///         cap units); caps can only rise while the mandate is open.
    function setMandate(uint256 id, uint96 perSessionCap, uint96 dailyCap) external;

    /// @notice Revoke the mandate after the redemption delay (sessions begun before still settle).
    function revokeMandate(uint256 id) external;

    /// @notice Bind an RFID/idToken hash to the caller (so a site gateway can map cards to drivers).
    function bindIdToken(bytes32 idTokenHash) external;

    /// @notice Release an idToken hash the caller holds.
    function unbindIdToken(bytes32 idTokenHash) external;

    /// @notice Let the stations of `operator` charge the caller within its mandates (or stop
    ///         them: sessions already begun are not protected, as with a revoked mandate);
    ///         `operator` zero means every station, for credit `id` only (an explicit choice).
    function setConsent(uint256 id, address operator, bool allowed) external;

    /// @notice Whether `driver` consents now to stations of `operator` (any credit id); after a
    ///         withdrawal, sessions it began there before withdrawing are still charged.
    function consentOf(address driver, address operator) external view returns (bool);

    /// @notice Choose who receives the referral share of the caller's sessions (zero: nobody;
    ///         the share then goes to the treasury). Only this choice counts: a receipt naming
    ///         another referrer, or the station's operator, pays that share to the treasury.
    function setReferrer(address referrer) external;

    /// @notice The referrer `driver` chose (zero: none).
    function referrerOf(address driver) external view returns (address);

    /// @notice Withdraw the caller's owed payouts in stablecoin `id` to `to`.
    function withdrawPayout(uint256 id, address to) external returns (uint256 amount);

    /// @notice The stablecoin behind credit id `id`.
    function tokenOf(uint256 id) external view returns (address);

    /// @notice A driver's account for `id`.
    function accountOf(address driver, uint256 id) external view returns (Account memory);

    /// @notice A driver's mandate for `id`.
    function mandateOf(address driver, uint256 id) external view returns (Mandate memory);

    /// @notice A driver's pending redemption for `id`.
    function redemptionOf(address driver, uint256 id) external view returns (Redemption memory);

    /// @notice Stablecoin `id` owed to `payee`.
    function owed(address payee, uint256 id) external view returns (uint256);

    /// @notice Outstanding (unspent, unredeemed) credits of `id`.
    function totalSupply(uint256 id) external view returns (uint256);

    /// @notice Credits of `id` waiting in redemption.
    function totalPendingRedemptions(uint256 id) external view returns (uint256);

    /// @notice Stablecoin `id` owed to all payees.
    function totalOwed(uint256 id) external view returns (uint256);

    /// @notice The driver an idToken hash is bound to.
    function driverOfIdToken(bytes32 idTokenHash) external view returns (address);

    /// @notice The timing rules.
    function timing() external view returns (Timing memory);
}
