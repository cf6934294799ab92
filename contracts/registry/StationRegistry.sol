// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {IEnergyCredits} from "../interfaces/IEnergyCredits.sol";
import {IOperatorStaking} from "../interfaces/IOperatorStaking.sol";
import {IStationRegistry} from "../interfaces/IStationRegistry.sol";
import {P256Verifier} from "./P256Verifier.sol";

/// @title StationRegistry
/// @notice Stations, their operators, signing keys, rated power, location and tariffs.
/// @dev Invariants: an active station's operator has one station's worth of stake bonded in
///      OperatorStaking; a signer is bound only with its own signature over (chain, registry,
///      station, operator), to at most one station, for as long as that station stays
///      registered (so old keys remain attributable for fraud proofs); every settleable
///      session's start time is priced by `current` or `previous` of its tariff: changes are
///      spaced by at least the longest session plus the longest settlement delay, read live
///      from EnergyCredits' timing rules.
///      Squatting: a station inactive for `releaseDelay` (at least an epoch plus the longest
///      challenge window, longer than the longest unbonding) can be released by anyone; its id
///      is then free, and its keys, meter bindings, tariffs and attestation stop counting for it
///      (`_releases` numbers the id's registrations).
///      Proof of physical work: a meter key is bound to at most one station at a time, and only
///      through a certificate an admitted issuer signed (verified with P-256 by the
///      P256Verifier this registry deploys, to stay under the code size limit); while one is
///      bound the station's `ratedPowerW` is at most the certificate's maximum power, and only
///      then does it earn full reward weight. A region multiplier above 10000 applies only to
///      stations whose location the slashing authority attested.
contract StationRegistry is IStationRegistry, AccessControl {
    // ---------------------------------------------------------------- constants and roles
    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    bytes32 public constant REGISTRY_ADMIN_ROLE = keccak256("REGISTRY_ADMIN_ROLE");
    /// @notice Attests station locations (the slashing authority: the timelock, later the
    ///         oracle committee).
    bytes32 public constant ATTESTER_ROLE = keccak256("ATTESTER_ROLE");
    /// @notice Domain tag of the message a meter certificate issuer signs.
    bytes32 public constant METER_CERT_TAG = keccak256("WattNet meter certificate v1");
    /// @notice Domain tag of the message a meter key signs to be bound to a station.
    bytes32 public constant METER_BIND_TAG = keccak256("WattNet meter binding v1");
    /// @dev EIP-712 proof of possession of a station's signer key (see registerStation).
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("WattNet StationRegistry");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    bytes32 internal constant SIGNER_BINDING_TYPEHASH = keccak256("SignerBinding(bytes32 stationId,address operator)");
    /// @notice Bounds of `releaseDelay`. The lower bound outlasts every proof that can still
    ///         matter for a station after it stopped: its last epoch (1 week) plus the longest
    ///         challenge window RewardsEngine allows (90 days), which is also the longest
    ///         unbonding delay OperatorStaking allows. The upper bound: ids are never locked
    ///         for more than a year after their station stops.
    uint256 public constant MIN_RELEASE_DELAY = 97 days;
    uint256 public constant MAX_RELEASE_DELAY = 365 days;
    /// @notice Bound of `uncertifiedRewardBps`: a station without a certified meter earns at most
    ///         this share of the reward weight of a certified one (well below 1).
    uint256 public constant MAX_UNCERTIFIED_REWARD_BPS = 2_000;

    uint32 public constant DEFAULT_MULTIPLIER_BPS = 10_000;
    uint32 public constant MIN_MULTIPLIER_BPS = 5_000;
    uint32 public constant MAX_MULTIPLIER_BPS = 30_000;
    uint32 public constant MAX_RATED_POWER_W = 2_000_000;
    uint8 public constant MAX_CONNECTORS = 32;
    uint256 internal constant MAX_GEOHASH_LENGTH = 8;

    // ---------------------------------------------------------------- immutables
    IOperatorStaking public immutable staking;
    /// @notice Verifies meter certificates and bindings (P-256); deployed by the constructor.
    P256Verifier public immutable p256;

    // ---------------------------------------------------------------- storage
    mapping(bytes32 stationId => Station) internal _stations;
    mapping(bytes32 stationId => string) public metadataURI;
    mapping(bytes32 stationId => bytes) public meterPublicKey;
    mapping(address signer => bytes32 stationId) internal _signerStation;
    mapping(bytes32 stationId => mapping(uint256 creditId => Tariff)) internal _tariffs;
    /// @dev Multiplier per geohash prefix; `_prefixLengths` has bit n set while any prefix of
    ///      n characters has one, so a lookup reads only the lengths in use.
    mapping(bytes8 prefix => uint32 bps) public multiplierOfPrefix;
    /// @notice Operators whose active stake no longer covers their stations (kept in sync by
    ///         OperatorStaking, so settlement reads one slot instead of calling staking).
    mapping(address operator => bool) public suspended;
    /// @notice Stations governance deactivated: their operator cannot reactivate them.
    mapping(bytes32 stationId => bool) public lockedByGovernance;
    mapping(uint256 length => uint256 count) internal _prefixCount;
    uint256 internal _prefixLengths;
    uint256 public minTariffPerKwh;
    uint256 public maxTariffPerKwh;
    /// @notice The credit ledger whose timing rules space tariff changes (wired once).
    IEnergyCredits public credits;
    /// @notice Admitted meter certificate issuers, by keccak256(x, y) of their P-256 key.
    mapping(bytes32 issuer => bool) public meterIssuers;
    /// @notice The station a meter key (keccak256 of x || y) is bound to; zero when free.
    mapping(bytes32 meterKeyHash => bytes32 stationId) public stationOfMeter;
    mapping(bytes32 stationId => MeterBinding) internal _meters;
    /// @dev 1 + `_releases` of the station when the meter key (keccak256 of x || y) was
    ///      certified for it: the readings fraud proofs accept a past meter's readings for the
    ///      station's sessions of the same registration (`meterEverBound`).
    mapping(bytes32 meterKeyHash => mapping(bytes32 stationId => uint256)) internal _meterBound;
    /// @notice Every signer key ever bound to the station id, across rotations and releases:
    ///         a receipt signed by one of them was valid once. The committee's bad-receipt proof
    ///         reads it (a node that signed a receipt no such key signed is slashable; one that
    ///         signed an honest receipt never is, whatever rotates or releases later).
    mapping(bytes32 stationId => mapping(address signer => bool)) public everSigner;
    /// @notice Stations whose location the slashing authority attested.
    mapping(bytes32 stationId => bool) public locationAttested;
    /// @notice Reward weight of a station without a certified meter, in bps of a certified one.
    uint256 public uncertifiedRewardBps;
    /// @notice How long a station must be inactive before anyone may release it (governed).
    uint256 public releaseDelay = 120 days;
    /// @dev When each inactive station was deactivated (its last switch off).
    mapping(bytes32 stationId => uint256) internal _deactivatedAt;
    /// @dev How many times each id was released: a binding made in another registration of the
    ///      id no longer counts (signers, meters).
    mapping(bytes32 stationId => uint256) internal _releases;
    /// @dev `_releases` of the signer's station when the signer was bound (written only when
    ///      not zero, or when it must be reset).
    mapping(address signer => uint256) internal _signerRelease;

    // ---------------------------------------------------------------- constructor
    constructor(
        address admin,
        IOperatorStaking staking_,
        uint256 minTariffPerKwh_,
        uint256 maxTariffPerKwh_
    ) {
        staking = staking_;
        p256 = new P256Verifier();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setTariffBounds(minTariffPerKwh_, maxTariffPerKwh_);
    }

    // ---------------------------------------------------------------- external: operators
    /// @inheritdoc IStationRegistry
    /// @dev A taken id reverts unless its station is releasable: then it is released first.
    function registerStation(StationParams calldata p, bytes32 proofR, bytes32 proofVs) external {
        if (p.stationId == bytes32(0)) revert RegistryZeroStationId();
        Station storage old = _stations[p.stationId];
        if (old.operator != address(0)) {
            if (old.active) revert RegistryStationExists(p.stationId);
            _releaseStation(p.stationId, old);
        }
        _bindSigner(p.stationId, p.signer, proofR, proofVs);
        if (p.ratedPowerW == 0 || p.ratedPowerW > MAX_RATED_POWER_W) {
            revert RegistryBadRatedPower(p.ratedPowerW, MAX_RATED_POWER_W);
        }
        if (p.connectorCount == 0 || p.connectorCount > MAX_CONNECTORS) {
            revert RegistryBadConnectorCount(p.connectorCount, MAX_CONNECTORS);
        }
        if (_geohashLength(p.geohash) == 0) revert RegistryBadGeohash(p.geohash);
        _checkMeterKey(p.meterPublicKey);
        if (p.creditIds.length != p.tariffsPerKwh.length) {
            revert RegistryTariffArrayMismatch(p.creditIds.length, p.tariffsPerKwh.length);
        }

        _stations[p.stationId] = Station({
            operator: msg.sender,
            ratedPowerW: p.ratedPowerW,
            connectorCount: p.connectorCount,
            active: true,
            registeredAt: uint40(block.timestamp),
            certified: false,
            signer: p.signer,
            geohash: p.geohash,
            multiplierBps: _effectiveMultiplier(p.stationId, p.geohash)
        });
        metadataURI[p.stationId] = p.metadataURI;
        if (p.meterPublicKey.length > 0) meterPublicKey[p.stationId] = p.meterPublicKey;
        emit StationRegistered(
            p.stationId, msg.sender, p.signer, p.ratedPowerW, p.connectorCount, p.geohash, p.metadataURI
        );
        for (uint256 i = 0; i < p.creditIds.length; ++i) {
            _setTariff(p.stationId, p.creditIds[i], p.tariffsPerKwh[i], true);
        }
        // Interaction last: reverts unless the operator's active stake covers one more station.
        staking.bondStation(msg.sender, _kw(p.ratedPowerW));
    }

    /// @inheritdoc IStationRegistry
    function rotateSigner(bytes32 stationId, address newSigner, bytes32 proofR, bytes32 proofVs) external {
        Station storage s = _operatorStation(stationId);
        _bindSigner(stationId, newSigner, proofR, proofVs);
        address old = s.signer;
        s.signer = newSigner;
        emit SignerRotated(stationId, old, newSigner);
    }

    /// @inheritdoc IStationRegistry
    /// @dev Permissionless: the station gave up its id by staying inactive for `releaseDelay`.
    function releaseStation(bytes32 stationId) external {
        _releaseStation(stationId, _existing(stationId));
    }

    /// @inheritdoc IStationRegistry
    function setMeterKey(bytes32 stationId, bytes calldata key) external {
        Station storage s = _operatorStation(stationId);
        _checkMeterKey(key);
        uint32 before = s.ratedPowerW;
        if (s.certified) _release(stationId, s);
        meterPublicKey[stationId] = key;
        emit MeterKeyChanged(stationId, key);
        _resizeBond(s, before);
    }

    /// @inheritdoc IStationRegistry
    /// @dev Checks the issuer, the signature and the binding before any effect; replacing a
    ///      certified meter releases the old key first.
    function certifyMeter(bytes32 stationId, MeterCertificate calldata c, bytes32 bindR, bytes32 bindS) external {
        Station storage s = _operatorStation(stationId);
        uint32 before = s.ratedPowerW;
        bytes32 issuer = keccak256(abi.encode(c.issuerX, c.issuerY));
        if (!meterIssuers[issuer]) revert RegistryUnknownIssuer(issuer);
        bytes32 h = sha256(abi.encode(METER_CERT_TAG, c.keyX, c.keyY, c.serial, c.model, c.maxPowerW));
        if (c.maxPowerW == 0 || !p256.verify(h, c.r, c.s, c.issuerX, c.issuerY)) revert RegistryBadCertificate(issuer);
        bytes32 bind = sha256(abi.encode(METER_BIND_TAG, block.chainid, address(this), stationId, msg.sender));
        if (!p256.verify(bind, bindR, bindS, c.keyX, c.keyY)) revert RegistryBadMeterBinding(stationId);
        bytes32 keyHash = keccak256(abi.encode(c.keyX, c.keyY));
        bytes32 holder = stationOfMeter[keyHash];
        if (holder != bytes32(0) && holder != stationId) revert RegistryMeterInUse(keyHash, holder);
        if (s.certified) _release(stationId, s);

        uint32 declared = s.ratedPowerW;
        uint32 used = c.maxPowerW < declared ? c.maxPowerW : declared;
        _meters[stationId] =
            MeterBinding({issuer: issuer, serial: c.serial, maxPowerW: c.maxPowerW, declaredPowerW: declared});
        stationOfMeter[keyHash] = stationId;
        _meterBound[keyHash][stationId] = _releases[stationId] + 1;
        s.certified = true;
        s.ratedPowerW = used;
        bytes memory key = abi.encodePacked(c.keyX, c.keyY);
        meterPublicKey[stationId] = key;
        emit MeterKeyChanged(stationId, key);
        emit MeterCertified(stationId, keyHash, issuer, c.serial, c.maxPowerW, used);
        _resizeBond(s, before);
    }

    /// @inheritdoc IStationRegistry
    function revokeCertification(bytes32 stationId) external {
        Station storage s = _existing(stationId);
        if (!s.certified) revert RegistryNotCertified(stationId);
        bytes32 issuer = _meters[stationId].issuer;
        if (meterIssuers[issuer]) revert RegistryIssuerStillAdmitted(stationId, issuer);
        uint32 before = s.ratedPowerW;
        _release(stationId, s);
        _resizeBond(s, before);
    }

    /// @inheritdoc IStationRegistry
    function setMetadataURI(bytes32 stationId, string calldata uri) external {
        _operatorStation(stationId);
        metadataURI[stationId] = uri;
        emit MetadataChanged(stationId, uri);
    }

    /// @inheritdoc IStationRegistry
    /// @dev Not on a releasable station: a release cannot clear tariffs, and one set in the
    ///      block of a release would look like the next registration's.
    function setTariff(bytes32 stationId, uint256 creditId, uint96 tariffPerKwh) external {
        Station storage s = _operatorStation(stationId);
        if (!s.active && block.timestamp >= _deactivatedAt[stationId] + releaseDelay) {
            revert RegistryStationReleasable(stationId);
        }
        _setTariff(stationId, creditId, tariffPerKwh, false);
    }

    /// @inheritdoc IStationRegistry
    /// @dev The operator, or REGISTRY_ADMIN_ROLE (governance) for a misbehaving station.
    function deactivateStation(bytes32 stationId) external {
        Station storage s = _existing(stationId);
        if (msg.sender != s.operator) {
            _checkRole(REGISTRY_ADMIN_ROLE);
            lockedByGovernance[stationId] = true;
            emit GovernanceLockChanged(stationId, true);
            // Idempotent for governance: an operator who switched off first cannot make the
            // proposal (and everything else in it) unexecutable.
            if (!s.active) return;
        }
        if (!s.active) revert RegistryAlreadyInState(stationId, false);
        s.active = false;
        _deactivatedAt[stationId] = block.timestamp;
        emit StationStatusChanged(stationId, false, msg.sender);
        staking.unbondStation(s.operator, _kw(s.ratedPowerW));
    }

    /// @inheritdoc IStationRegistry
    /// @dev The operator, unless governance deactivated the station: then REGISTRY_ADMIN_ROLE
    ///      only (which also lifts the lock).
    function activateStation(bytes32 stationId) external {
        Station storage s = _existing(stationId);
        if (lockedByGovernance[stationId]) {
            if (!hasRole(REGISTRY_ADMIN_ROLE, msg.sender)) revert RegistryStationLocked(stationId);
            lockedByGovernance[stationId] = false;
            emit GovernanceLockChanged(stationId, false);
            if (s.active) return; // idempotent for governance
        } else if (s.operator != msg.sender) {
            revert RegistryNotOperator(stationId, msg.sender, s.operator);
        }
        if (s.active) revert RegistryAlreadyInState(stationId, true);
        s.active = true;
        emit StationStatusChanged(stationId, true, msg.sender);
        staking.bondStation(s.operator, _kw(s.ratedPowerW));
    }

    /// @inheritdoc IStationRegistry
    /// @dev Permissionless: it only copies governance's current table into the station.
    function syncRegion(bytes32[] calldata stationIds) external {
        for (uint256 i = 0; i < stationIds.length; ++i) {
            Station storage s = _existing(stationIds[i]);
            uint32 bps = _effectiveMultiplier(stationIds[i], s.geohash);
            s.multiplierBps = bps;
            emit RegionSynced(stationIds[i], bps);
        }
    }

    /// @inheritdoc IStationRegistry
    /// @dev Permissionless: it only copies staking's view.
    function refreshStanding(address operator) external {
        bool isSuspended = !staking.inGoodStanding(operator);
        if (suspended[operator] != isSuspended) {
            suspended[operator] = isSuspended;
            emit OperatorStandingChanged(operator, isSuspended);
        }
    }

    // ---------------------------------------------------------------- external: governance
    /// @inheritdoc IStationRegistry
    function setRegionMultiplier(bytes8 prefix, uint32 multiplierBps) external onlyRole(PARAMS_ROLE) {
        uint256 length = _geohashLength(prefix);
        if (length == 0) revert RegistryBadGeohash(prefix);
        if (multiplierBps != 0 && (multiplierBps < MIN_MULTIPLIER_BPS || multiplierBps > MAX_MULTIPLIER_BPS)) {
            revert RegistryMultiplierOutOfBounds(multiplierBps, MIN_MULTIPLIER_BPS, MAX_MULTIPLIER_BPS);
        }
        uint32 old = multiplierOfPrefix[prefix];
        multiplierOfPrefix[prefix] = multiplierBps;
        if (old == 0 && multiplierBps != 0) {
            if (_prefixCount[length]++ == 0) _prefixLengths |= 1 << length;
        } else if (old != 0 && multiplierBps == 0) {
            if (--_prefixCount[length] == 0) _prefixLengths &= ~(1 << length);
        }
        emit RegionMultiplierSet(prefix, multiplierBps);
    }

    /// @inheritdoc IStationRegistry
    function setMeterIssuer(bytes32 issuerX, bytes32 issuerY, bool admitted) external onlyRole(PARAMS_ROLE) {
        bytes32 issuer = keccak256(abi.encode(issuerX, issuerY));
        meterIssuers[issuer] = admitted;
        emit MeterIssuerSet(issuer, issuerX, issuerY, admitted);
    }

    /// @notice Governance: reward weight of stations without a certified meter (bps, bounded).
    function setUncertifiedRewardBps(uint256 bps) external onlyRole(PARAMS_ROLE) {
        if (bps > MAX_UNCERTIFIED_REWARD_BPS) {
            revert RegistryParameterOutOfBounds("uncertifiedRewardBps", bps, 0, MAX_UNCERTIFIED_REWARD_BPS);
        }
        uncertifiedRewardBps = bps;
        emit ParameterChanged("uncertifiedRewardBps", bps);
    }

    /// @inheritdoc IStationRegistry
    function attestLocation(bytes32 stationId, bool attested) external onlyRole(ATTESTER_ROLE) {
        Station storage s = _existing(stationId);
        locationAttested[stationId] = attested;
        uint32 bps = _effectiveMultiplier(stationId, s.geohash);
        s.multiplierBps = bps;
        emit LocationAttested(stationId, attested, bps);
    }

    /// @notice Governance: how long a station must be inactive before its id, keys and meter
    ///         bindings can be released (MIN_RELEASE_DELAY .. MAX_RELEASE_DELAY).
    function setReleaseDelay(uint256 delay) external onlyRole(PARAMS_ROLE) {
        if (delay < MIN_RELEASE_DELAY || delay > MAX_RELEASE_DELAY) {
            revert RegistryParameterOutOfBounds("releaseDelay", delay, MIN_RELEASE_DELAY, MAX_RELEASE_DELAY);
        }
        releaseDelay = delay;
        emit ParameterChanged("releaseDelay", delay);
    }

    /// @notice Wire the credit ledger (its timing rules space tariff changes); once only.
    function setCredits(IEnergyCredits credits_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(credits) != address(0)) revert RegistryCreditsAlreadySet(address(credits));
        credits = credits_;
    }

    function setTariffBounds(uint256 minTariff, uint256 maxTariff) external onlyRole(PARAMS_ROLE) {
        _setTariffBounds(minTariff, maxTariff);
    }

    // ---------------------------------------------------------------- views
    /// @inheritdoc IStationRegistry
    function getStation(bytes32 stationId) external view returns (Station memory) {
        return _stations[stationId];
    }

    /// @inheritdoc IStationRegistry
    function stationOfSigner(address signer) public view returns (bytes32 stationId) {
        stationId = _signerStation[signer];
        if (stationId != bytes32(0) && _signerRelease[signer] != _releases[stationId]) stationId = bytes32(0);
    }

    /// @inheritdoc IStationRegistry
    function releasableAt(bytes32 stationId) external view returns (uint256) {
        Station storage s = _stations[stationId];
        if (s.operator == address(0) || s.active) return 0;
        return _deactivatedAt[stationId] + releaseDelay;
    }

    /// @inheritdoc IStationRegistry
    function meterEverBound(bytes32 meterKeyHash, bytes32 stationId) external view returns (bool) {
        return _meterBound[meterKeyHash][stationId] == _releases[stationId] + 1;
    }

    /// @inheritdoc IStationRegistry
    function meterOf(bytes32 stationId) external view returns (MeterBinding memory) {
        return _meters[stationId];
    }

    /// @notice Minimum time between two tariff changes: the longest session plus the longest
    ///         settlement delay, so every settleable session is priced by current or previous.
    function tariffCooldown() public view returns (uint256) {
        if (address(credits) == address(0)) return 37 days; // the largest the bounds allow
        IEnergyCredits.Timing memory t = credits.timing();
        return uint256(t.maxSessionDuration) + t.maxSettlementDelay;
    }

    /// @notice A station's tariff record for `creditId` (empty when set in an earlier
    ///         registration of the id).
    function tariffOf(bytes32 stationId, uint256 creditId) external view returns (Tariff memory t) {
        t = _tariffs[stationId][creditId];
        if (t.changedAt < _stations[stationId].registeredAt) delete t;
    }

    /// @inheritdoc IStationRegistry
    function regionMultiplier(bytes8 geohash) public view returns (uint32) {
        uint256 lengths = _prefixLengths;
        if (lengths == 0) return DEFAULT_MULTIPLIER_BPS;
        uint256 length = _geohashLength(geohash);
        for (uint256 n = length; n > 0; --n) {
            if (lengths & (1 << n) == 0) continue;
            // Keep the first n characters: clear the low (8 - n) bytes.
            bytes8 prefix = geohash & bytes8(type(uint64).max << (8 * (MAX_GEOHASH_LENGTH - n)));
            uint32 bps = multiplierOfPrefix[prefix];
            if (bps != 0) return bps;
        }
        return DEFAULT_MULTIPLIER_BPS;
    }

    /// @inheritdoc IStationRegistry
    function settlementView(bytes32 stationId, uint256 creditId) external view returns (SettlementView memory v) {
        Station storage s = _stations[stationId];
        v.operator = s.operator;
        v.signer = s.signer;
        v.ratedPowerW = s.ratedPowerW;
        v.tariff = _tariffs[stationId][creditId];
        if (s.operator == address(0)) return v;
        // A tariff set in an earlier registration of the id is no tariff.
        if (v.tariff.changedAt < s.registeredAt) delete v.tariff;
        v.usable = s.active && !suspended[s.operator];
        // multiplierBps <= 30000 and uncertifiedRewardBps <= 2000: no overflow.
        v.multiplierBps = s.certified ? s.multiplierBps : uint32((s.multiplierBps * uncertifiedRewardBps) / 10_000);
    }

    // ---------------------------------------------------------------- internal
    function _existing(bytes32 stationId) internal view returns (Station storage s) {
        s = _stations[stationId];
        if (s.operator == address(0)) revert RegistryUnknownStation(stationId);
    }

    function _operatorStation(bytes32 stationId) internal view returns (Station storage s) {
        s = _existing(stationId);
        if (s.operator != msg.sender) revert RegistryNotOperator(stationId, msg.sender, s.operator);
    }

    /// @dev A region multiplier above the default applies only once the location is attested;
    ///      one below it applies always (not attesting cannot escape a penalty).
    function _effectiveMultiplier(bytes32 stationId, bytes8 geohash) internal view returns (uint32 bps) {
        bps = regionMultiplier(geohash);
        if (bps > DEFAULT_MULTIPLIER_BPS && !locationAttested[stationId]) bps = DEFAULT_MULTIPLIER_BPS;
    }

    /// @dev Stake is bonded per kW of an active station's power (rounded up): tell staking when a
    ///      meter certified or released changed it. Interaction with the trusted staking
    ///      contract, after all effects.
    function _resizeBond(Station storage s, uint32 beforeW) internal {
        uint256 oldKw = _kw(beforeW);
        uint256 newKw = _kw(s.ratedPowerW);
        if (s.active && oldKw != newKw) staking.resizeStation(s.operator, oldKw, newKw);
    }

    function _kw(uint32 powerW) internal pure returns (uint256) {
        return (uint256(powerW) + 999) / 1000;
    }

    /// @dev Unbind the station's certified meter and restore its declared power.
    function _release(bytes32 stationId, Station storage s) internal {
        bytes memory key = meterPublicKey[stationId];
        bytes32 keyHash = keccak256(key);
        delete stationOfMeter[keyHash];
        s.ratedPowerW = _meters[stationId].declaredPowerW;
        s.certified = false;
        delete _meters[stationId];
        delete meterPublicKey[stationId];
        emit MeterReleased(stationId, keyHash);
    }

    /// @dev Bind a new signer key to the station: not zero, not bound to a station (in that
    ///      station's current registration), and proven: its EIP-712 signature of
    ///      SignerBinding(stationId, msg.sender) on this chain and registry.
    function _bindSigner(bytes32 stationId, address signer, bytes32 proofR, bytes32 proofVs) internal {
        if (signer == address(0)) revert RegistryZeroSigner();
        bytes32 bound = _signerStation[signer];
        if (bound != bytes32(0) && _signerRelease[signer] == _releases[bound]) {
            revert RegistrySignerInUse(signer, bound);
        }
        bytes32 domain = keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            domain, keccak256(abi.encode(SIGNER_BINDING_TYPEHASH, stationId, msg.sender))
        );
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, proofR, proofVs);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert RegistryBadSignerProof(stationId, signer);
        _signerStation[signer] = stationId;
        everSigner[stationId][signer] = true;
        uint256 releases = _releases[stationId];
        // Reset a stale count from the key's binding in a released registration.
        if (releases != 0 || bound != bytes32(0)) _signerRelease[signer] = releases;
    }

    /// @dev Release an inactive station after `releaseDelay`: free its id, its certified meter
    ///      and (by counting the release) its signer keys and meter bindings; forget its
    ///      metadata, meter key, governance lock and attestation. Tariffs stay in storage but
    ///      count only when set since the id's current registration.
    function _releaseStation(bytes32 stationId, Station storage s) internal {
        if (s.active) revert RegistryNotReleasable(stationId, 0);
        uint256 at = _deactivatedAt[stationId] + releaseDelay;
        if (block.timestamp < at) revert RegistryNotReleasable(stationId, at);
        address operator = s.operator;
        if (s.certified) _release(stationId, s);
        delete _stations[stationId];
        delete metadataURI[stationId];
        delete meterPublicKey[stationId];
        delete lockedByGovernance[stationId];
        delete locationAttested[stationId];
        delete _deactivatedAt[stationId];
        ++_releases[stationId];
        emit StationReleased(stationId, operator, msg.sender);
    }

    function _checkMeterKey(bytes calldata key) internal pure {
        if (key.length != 0 && key.length != 64) revert RegistryBadMeterKey(key.length);
    }

    /// @dev `initial` skips the cooldown (first price for a credit id at registration). A
    ///      record from an earlier registration of the id counts as none.
    function _setTariff(bytes32 stationId, uint256 creditId, uint96 price, bool initial) internal {
        if (price < minTariffPerKwh || price > maxTariffPerKwh) {
            revert RegistryTariffOutOfBounds(price, minTariffPerKwh, maxTariffPerKwh);
        }
        Tariff storage t = _tariffs[stationId][creditId];
        bool fresh = t.changedAt < _stations[stationId].registeredAt;
        if (!initial && !fresh) {
            uint256 readyAt = uint256(t.changedAt) + tariffCooldown();
            if (block.timestamp < readyAt) revert RegistryTariffCooldown(stationId, creditId, readyAt);
        }
        t.previous = fresh ? 0 : t.current;
        t.previousChangedAt = fresh ? 0 : t.changedAt;
        t.current = uint88(price); // bounded: maxTariffPerKwh <= type(uint88).max
        t.changedAt = uint40(block.timestamp);
        emit TariffChanged(stationId, creditId, price);
    }

    /// @dev Length of a geohash: 1..8 base32 characters (0-9, b-z without i, l, o), left
    ///      aligned and zero padded; 0 when malformed.
    function _geohashLength(bytes8 g) internal pure returns (uint256 length) {
        bool ended = false;
        for (uint256 i = 0; i < MAX_GEOHASH_LENGTH; ++i) {
            bytes1 c = g[i];
            if (c == 0) {
                ended = true;
                continue;
            }
            if (ended || !_isGeohashChar(c)) return 0;
            ++length;
        }
    }

    function _isGeohashChar(bytes1 c) internal pure returns (bool) {
        if (c >= "0" && c <= "9") return true;
        return c >= "b" && c <= "z" && c != "i" && c != "l" && c != "o";
    }

    function _setTariffBounds(uint256 minTariff, uint256 maxTariff) internal {
        if (minTariff == 0 || minTariff > maxTariff || maxTariff > type(uint88).max) {
            revert RegistryParameterOutOfBounds("tariffBounds", minTariff, 1, maxTariff);
        }
        minTariffPerKwh = minTariff;
        maxTariffPerKwh = maxTariff;
        emit ParameterChanged("minTariffPerKwh", minTariff);
        emit ParameterChanged("maxTariffPerKwh", maxTariff);
    }
}
