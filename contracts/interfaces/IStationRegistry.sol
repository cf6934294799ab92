// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStationRegistry
/// @notice Charging stations, their operators, signing keys, rated power, location and tariffs.
interface IStationRegistry {
    /// @notice A registered station, packed in two storage slots.
    /// @param operator Who registered it and is paid for its sessions.
    /// @param ratedPowerW Power settlement and the reward cap use, in watts: the declared rated
    ///        power, lowered to the certificate's maximum while a certified meter is bound.
    /// @param connectorCount Number of connectors (EVSEs).
    /// @param active Whether receipts from it are accepted.
    /// @param registeredAt Registration time (unix seconds).
    /// @param certified Whether a meter certified by an admitted issuer is bound to it.
    /// @param signer The key that signs its session receipts.
    /// @param geohash Location cell: 1 to 8 geohash characters, left-aligned, zero-padded.
    /// @param multiplierBps The region multiplier cached at registration, the last syncRegion or
    ///        attestation: above 10000 only once the location is attested.
    struct Station {
        address operator;
        uint32 ratedPowerW;
        uint8 connectorCount;
        bool active;
        uint40 registeredAt;
        bool certified;
        address signer;
        bytes8 geohash;
        uint32 multiplierBps;
    }

    /// @notice A meter certificate: an admitted issuer (meter maker or calibration authority)
    ///         signs, with its P-256 key, that a meter key belongs to a meter of this serial and
    ///         model whose maximum power is `maxPowerW`. The signed message is
    ///         `abi.encode(METER_CERT_TAG, keyX, keyY, serial, model, maxPowerW)`, hashed with
    ///         SHA-256 (ECDSA-P256-SHA256, as OCMF meters and PKI tools sign); `s` <= n/2.
    struct MeterCertificate {
        bytes32 keyX;
        bytes32 keyY;
        bytes32 serial;
        bytes32 model;
        uint32 maxPowerW;
        bytes32 issuerX;
        bytes32 issuerY;
        bytes32 r;
        bytes32 s;
    }

    /// @notice The certified meter bound to a station (what `meterOf` returns).
    /// @param issuer keccak256(issuerX, issuerY) of the certificate's issuer.
    /// @param serial The meter's serial number (as certified).
    /// @param maxPowerW The certified maximum power.
    /// @param declaredPowerW The operator's declared rated power (restored on release).
    struct MeterBinding {
        bytes32 issuer;
        bytes32 serial;
        uint32 maxPowerW;
        uint32 declaredPowerW;
    }

    /// @notice What an operator supplies to register a station.
    struct StationParams {
        bytes32 stationId;
        address signer;
        uint32 ratedPowerW;
        uint8 connectorCount;
        bytes8 geohash;
        string metadataURI;
        bytes meterPublicKey;
        uint256[] creditIds;
        uint96[] tariffsPerKwh;
    }

    /// @notice A station's price for one credit id (credits per kWh): the current one, the one
    ///         before it, and when each took effect.
    /// @dev Changes are rate-limited so that every settleable session is priced by one of the two;
    ///      a session that started before `previousChangedAt` is priced by neither.
    struct Tariff {
        uint88 current;
        uint88 previous;
        uint40 changedAt;
        uint40 previousChangedAt;
    }

    /// @notice Everything settlement needs about a station in one call.
    struct SettlementView {
        address operator;
        address signer;
        uint32 ratedPowerW;
        bool usable;
        uint32 multiplierBps;
        Tariff tariff;
    }

    error RegistryStationExists(bytes32 stationId);
    error RegistryUnknownStation(bytes32 stationId);
    error RegistryNotOperator(bytes32 stationId, address caller, address operator);
    error RegistrySignerInUse(address signer, bytes32 stationId);
    error RegistryZeroSigner();
    error RegistryBadRatedPower(uint256 ratedPowerW, uint256 max);
    error RegistryBadConnectorCount(uint256 count, uint256 max);
    error RegistryBadGeohash(bytes8 geohash);
    error RegistryBadMeterKey(uint256 length);
    error RegistryTariffOutOfBounds(uint256 tariff, uint256 min, uint256 max);
    error RegistryTariffCooldown(bytes32 stationId, uint256 creditId, uint256 readyAt);
    error RegistryTariffArrayMismatch(uint256 ids, uint256 tariffs);
    error RegistryMultiplierOutOfBounds(uint256 bps, uint256 min, uint256 max);
    error RegistryParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    error RegistryAlreadyInState(bytes32 stationId, bool active);
    error RegistryCreditsAlreadySet(address credits);
    /// @notice Station id 0 is reserved: it means "no station" (e.g. an unbound signer).
    error RegistryZeroStationId();
    /// @notice Governance deactivated the station; only governance can reactivate it.
    error RegistryStationLocked(bytes32 stationId);
    /// @notice The meter key did not sign the binding to this station and operator (proof of
    ///         possession: a certificate copied from someone else's meter cannot be bound).
    error RegistryBadMeterBinding(bytes32 stationId);
    /// @notice The certificate's issuer key is not admitted by governance.
    error RegistryUnknownIssuer(bytes32 issuer);
    /// @notice The issuer's P-256 signature over the certificate does not verify.
    error RegistryBadCertificate(bytes32 issuer);
    /// @notice The meter key is bound to another station; that station must release it first.
    error RegistryMeterInUse(bytes32 meterKeyHash, bytes32 stationId);
    /// @notice The station has no certified meter (nothing to release or revalidate).
    error RegistryNotCertified(bytes32 stationId);
    /// @notice The certified meter's issuer is still admitted: nothing to revoke.
    error RegistryIssuerStillAdmitted(bytes32 stationId, bytes32 issuer);
    /// @notice The signer key did not sign the EIP-712 `SignerBinding(stationId, operator)` of
    ///         this registry and chain (proof of possession: nobody can bind someone else's key).
    error RegistryBadSignerProof(bytes32 stationId, address signer);
    /// @notice The station cannot be released yet: it is active (`releasableAt` 0) or has not
    ///         been inactive for `releaseDelay` (released from `releasableAt` on).
    error RegistryNotReleasable(bytes32 stationId, uint256 releasableAt);
    /// @notice The station has been inactive for `releaseDelay`: anyone may release it, so its
    ///         operator may only reactivate it (a tariff set now could outlive the release).
    error RegistryStationReleasable(bytes32 stationId);

    /// @notice A station was registered by `operator`.
    event StationRegistered(
        bytes32 indexed stationId,
        address indexed operator,
        address indexed signer,
        uint32 ratedPowerW,
        uint8 connectorCount,
        bytes8 geohash,
        string metadataURI
    );
    /// @notice The station's signing key changed from `oldSigner` to `newSigner`.
    event SignerRotated(bytes32 indexed stationId, address indexed oldSigner, address indexed newSigner);
    /// @notice The station's meter key (P-256, x||y) changed.
    event MeterKeyChanged(bytes32 indexed stationId, bytes meterPublicKey);
    /// @notice The station's metadata URI changed.
    event MetadataChanged(bytes32 indexed stationId, string metadataURI);
    /// @notice The station's tariff for `creditId` is now `tariffPerKwh` (credits per kWh).
    event TariffChanged(bytes32 indexed stationId, uint256 indexed creditId, uint256 tariffPerKwh);
    /// @notice The station was activated (true) or deactivated (false) by `by`.
    event StationStatusChanged(bytes32 indexed stationId, bool active, address indexed by);
    /// @notice Governance set the multiplier of a geohash prefix (0 removes it).
    event RegionMultiplierSet(bytes8 indexed prefix, uint32 multiplierBps);
    /// @notice The station's cached region multiplier was refreshed.
    event RegionSynced(bytes32 indexed stationId, uint32 multiplierBps);
    /// @notice The operator fell out of (suspended true) or back into good standing.
    event OperatorStandingChanged(address indexed operator, bool suspended);
    /// @notice A governed parameter changed.
    event ParameterChanged(bytes32 indexed name, uint256 value);
    /// @notice Governance locked (true) or unlocked (false) a station: locked, only governance
    ///         can reactivate it.
    event GovernanceLockChanged(bytes32 indexed stationId, bool locked);
    /// @notice Governance admitted (true) or removed (false) a meter certificate issuer.
    event MeterIssuerSet(bytes32 indexed issuer, bytes32 issuerX, bytes32 issuerY, bool admitted);
    /// @notice A certified meter was bound to the station; `ratedPowerW` is what settlement uses.
    event MeterCertified(
        bytes32 indexed stationId, bytes32 indexed meterKeyHash, bytes32 indexed issuer, bytes32 serial,
        uint32 maxPowerW, uint32 ratedPowerW
    );
    /// @notice The station's certified meter was released (by its operator, a new key, or a
    ///         removed issuer); the station earns the uncertified reward factor from now on.
    event MeterReleased(bytes32 indexed stationId, bytes32 indexed meterKeyHash);
    /// @notice The slashing authority attested (true) or withdrew (false) the station's location.
    event LocationAttested(bytes32 indexed stationId, bool attested, uint32 multiplierBps);
    /// @notice The station, inactive for `releaseDelay`, was released by `by`: its id is free to
    ///         register again, and its keys and meter bindings no longer count for it.
    /// @param operator The operator it was registered to.
    event StationReleased(bytes32 indexed stationId, address indexed operator, address indexed by);

    /// @notice Register a station; the caller becomes its operator and must have staked enough.
    ///         `proofR`, `proofVs` (EIP-2098 compact, low-s) are the signer key's EIP-712
    ///         signature of `SignerBinding(bytes32 stationId,address operator)` (operator = the
    ///         caller) under `EIP712Domain("WattNet StationRegistry", "1", chainid, this registry)`:
    ///         proof that the caller's signer key agreed to sign for this station. An id whose
    ///         station has been inactive for `releaseDelay` is released first and can be taken.
    function registerStation(StationParams calldata p, bytes32 proofR, bytes32 proofVs) external;

    /// @notice Rotate the station's signing key; the old key stops being accepted at once. The
    ///         new key proves possession as in `registerStation`.
    function rotateSigner(bytes32 stationId, address newSigner, bytes32 proofR, bytes32 proofVs) external;

    /// @notice Permissionless: release a station that has been inactive for `releaseDelay`
    ///         (see `registerStation`, which does the same for the id it registers).
    function releaseStation(bytes32 stationId) external;

    /// @notice Set (or clear with empty bytes) an uncertified meter P-256 public key. Releases
    ///         any certified meter: a declared key is a claim, and earns no certified rewards.
    function setMeterKey(bytes32 stationId, bytes calldata meterPublicKey) external;

    /// @notice Bind a meter certified by an admitted issuer: verifies the issuer's P-256
    ///         signature on chain and the meter key's own signature (`bindR`, `bindS`, low-s)
    ///         over `abi.encode(METER_BIND_TAG, chainid, this registry, stationId, operator)`
    ///         hashed with SHA-256, binds the meter key to this station only, and lowers the
    ///         power settlement uses to the certificate's maximum. Operator only.
    function certifyMeter(bytes32 stationId, MeterCertificate calldata cert, bytes32 bindR, bytes32 bindS)
        external;

    /// @notice Permissionless: release a certified meter whose issuer governance removed.
    function revokeCertification(bytes32 stationId) external;

    /// @notice Governance: admit or remove a meter certificate issuer (P-256 public key).
    function setMeterIssuer(bytes32 issuerX, bytes32 issuerY, bool admitted) external;

    /// @notice Slashing authority: attest (or withdraw) the station's declared location; a
    ///         region multiplier above 10000 applies only to attested stations.
    function attestLocation(bytes32 stationId, bool attested) external;

    /// @notice Change the metadata URI (IPFS CID or URL).
    function setMetadataURI(bytes32 stationId, string calldata uri) external;

    /// @notice Set the tariff for one credit id, within governed bounds and cooldown.
    function setTariff(bytes32 stationId, uint256 creditId, uint96 tariffPerKwh) external;

    /// @notice Stop accepting the station's receipts and release its stake requirement.
    function deactivateStation(bytes32 stationId) external;

    /// @notice Accept the station's receipts again (its stake requirement is bonded again).
    function activateStation(bytes32 stationId) external;

    /// @notice Governance: set a region multiplier for a geohash prefix, within bounds.
    function setRegionMultiplier(bytes8 prefix, uint32 multiplierBps) external;

    /// @notice Refresh the cached region multiplier of stations after governance changed it.
    function syncRegion(bytes32[] calldata stationIds) external;

    /// @notice Re-read the operator's standing from staking (staking calls this on every change).
    function refreshStanding(address operator) external;

    /// @notice A station's record.
    function getStation(bytes32 stationId) external view returns (Station memory);

    /// @notice The station a signer is (or was) bound to in that station's current
    ///         registration; zero when never bound, or when that station was released since.
    function stationOfSigner(address signer) external view returns (bytes32);

    /// @notice Whether `signer` was ever bound to `stationId` (in any registration).
    function everSigner(bytes32 stationId, address signer) external view returns (bool);

    /// @notice When the inactive station can be released; 0 while it is active or unknown.
    function releasableAt(bytes32 stationId) external view returns (uint256);

    /// @notice The multiplier for a geohash cell: the longest governed prefix, else 10000.
    function regionMultiplier(bytes8 geohash) external view returns (uint32);

    /// @notice Whether the meter key (keccak256 of x || y) was ever certified for the station
    ///         in its current registration (a release forgets the station's meters).
    function meterEverBound(bytes32 meterKeyHash, bytes32 stationId) external view returns (bool);

    /// @notice The certified meter bound to `stationId` (issuer zero when none).
    function meterOf(bytes32 stationId) external view returns (MeterBinding memory);

    /// @notice Settlement's view of a station and its tariff for one credit id. Its
    ///         `multiplierBps` is the reward weight per Wh in bps: the region multiplier, times
    ///         the governed uncertified factor unless a certified meter is bound.
    function settlementView(bytes32 stationId, uint256 creditId) external view returns (SettlementView memory);
}
