// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IRewardsEngine} from "../interfaces/IRewardsEngine.sol";
import {ISessionSettlement} from "../interfaces/ISessionSettlement.sol";
import {IStationRegistry} from "../interfaces/IStationRegistry.sol";
import {ReceiptLib} from "../libraries/ReceiptLib.sol";
import {CreditLedger} from "../tokens/CreditLedger.sol";

/// @title SessionSettlement
/// @notice Settles batches of station-signed receipts against the credit ledger. One bad
///         receipt is skipped with a `ReceiptRejected` event; the others settle.
/// @dev Part of the EnergyCredits contract: settling is a write to the driver's ledger entry,
///      and doing it in place (not through a call to a separate ledger) saves ~8k gas a session.
///      Invariants: a (station, session) pair is paid at most once (bitmap, 256 per word); a
///      receipt is paid only if signed by the station's current key, priced by its tariff at
///      session start, physically plausible and within the driver's mandate; the payees' shares
///      sum exactly to the cost; reward weight is added only to the current epoch.
///      Gas: the batch caches the current (station, credit id) and accumulates the operator's
///      and treasury's payouts and the reward weight, writing them once per run.
abstract contract SessionSettlement is CreditLedger, ISessionSettlement {
    using ReceiptLib for ReceiptLib.SessionReceipt;

    // ---------------------------------------------------------------- constants and roles
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    /// @notice Held by the OracleCommittee: publishes its threshold and members.
    bytes32 public constant COMMITTEE_ROLE = keccak256("COMMITTEE_ROLE");
    bytes32 internal constant BATCH_TYPEHASH = keccak256("SettleBatch(uint64 nonce,uint32 round,bytes32 batchHash)");

    uint256 internal constant BPS = 10_000;
    uint256 public constant MIN_OPERATOR_SHARE_BPS = 5_000;
    uint256 public constant MAX_REFERRER_SHARE_BPS = 2_000;
    uint256 public constant MIN_STATION_CAP_BPS = 1_000;
    uint256 public constant MAX_STATION_CAP_BPS = 10_000;
    uint256 internal constant EPOCH_LENGTH = 1 weeks;

    // ---------------------------------------------------------------- immutables
    IStationRegistry public immutable registry;
    IRewardsEngine public immutable rewards;
    uint256 internal immutable _rewardsGenesis;
    uint256 internal immutable _cachedChainId;
    bytes32 internal immutable _cachedDomainSeparator;

    // ---------------------------------------------------------------- storage
    uint16 public operatorShareBps;
    uint16 public referrerShareBps;
    uint16 public stationEpochCapBps;
    /// @inheritdoc ISessionSettlement
    /// @dev In the shares' slot, which every batch reads anyway: the nonce costs one write.
    uint64 public batchNonce;
    /// @inheritdoc ISessionSettlement
    bytes32 public committeeHash;
    mapping(bytes32 stationId => mapping(uint256 word => uint256 bits)) internal _settled;
    mapping(uint256 epoch => mapping(bytes32 stationId => StationEpoch)) internal _stationEpochs;
    /// @inheritdoc ISessionSettlement
    mapping(uint256 epoch => uint256) public totalEpochWeight;

    /// @dev Per-batch cache: the current (station, credit id) and what accumulates for them.
    struct Ctx {
        bytes32 stationId;
        uint256 creditId;
        IStationRegistry.SettlementView station;
        uint256 capUnit;
        uint256 capWh;
        StationEpoch stationEpoch;
        uint256 weightInRun;
        bool stationEpochChanged;
        uint256 operatorOwed;
        uint256 treasuryOwed;
        uint256 retainedInRun;
        uint256 costInRun;
        uint256 burnedInRun;
        uint256 totalCost;
        uint256 epoch;
        uint256 maxSessionDuration;
        uint256 maxSettlementDelay;
        uint256 operatorBps;
        uint256 referrerBps;
        address treasury;
        bytes32 separator;
    }

    // ---------------------------------------------------------------- constructor
    constructor(
        IStationRegistry registry_,
        IRewardsEngine rewards_,
        uint16 operatorShareBps_,
        uint16 referrerShareBps_,
        uint16 stationEpochCapBps_
    ) {
        if (address(registry_) == address(0) || address(rewards_) == address(0)) revert CreditsZeroAddress();
        registry = registry_;
        rewards = rewards_;
        _rewardsGenesis = rewards_.genesis();
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = ReceiptLib.domainSeparator(address(this));
        _setShares(operatorShareBps_, referrerShareBps_);
        _setStationEpochCap(stationEpochCapBps_);
    }

    // ---------------------------------------------------------------- external
    /// @inheritdoc ISessionSettlement
    function settlePacked(bytes calldata packed)
        external
        onlyRole(ORACLE_ROLE)
        nonReentrant
        returns (uint256 settled)
    {
        settled = _settlePacked(packed, _begin());
    }

    /// @inheritdoc ISessionSettlement
    /// @dev The committee's check is here, in the ledger, and not in a contract of its own: the
    ///      call between them, the copy of the batch into it and a role read cost ~7,000 gas a
    ///      batch; the members come in calldata against one stored hash (not one cold storage
    ///      read per signer). Effects first: the nonce is spent whatever the batch holds.
    function settleSigned(
        bytes calldata packed,
        uint64 nonce,
        uint32 round,
        bytes calldata committee,
        bytes calldata signatures
    ) external nonReentrant returns (uint256 settled) {
        Ctx memory ctx = _begin();
        uint64 expected = batchNonce;
        if (nonce != expected) revert SettlementWrongNonce(nonce, expected);
        bytes32 typehash = BATCH_TYPEHASH;
        bytes32 committeeHash_;
        bytes32 batchHash;
        bytes32 structHash;
        uint256 k;
        assembly ("memory-safe") {
            // Scratch space past the free memory pointer (not moved): the receipts' buffer
            // reuses it, so the batch's copy costs no memory beyond its own.
            let ptr := mload(0x40)
            calldatacopy(ptr, committee.offset, committee.length)
            committeeHash_ := keccak256(ptr, committee.length)
            calldatacopy(ptr, packed.offset, packed.length)
            batchHash := keccak256(ptr, packed.length)
            mstore(ptr, typehash)
            mstore(add(ptr, 32), nonce)
            mstore(add(ptr, 64), round)
            mstore(add(ptr, 96), batchHash)
            structHash := keccak256(ptr, 128)
            k := byte(0, calldataload(committee.offset)) // the threshold (OracleCommittee: >= 1)
        }
        if (committeeHash_ != committeeHash) revert SettlementWrongCommittee();
        uint256 signers = _countSigners(ReceiptLib.digest(ctx.separator, structHash), committee, signatures);
        if (signers < k) revert SettlementTooFewSigners(signers, k);
        batchNonce = nonce + 1;
        emit BatchSigned(nonce, batchHash);
        settled = _settlePacked(packed, ctx);
    }

    /// @inheritdoc ISessionSettlement
    function setCommittee(bytes32 committeeHash_) external onlyRole(COMMITTEE_ROLE) {
        committeeHash = committeeHash_;
        emit CommitteeSet(committeeHash_);
    }

    /// @notice Governance: payment split in basis points; the treasury gets the rest.
    function setShares(uint16 operatorBps, uint16 referrerBps) external onlyRole(PARAMS_ROLE) {
        _setShares(operatorBps, referrerBps);
    }

    /// @notice Governance: reward cap per station and epoch, as a share of rated power x epoch.
    function setStationEpochCap(uint16 capBps) external onlyRole(PARAMS_ROLE) {
        _setStationEpochCap(capBps);
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc ISessionSettlement
    function stationEpoch(uint256 epoch, bytes32 stationId) external view returns (StationEpoch memory) {
        return _stationEpochs[epoch][stationId];
    }

    /// @inheritdoc ISessionSettlement
    function isSettled(bytes32 stationId, uint64 sessionId) external view returns (bool) {
        return _settled[stationId][sessionId >> 8] & (1 << (sessionId & 0xff)) != 0;
    }

    /// @inheritdoc ISessionSettlement
    function domainSeparator() public view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : ReceiptLib.domainSeparator(address(this));
    }

    // ---------------------------------------------------------------- internal
    /// @dev The settlement loop both entry points share: each group, each receipt decoded into
    ///      one buffer and settled or rejected; the bytes must parse to the end.
    function _settlePacked(bytes calldata packed, Ctx memory ctx) internal returns (uint256 settled) {
        uint256 buf = ReceiptLib.newBuffer();
        uint256 start;
        uint256 end;
        assembly ("memory-safe") {
            start := packed.offset
            end := add(start, packed.length)
        }
        uint256 p = start;
        uint256 n;
        while (p < end) {
            uint256 count;
            bool ok;
            uint256 at = p;
            (ok, p, count) = ReceiptLib.unpackGroup(buf, p, end);
            if (!ok) revert ReceiptLib.ReceiptBadEncoding(at - start);
            n += count;
            for (; count != 0; --count) {
                bytes32 r;
                bytes32 vs;
                at = p;
                (ok, p, r, vs) = ReceiptLib.unpackReceipt(buf, p, end);
                if (!ok) revert ReceiptLib.ReceiptBadEncoding(at - start);
                settled += _outcome(buf, _settleOne(buf, r, vs, ctx));
            }
        }
        _finish(ctx, settled, n);
    }

    /// @dev Members that signed `digest`: signatures 64 bytes each (EIP-2098 r, vs, as the
    ///      receipts'), in the order of the members in `committee` (byte 0 the threshold, then
    ///      20 bytes a member). The walk only moves forward, so no member counts twice, and a
    ///      signature that is not a later member's reverts.
    function _countSigners(bytes32 digest, bytes calldata committee, bytes calldata signatures)
        internal
        pure
        returns (uint256 n)
    {
        if (signatures.length & 63 != 0) revert SettlementBadSignatures();
        n = signatures.length >> 6;
        uint256 next;
        uint256 end;
        assembly ("memory-safe") {
            next := add(committee.offset, 1)
            end := add(committee.offset, committee.length)
        }
        for (uint256 i; i < n; ++i) {
            bytes32 r;
            bytes32 vs;
            assembly ("memory-safe") {
                let sig := add(signatures.offset, shl(6, i))
                r := calldataload(sig)
                vs := calldataload(add(sig, 32))
            }
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, r, vs);
            if (err != ECDSA.RecoverError.NoError) revert SettlementBadSignatures();
            address member;
            do {
                if (next + 20 > end) revert SettlementBadSignatures();
                assembly ("memory-safe") {
                    member := shr(96, calldataload(next))
                }
                next += 20;
            } while (member != signer);
        }
    }

    /// @dev The batch-wide values every receipt needs, read once.
    function _begin() internal view returns (Ctx memory ctx) {
        if (paused()) revert SettlementPaused();
        ctx.epoch = (block.timestamp - _rewardsGenesis) / EPOCH_LENGTH;
        Timing memory t = _timing;
        ctx.maxSessionDuration = t.maxSessionDuration;
        ctx.maxSettlementDelay = t.maxSettlementDelay;
        ctx.operatorBps = operatorShareBps;
        ctx.referrerBps = referrerShareBps;
        ctx.treasury = treasury;
        ctx.separator = domainSeparator();
    }

    function _finish(Ctx memory ctx, uint256 settled, uint256 n) internal {
        _flushRun(ctx, true);
        emit BatchSettled(msg.sender, settled, n - settled, ctx.totalCost);
    }

    /// @dev 1 when the receipt in `buf` settled; otherwise 0 and the event naming the reason.
    function _outcome(uint256 buf, RejectReason reason) internal returns (uint256) {
        if (reason == RejectReason.None) return 1;
        emit ReceiptRejected(
            bytes32(ReceiptLib.fieldOf(buf, ReceiptLib.BUF_STATION_ID)),
            uint64(ReceiptLib.fieldOf(buf, ReceiptLib.BUF_SESSION_ID)),
            reason
        );
        return 0;
    }

    /// @dev Checks, cheapest first; then the charge and the settled bit; then reward weight.
    ///      `buf` holds the decoded receipt (ReceiptLib buffer layout: every field a clean word
    ///      of its declared type), `r` and `vs` the station's compact signature.
    function _settleOne(uint256 buf, bytes32 r, bytes32 vs, Ctx memory ctx) internal returns (RejectReason) {
        bytes32 stationId;
        uint256 creditId;
        uint256 start;
        uint256 end;
        uint256 energyWh;
        uint256 cost;
        assembly ("memory-safe") {
            stationId := mload(add(buf, 0x20)) // BUF_STATION_ID
            creditId := mload(add(buf, 0xa0)) // BUF_CREDIT_ID
            energyWh := mload(add(buf, 0xc0)) // BUF_ENERGY_WH
            start := mload(add(buf, 0xe0)) // BUF_START
            end := mload(add(buf, 0x100)) // BUF_END
            cost := mload(add(buf, 0x120)) // BUF_COST
        }
        if (stationId != ctx.stationId || creditId != ctx.creditId) _load(ctx, stationId, creditId);
        if (!ctx.station.usable) return RejectReason.StationInactive;
        {
            RejectReason bad = _checkSession(ctx, start, end, energyWh, cost);
            if (bad != RejectReason.None) return bad;
        }

        uint256 sessionId = ReceiptLib.fieldOf(buf, ReceiptLib.BUF_SESSION_ID);
        mapping(uint256 => uint256) storage words = _settled[stationId];
        uint256 word = words[sessionId >> 8];
        uint256 bit = 1 << (sessionId & 0xff);
        if (word & bit != 0) return RejectReason.AlreadySettled;

        {
            bytes32 digest = ReceiptLib.digest(ctx.separator, ReceiptLib.structHashOf(buf));
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, r, vs);
            if (err != ECDSA.RecoverError.NoError || signer != ctx.station.signer) return RejectReason.BadSignature;
        }

        address driver = address(uint160(ReceiptLib.fieldOf(buf, ReceiptLib.BUF_DRIVER)));
        RejectReason charged = _chargeDriver(ctx, driver, cost, start);
        if (charged != RejectReason.None) return charged;
        words[sessionId >> 8] = word | bit;
        // The referrer is the driver's choice, never the station's: a receipt naming anyone else
        // (or the station's operator) pays that share to the treasury.
        address referrer = address(uint160(ReceiptLib.fieldOf(buf, ReceiptLib.BUF_REFERRER)));
        if (referrer != address(0) && (referrer != referrerOf[driver] || referrer == ctx.station.operator)) {
            referrer = address(0);
        }
        _splitPayment(ctx, cost, referrer);
        // Reward weight needs signed readings the receipt commits to (provable on chain).
        if (cost != 0 && driver != ctx.station.operator && ReceiptLib.fieldOf(buf, ReceiptLib.BUF_READINGS) != 0) {
            _accrue(ctx, energyWh);
        }
        return RejectReason.None;
    }

    /// @dev Times, physical plausibility and price. All inputs are range-checked words:
    ///      times < 2**40, energy < 2**32, cost < 2**128, so nothing below can overflow.
    function _checkSession(Ctx memory ctx, uint256 start, uint256 end, uint256 energyWh, uint256 cost)
        internal
        view
        returns (RejectReason)
    {
        unchecked {
            if (start >= end || end > block.timestamp || end - start > ctx.maxSessionDuration) {
                return RejectReason.BadTimes;
            }
            // The settlement window does not run while settlement is paused.
            if (end + ctx.maxSettlementDelay < block.timestamp
                && end + ctx.maxSettlementDelay + _pausedSince(end) < block.timestamp) return RejectReason.Stale;
            if (energyWh * 3600 > uint256(ctx.station.ratedPowerW) * (end - start)) {
                return RejectReason.EnergyImplausible;
            }
            IStationRegistry.Tariff memory t = ctx.station.tariff;
            uint256 tariff = 0; // 0: no tariff covers `start`
            if (t.changedAt != 0) {
                if (start >= t.changedAt) tariff = t.current;
                else if (t.previousChangedAt != 0 && start >= t.previousChangedAt) tariff = t.previous;
            }
            if (tariff == 0) return RejectReason.TariffUnknown;
            if (cost != (energyWh * tariff) / 1000) return RejectReason.CostMismatch;
        }
        return RejectReason.None;
    }

    /// @dev Burn `cost` from the driver's balance (then from a pending redemption, so redeeming
    ///      cannot dodge an authorized session) within the mandate. The driver's Account is one
    ///      slot, read and written once, raw: Solidity would otherwise load and store each packed
    ///      member separately (measured: ~5k gas a session more). Layout, low bits first, as
    ///      Solidity packs the struct: balance 96 | day 24 | spentUnits 40 | anyStation 8
    ///      | perSessionCapUnits 32 | dailyCapUnits 32 | revokedFromDay 24. Consent: the driver
    ///      let every station charge it (anyStation), or this station's operator (one more read).
    function _chargeDriver(Ctx memory ctx, address driver, uint256 cost, uint256 start)
        internal
        returns (RejectReason)
    {
        uint256 id = ctx.creditId;
        uint256 capUnit = ctx.capUnit;
        Account storage acc = _accounts[driver][id];
        uint256 w;
        assembly ("memory-safe") {
            w := sload(acc.slot)
        }
        uint256 balance = uint96(w);
        uint256 fromBalance = cost;
        uint256 today = block.timestamp / 1 days;
        uint256 spentAfter;
        unchecked {
            // cost < 2**128 and capUnit < 2**64: products and sums below fit in 256 bits.
            if (cost > uint256(uint32(w >> 168)) * capUnit) return RejectReason.NotAuthorized;
            uint256 revokedFromDay = w >> 232;
            if (revokedFromDay != 0 && start >= revokedFromDay * 1 days) return RejectReason.NotAuthorized;
            uint256 spent = uint24(w >> 96) == today ? uint40(w >> 120) : 0;
            spentAfter = spent + (cost + capUnit - 1) / capUnit;
            if (spentAfter > uint32(w >> 200)) return RejectReason.NotAuthorized;
        }
        if (uint8(w >> 160) == 0 && _consentUntil[driver][ctx.station.operator] <= start) {
            return RejectReason.NotAuthorized;
        }
        if (balance < cost) {
            fromBalance = balance;
            uint256 shortfall = cost - fromBalance;
            Redemption storage red = _redemptions[driver][id];
            if (red.amount < shortfall) return RejectReason.InsufficientCredits;
            red.amount -= uint96(shortfall);
            totalPendingRedemptions[id] -= shortfall;
        }
        // Bounds: fromBalance <= balance < 2**96; today < 2**24 until year 45,000;
        // spentAfter <= dailyCapUnits < 2**32 < 2**40. The consent and mandate bits (160..255)
        // are kept.
        unchecked {
            w = (w & ~uint256(type(uint160).max)) | (balance - fromBalance) | (today << 96) | (spentAfter << 120);
        }
        assembly ("memory-safe") {
            sstore(acc.slot, w)
        }
        unchecked {
            ctx.burnedInRun += fromBalance; // <= credits outstanding
        }
        if (fromBalance != 0) emit TransferSingle(msg.sender, driver, address(0), id, fromBalance);
        return RejectReason.None;
    }

    /// @dev operator + referrer + treasury == cost exactly: the treasury takes the remainder.
    function _splitPayment(Ctx memory ctx, uint256 cost, address referrer) internal {
        unchecked {
            // cost < 2**128 and shares <= 10000 bps with operator + referrer <= 10000, so the
            // products fit and the treasury's remainder is never negative. The run's sums stay
            // below the total credits ever bought (< 2**96 per driver, times drivers).
            uint256 toOperator = (cost * ctx.operatorBps) / BPS;
            uint256 referrerPart = (cost * ctx.referrerBps) / BPS;
            uint256 toReferrer = 0;
            if (referrer != address(0)) {
                toReferrer = referrerPart;
                if (toReferrer != 0) owed[referrer][ctx.creditId] += toReferrer;
            }
            ctx.operatorOwed += toOperator;
            ctx.treasuryOwed += cost - toOperator - toReferrer;
            // The station's fee record counts the treasury's own share only: a referrer share
            // that went to the treasury (none named, or one the driver did not choose) lifts no
            // station's reward bound, so dropping a driver's referrer earns a station nothing.
            ctx.retainedInRun += cost - toOperator - referrerPart;
            ctx.costInRun += cost;
        }
    }

    /// @dev Wash-trading defences (the caller skips unpaid sessions and an operator charging at
    ///      its own station): at most `capWh` rewarded energy per station and epoch.
    function _accrue(Ctx memory ctx, uint256 energyWh) internal pure {
        uint256 used = ctx.stationEpoch.rewardedWh;
        if (used >= ctx.capWh) return;
        unchecked {
            uint256 room = ctx.capWh - used;
            uint256 energy = energyWh < room ? energyWh : room;
            // used + energy <= capWh <= 2e6 W * 168 h = 3.36e8 Wh, far below 2**64.
            ctx.stationEpoch.rewardedWh = uint64(used + energy);
            ctx.stationEpochChanged = true;
            uint256 weight = (energy * ctx.station.multiplierBps) / BPS;
            ctx.stationEpoch.weight += uint96(weight); // <= 3.36e8 Wh x 3 per epoch
            ctx.weightInRun += weight;
        }
    }

    /// @dev Switch the cache to another (station, credit id), flushing the previous run first.
    function _load(Ctx memory ctx, bytes32 stationId, uint256 creditId) internal {
        _flushRun(ctx, stationId != ctx.stationId);
        if (stationId != ctx.stationId) {
            ctx.stationId = stationId;
            ctx.stationEpoch = _stationEpochs[ctx.epoch][stationId];
        }
        ctx.creditId = creditId;
        ctx.capUnit = _credits[creditId].capUnit;
        ctx.station = registry.settlementView(stationId, creditId);
        if (ctx.capUnit == 0) ctx.station.usable = false; // unknown credit id
        ctx.capWh = (uint256(ctx.station.ratedPowerW) * EPOCH_LENGTH * stationEpochCapBps) / (3600 * BPS);
    }

    /// @dev Write what accumulated for the current run: payouts always, the station's reward
    ///      state when leaving the station (`stationDone`).
    function _flushRun(Ctx memory ctx, bool stationDone) internal {
        if (ctx.costInRun != 0) {
            uint256 id = ctx.creditId;
            owed[ctx.station.operator][id] += ctx.operatorOwed;
            owed[ctx.treasury][id] += ctx.treasuryOwed;
            // Retained fees in USD wei: capUnit = 10**(decimals - 2), so x 1e16 / capUnit scales
            // to 18 decimals. Bounded by the credits a station's drivers ever bought (< 2**96).
            ctx.stationEpoch.fees += uint96((ctx.retainedInRun * 1e16) / ctx.capUnit);
            ctx.stationEpochChanged = true;
            totalOwed[id] += ctx.costInRun;
            totalSupply[id] -= ctx.burnedInRun;
            ctx.totalCost += ctx.costInRun;
            ctx.operatorOwed = 0;
            ctx.treasuryOwed = 0;
            ctx.retainedInRun = 0;
            ctx.costInRun = 0;
            ctx.burnedInRun = 0;
        }
        // Energy counts towards the cap even when its weight rounds to zero.
        if (stationDone && ctx.stationEpochChanged) {
            _stationEpochs[ctx.epoch][ctx.stationId] = ctx.stationEpoch;
            if (ctx.weightInRun != 0) totalEpochWeight[ctx.epoch] += ctx.weightInRun;
            ctx.weightInRun = 0;
            ctx.stationEpochChanged = false;
        }
    }

    function _setShares(uint16 operatorBps, uint16 referrerBps) internal {
        if (operatorBps < MIN_OPERATOR_SHARE_BPS || referrerBps > MAX_REFERRER_SHARE_BPS
            || uint256(operatorBps) + referrerBps > BPS) {
            revert SettlementSharesOutOfBounds(operatorBps, referrerBps);
        }
        operatorShareBps = operatorBps;
        referrerShareBps = referrerBps;
        emit SharesChanged(operatorBps, referrerBps);
    }

    function _setStationEpochCap(uint16 capBps) internal {
        if (capBps < MIN_STATION_CAP_BPS || capBps > MAX_STATION_CAP_BPS) {
            revert SettlementCapOutOfBounds(capBps, MIN_STATION_CAP_BPS, MAX_STATION_CAP_BPS);
        }
        stationEpochCapBps = capBps;
        emit StationEpochCapChanged(capBps);
    }
}
