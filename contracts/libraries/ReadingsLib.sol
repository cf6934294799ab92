// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title ReadingsLib
/// @notice The meter readings a receipt commits to, and what a fraud proof reads from them.
///         Mirrored in Python by `src/wattnet/chain/readings.py`.
/// @dev A certified meter signs each reading as an OCMF record: a JSON payload and an
///      ECDSA-P256-SHA256 signature over its exact bytes. The receipt's `readings` field commits
///      to the meter key, the record holding the begin reading and the record holding the end
///      reading (the same record twice when one record holds both), each with its signature
///      (`s` low, as OpenZeppelin's P256 requires: the high-s twin of a meter's signature is
///      normalised before committing). The register of a record is read from its payload's
///      `"RV"` (a non-negative decimal) and `"RU"` (`"kWh"` or `"Wh"`) keys: the first of each in
///      the begin record, the last of each in the end record; kWh are truncated to whole Wh as
///      the oracle does. Escaped quotes cannot form a key inside a JSON string, so a driver's id
///      token in the payload cannot fake one.
library ReadingsLib {
    /// @notice One signed OCMF record: the payload bytes the meter signed and its signature.
    struct SignedRecord {
        bytes payload;
        bytes32 r;
        bytes32 s;
    }

    /// @notice The preimage of a receipt's `readings` commitment.
    struct Readings {
        bytes32 keyX;
        bytes32 keyY;
        SignedRecord begin;
        SignedRecord end;
    }

    bytes32 internal constant TAG = keccak256("WattNet.Readings.v1");

    /// @notice The payload of record `which` (0 begin, 1 end) has no register this parser reads.
    error ReadingsUnparsable(uint256 which);

    /// @notice What a receipt's `readings` field holds for these readings.
    function commitment(Readings calldata rd) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                TAG,
                rd.keyX,
                rd.keyY,
                keccak256(rd.begin.payload),
                rd.begin.r,
                rd.begin.s,
                keccak256(rd.end.payload),
                rd.end.r,
                rd.end.s
            )
        );
    }

    /// @notice keccak256(x, y) of the meter key, as the registry records certified meters.
    function meterKeyHash(Readings calldata rd) internal pure returns (bytes32) {
        return keccak256(abi.encode(rd.keyX, rd.keyY));
    }

    /// @notice Both records carry the meter key's valid signature (OpenZeppelin `P256`: the
    ///         RIP-7212 precompile where the chain has one, Solidity otherwise).
    function signedByMeter(Readings calldata rd) internal view returns (bool) {
        return _signed(rd.begin, rd.keyX, rd.keyY) && _signed(rd.end, rd.keyX, rd.keyY);
    }

    /// @notice Begin and end register in Wh; reverts `ReadingsUnparsable` when a payload has none.
    function registersWh(Readings calldata rd) internal pure returns (uint256 beginWh, uint256 endWh) {
        beginWh = registerWh(rd.begin.payload, false);
        endWh = registerWh(rd.end.payload, true);
    }

    /// @notice The register of a payload: its first reading, or its last when `last`.
    function registerWh(bytes calldata payload, bool last) internal pure returns (uint256) {
        (bool okV, uint256 at) = _find(payload, "RV", last);
        (bool okU, uint256 unitAt) = _find(payload, "RU", last);
        if (!okV || !okU) revert ReadingsUnparsable(last ? 1 : 0);
        uint256 scale = _unitScale(payload, unitAt);
        if (scale == 0) revert ReadingsUnparsable(last ? 1 : 0);
        (bool okN, uint256 value) = _decimal(payload, at, scale);
        if (!okN) revert ReadingsUnparsable(last ? 1 : 0);
        return value;
    }

    function _signed(SignedRecord calldata rec, bytes32 x, bytes32 y) private view returns (bool) {
        return P256.verify(sha256(rec.payload), rec.r, rec.s, x, y);
    }

    /// @dev Offset just past `"KEY":` (whitespace allowed around the colon) of the first (or last)
    ///      occurrence of the two-letter key.
    function _find(bytes calldata p, bytes2 key, bool last) private pure returns (bool found, uint256 at) {
        uint256 n = p.length;
        for (uint256 i = 0; i + 4 <= n; ++i) {
            if (p[i] != '"' || p[i + 3] != '"' || bytes2(p[i + 1:i + 3]) != key) continue;
            uint256 j = _skipSpace(p, i + 4);
            if (j >= n || p[j] != ":") continue;
            found = true;
            at = _skipSpace(p, j + 1);
            if (!last) return (true, at);
        }
    }

    function _skipSpace(bytes calldata p, uint256 i) private pure returns (uint256) {
        while (i < p.length && (p[i] == " " || p[i] == "\t" || p[i] == "\n" || p[i] == "\r")) ++i;
        return i;
    }

    /// @dev Wh per unit of the string value at `at`: 1000 for "kWh", 1 for "Wh", 0 otherwise.
    function _unitScale(bytes calldata p, uint256 at) private pure returns (uint256) {
        if (at + 5 <= p.length && bytes5(p[at:at + 5]) == '"kWh"') return 1000;
        if (at + 4 <= p.length && bytes4(p[at:at + 4]) == '"Wh"') return 1;
        return 0;
    }

    /// @dev The non-negative decimal at `at` times `scale` (1000 or 1), fraction truncated.
    function _decimal(bytes calldata p, uint256 at, uint256 scale) private pure returns (bool ok, uint256 v) {
        uint256 n = p.length;
        uint256 i = at;
        for (; i < n && p[i] >= "0" && p[i] <= "9"; ++i) {
            if (i - at >= 30) return (false, 0); // no meter counts 10**30 kWh
            v = v * 10 + uint8(p[i]) - 48;
        }
        if (i == at) return (false, 0);
        // kWh keep three fraction digits (whole Wh), Wh none; further digits are truncated.
        uint256 places = scale == 1000 ? 3 : 0;
        uint256 frac = 0;
        uint256 kept = 0;
        if (i < n && p[i] == ".") {
            uint256 j = i + 1;
            for (; j < n && p[j] >= "0" && p[j] <= "9"; ++j) {
                if (kept < places) {
                    frac = frac * 10 + uint8(p[j]) - 48;
                    ++kept;
                }
            }
            if (j == i + 1) return (false, 0);
            i = j;
        }
        for (; kept < places; ++kept) frac *= 10;
        v = v * scale + frac;
        // An exponent would change the value: not a form this parser reads.
        if (i < n && (p[i] == "e" || p[i] == "E")) return (false, 0);
        ok = true;
    }
}
