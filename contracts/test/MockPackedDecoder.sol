// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReceiptLib} from "../libraries/ReceiptLib.sol";

/// @notice Test double: decodes a packed batch exactly as `settlePacked` does and returns, per
///         receipt, hashStruct || r || vs (96 bytes), so tests can compare with Python at every
///         field width without a signature having to verify. The loop mirrors settlePacked's
///         (kept inline there: an iterator function costs ~130 gas a receipt).
contract MockPackedDecoder {
    function decodePacked(bytes calldata packed) external pure returns (bytes memory out) {
        uint256 buf = ReceiptLib.newBuffer();
        uint256 start;
        uint256 end;
        assembly ("memory-safe") {
            start := packed.offset
            end := add(start, packed.length)
        }
        uint256 p = start;
        while (p < end) {
            uint256 count;
            bool ok;
            uint256 at = p;
            (ok, p, count) = ReceiptLib.unpackGroup(buf, p, end);
            if (!ok) revert ReceiptLib.ReceiptBadEncoding(at - start);
            for (; count != 0; --count) {
                bytes32 r;
                bytes32 vs;
                at = p;
                (ok, p, r, vs) = ReceiptLib.unpackReceipt(buf, p, end);
                if (!ok) revert ReceiptLib.ReceiptBadEncoding(at - start);
                out = bytes.concat(out, ReceiptLib.structHashOf(buf), r, vs);
            }
        }
    }
}
