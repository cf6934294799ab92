// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ReceiptLib
/// @notice The EIP-712 `SessionReceipt` a station key signs for every finished charging session,
///         and its hashing. Mirrored in Python by `src/wattnet/chain/eip712.py`.
/// @dev `(stationId, sessionId)` identifies a session; the struct hash identifies its content.
library ReceiptLib {
    /// @notice One finished charging session as signed by the station.
    /// @param stationId keccak256 of the OCPP charge point identity.
    /// @param sessionId The station's own sequence number; never reused.
    /// @param connectorId OCPP connector (1.6) or EVSE (2.0.1) id.
    /// @param driver The paying driver.
    /// @param creditId ERC-1155 credit id (one per accepted stablecoin).
    /// @param energyWh Energy delivered in watt-hours (difference of the meter register).
    /// @param startTime Unix seconds at session start.
    /// @param endTime Unix seconds at session end.
    /// @param cost Credits charged: energyWh * tariff(startTime) / 1000, rounded down.
    /// @param referrer Who brought the driver (address(0) for none).
    struct SessionReceipt {
        bytes32 stationId;
        uint64 sessionId;
        uint8 connectorId;
        address driver;
        uint256 creditId;
        uint32 energyWh;
        uint40 startTime;
        uint40 endTime;
        uint128 cost;
        address referrer;
    }

    /// @notice A receipt with the station's EIP-2098 compact signature.
    struct SignedReceipt {
        SessionReceipt receipt;
        bytes32 r;
        bytes32 vs;
    }

    bytes32 internal constant TYPEHASH = keccak256(
        "SessionReceipt(bytes32 stationId,uint64 sessionId,uint8 connectorId,address driver,"
        "uint256 creditId,uint32 energyWh,uint40 startTime,uint40 endTime,uint128 cost,"
        "address referrer)"
    );

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    bytes32 internal constant NAME_HASH = keccak256("WattNet Settlement");
    bytes32 internal constant VERSION_HASH = keccak256("1");

    /// @notice The domain separator binding receipts to one chain and one settlement contract.
    function domainSeparator(address settlement) internal view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, settlement));
    }

    /// @notice hashStruct(SessionReceipt), hashed straight from calldata without a memory copy.
    function structHash(SessionReceipt calldata r) internal pure returns (bytes32 h) {
        bytes32 typeHash = TYPEHASH;
        assembly ("memory-safe") {
            // The struct is 10 static words in calldata; hash TYPEHASH || those words.
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), r, 0x140)
            h := keccak256(ptr, 0x160)
        }
    }

    /// @notice Calldata layout of a SignedReceipt: twelve static words, fields in order.
    uint256 internal constant SIGNED_SIZE = 0x180;
    uint256 internal constant OFF_SESSION_ID = 0x20;
    uint256 internal constant OFF_CONNECTOR_ID = 0x40;
    uint256 internal constant OFF_DRIVER = 0x60;
    uint256 internal constant OFF_CREDIT_ID = 0x80;
    uint256 internal constant OFF_ENERGY_WH = 0xa0;
    uint256 internal constant OFF_START = 0xc0;
    uint256 internal constant OFF_END = 0xe0;
    uint256 internal constant OFF_COST = 0x100;
    uint256 internal constant OFF_REFERRER = 0x120;
    uint256 internal constant OFF_R = 0x140;
    uint256 internal constant OFF_VS = 0x160;

    /// @notice hashStruct of the receipt whose ten words start at calldata offset `at`.
    function structHashAt(uint256 at) internal pure returns (bytes32 h) {
        bytes32 typeHash = TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), at, 0x140)
            h := keccak256(ptr, 0x160)
        }
    }

    /// @notice True when every field word at calldata offset `at` is within its declared type
    ///         (a well-formed ABI encoding always is; the hash covers the raw words).
    function wellFormedAt(uint256 at) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            let dirty := shr(64, calldataload(add(at, 0x20)))
            dirty := or(dirty, shr(8, calldataload(add(at, 0x40))))
            dirty := or(dirty, shr(160, calldataload(add(at, 0x60))))
            dirty := or(dirty, shr(32, calldataload(add(at, 0xa0))))
            dirty := or(dirty, shr(40, calldataload(add(at, 0xc0))))
            dirty := or(dirty, shr(40, calldataload(add(at, 0xe0))))
            dirty := or(dirty, shr(128, calldataload(add(at, 0x100))))
            dirty := or(dirty, shr(160, calldataload(add(at, 0x120))))
            ok := iszero(dirty)
        }
    }

    /// @notice The word at calldata offset `at + field`.
    function wordAt(uint256 at, uint256 field) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := calldataload(add(at, field))
        }
    }

    /// @notice The same hash for a receipt held in memory (equivocation evidence).
    function structHashMemory(SessionReceipt memory r) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                TYPEHASH,
                r.stationId,
                r.sessionId,
                r.connectorId,
                r.driver,
                r.creditId,
                r.energyWh,
                r.startTime,
                r.endTime,
                r.cost,
                r.referrer
            )
        );
    }

    /// @notice The EIP-712 digest a station signs.
    function digest(bytes32 separator, bytes32 hashOfStruct) internal pure returns (bytes32 d) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), separator)
            mstore(add(ptr, 0x22), hashOfStruct)
            d := keccak256(ptr, 0x42)
        }
    }
}
