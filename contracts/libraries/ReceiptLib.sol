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
    /// @param readings Commitment to the meter's signed begin and end readings
    ///        (`ReadingsLib.commitment`); zero when the station's meter does not sign.
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
        bytes32 readings;
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
        "address referrer,bytes32 readings)"
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
            // The struct is 11 static words in calldata; hash TYPEHASH || those words.
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            calldatacopy(add(ptr, 0x20), r, 0x160)
            h := keccak256(ptr, 0x180)
        }
    }

    // ------------------------------------------------------------ the receipt buffer
    // Settlement decodes each receipt, whatever its encoding, into one reused memory buffer:
    // TYPEHASH followed by the eleven field words, so that hashStruct is one keccak256 over it.
    uint256 internal constant BUF_SIZE = 0x180;
    uint256 internal constant BUF_STATION_ID = 0x20;
    uint256 internal constant BUF_SESSION_ID = 0x40;
    uint256 internal constant BUF_DRIVER = 0x80;
    uint256 internal constant BUF_CREDIT_ID = 0xa0;
    uint256 internal constant BUF_ENERGY_WH = 0xc0;
    uint256 internal constant BUF_START = 0xe0;
    uint256 internal constant BUF_END = 0x100;
    uint256 internal constant BUF_COST = 0x120;
    uint256 internal constant BUF_REFERRER = 0x140;
    uint256 internal constant BUF_READINGS = 0x160;

    /// @notice Allocate the buffer and write TYPEHASH into its first word.
    function newBuffer() internal pure returns (uint256 buf) {
        bytes32 typeHash = TYPEHASH;
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, BUF_SIZE))
            mstore(buf, typeHash)
        }
    }

    /// @notice The field word at `field` (a BUF_* offset) of the buffer.
    function fieldOf(uint256 buf, uint256 field) internal pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(buf, field))
        }
    }

    /// @notice hashStruct(SessionReceipt) of the receipt in the buffer.
    function structHashOf(uint256 buf) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(buf, BUF_SIZE)
        }
    }

    // ------------------------------------------------------------ the packed batch encoding
    // The oracle's encoding (`settlePacked`): big-endian, no padding, receipts grouped by station.
    //   batch   := group*
    //   group   := stationId (32) | count (2) | receipt{count}
    //   receipt := flags (1) | sessionId (8) | connectorId (1) | driver (20) | creditId (4)
    //              | energyWh (4) | startTime (5) | endTime (5) | cost (16) | r (32) | vs (32)
    //              | referrer (20, only when flags & 1) | readings (32, only when flags & 2)
    // flags: bit 0 = a referrer follows, bit 1 = a readings commitment follows (else zero);
    // any other bit is malformed. A credit id
    // above 2**32 cannot be packed (and no such id is ever listed). The signature covers the
    // decoded fields, so the packing needs no trust: a wrong byte only fails the signature.
    uint256 internal constant PACKED_GROUP_HEADER = 34;
    uint256 internal constant PACKED_RECEIPT = 128;
    uint256 internal constant PACKED_REFERRER = 20;
    uint256 internal constant PACKED_READINGS = 32;

    /// @notice A packed batch is truncated or has unknown flags at byte `offset`.
    error ReceiptBadEncoding(uint256 offset);

    /// @notice Read a group header at calldata offset `p`: writes the station id into the
    ///         buffer; returns the receipt count and the offset after the header, or ok = false
    ///         when the header runs past `end`.
    function unpackGroup(uint256 buf, uint256 p, uint256 end)
        internal
        pure
        returns (bool ok, uint256 next, uint256 count)
    {
        assembly ("memory-safe") {
            next := add(p, PACKED_GROUP_HEADER)
            ok := iszero(gt(next, end))
            mstore(add(buf, BUF_STATION_ID), calldataload(p))
            count := shr(240, calldataload(add(p, 32)))
        }
    }

    /// @notice Decode the packed receipt at calldata offset `p` into the buffer (the station id
    ///         is the group's); returns the signature and the offset after the receipt, or
    ///         ok = false when it runs past `end` or its flags are unknown.
    function unpackReceipt(uint256 buf, uint256 p, uint256 end)
        internal
        pure
        returns (bool ok, uint256 next, bytes32 r, bytes32 vs)
    {
        assembly ("memory-safe") {
            let w := calldataload(p)
            let flags := byte(0, w)
            let hasReferrer := and(flags, 1)
            let hasReadings := shr(1, flags)
            let tail := add(p, add(PACKED_RECEIPT, mul(hasReferrer, PACKED_REFERRER)))
            next := add(tail, mul(hasReadings, PACKED_READINGS))
            ok := and(lt(flags, 4), iszero(gt(next, end)))
            mstore(add(buf, BUF_SESSION_ID), and(shr(184, w), 0xffffffffffffffff))
            mstore(add(buf, 0x60), byte(9, w)) // connectorId
            mstore(add(buf, BUF_DRIVER), and(shr(16, w), 0xffffffffffffffffffffffffffffffffffffffff))
            w := calldataload(add(p, 30))
            mstore(add(buf, BUF_CREDIT_ID), shr(224, w))
            mstore(add(buf, BUF_ENERGY_WH), and(shr(192, w), 0xffffffff))
            mstore(add(buf, BUF_START), and(shr(152, w), 0xffffffffff))
            mstore(add(buf, BUF_END), and(shr(112, w), 0xffffffffff))
            mstore(add(buf, BUF_COST), shr(128, calldataload(add(p, 48))))
            r := calldataload(add(p, 64))
            vs := calldataload(add(p, 96))
            mstore(add(buf, BUF_REFERRER), mul(hasReferrer, shr(96, calldataload(add(p, PACKED_RECEIPT)))))
            mstore(add(buf, BUF_READINGS), mul(hasReadings, calldataload(tail)))
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
                r.referrer,
                r.readings
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
