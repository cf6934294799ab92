"""The packed batch encoding of ``settlePacked`` (contracts/libraries/ReceiptLib.sol).

The ledger's only settlement encoding (``settlePacked``, ``settleSigned``): about 1,200 gas
a receipt cheaper than the ABI encoding of ``SignedReceipt`` tuples (the removed
``settleBatch``) because calldata costs 16 gas a non-zero byte and the ABI pads every field
to 32 bytes and repeats the station id in every receipt. Big-endian, no padding::

    batch   := group*
    group   := stationId (32) | count (2) | receipt{count}
    receipt := flags (1) | sessionId (8) | connectorId (1) | driver (20) | creditId (4)
               | energyWh (4) | startTime (5) | endTime (5) | cost (16) | r (32) | vs (32)
               | referrer (20, only when flags & 1) | readings (32, only when flags & 2)

Consecutive receipts of the same station share a group, so sort the batch by station first.
The station signs the EIP-712 fields, not these bytes: decoding on chain rebuilds the fields and a
wrong byte only fails the signature check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wattnet.chain.eip712 import compact_signature
from wattnet.domain import ZERO_ADDRESS, SessionReceipt
from wattnet.errors import ReceiptError

GROUP_HEADER = 34
RECEIPT_SIZE = 128
REFERRER_SIZE = 20
READINGS_SIZE = 32
MAX_GROUP = 0xFFFF
# (name, byte width) in encoding order, between flags and the signature.
_WIDTHS = (
    ("session_id", 8),
    ("connector_id", 1),
    ("driver", 20),
    ("credit_id", 4),
    ("energy_wh", 4),
    ("start_time", 5),
    ("end_time", 5),
    ("cost", 16),
)


def _address(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _pack_receipt(r: SessionReceipt, sig_r: bytes, vs: bytes) -> bytes:
    has_referrer = int(r.referrer, 16) != 0
    has_readings = r.readings != bytes(32)
    out = bytearray([int(has_referrer) | int(has_readings) << 1])
    for name, width in _WIDTHS:
        value = getattr(r, name)
        if name == "driver":
            out += _address(value)
            continue
        if not 0 <= value < 1 << (8 * width):
            raise ReceiptError(f"{name}={value} does not fit the packed encoding ({width} bytes)")
        out += value.to_bytes(width, "big")
    if len(sig_r) != 32 or len(vs) != 32:
        raise ReceiptError("a compact signature is r and vs of 32 bytes each")
    out += sig_r + vs
    if has_referrer:
        out += _address(r.referrer)
    if has_readings:
        out += r.readings
    return bytes(out)


def pack_batch(items: Iterable[tuple[SessionReceipt, bytes]]) -> bytes:
    """Encode (receipt, 65-byte signature) pairs; same-station neighbours share a group."""
    return pack_compact((r, *compact_signature(sig)) for r, sig in items)


def pack_compact(items: Iterable[tuple[SessionReceipt, bytes, bytes]]) -> bytes:
    """Encode (receipt, r, vs) triples: the signature in EIP-2098 compact form, as sent."""
    out = bytearray()
    group: list[bytes] = []
    station: bytes | None = None

    def flush() -> None:
        if group:
            assert station is not None
            out.extend(station + len(group).to_bytes(2, "big"))
            out.extend(b"".join(group))
            group.clear()

    for receipt, sig_r, vs in items:
        if receipt.station_id != station or len(group) == MAX_GROUP:
            flush()
            station = receipt.station_id
        group.append(_pack_receipt(receipt, sig_r, vs))
    flush()
    return bytes(out)


def pack_tuples(items: Iterable[tuple[Any, bytes, bytes]]) -> bytes:
    """Encode ABI ``SignedReceipt`` tuples ((receipt fields...), r, vs), as tests and tools
    build them, in the packed form: the same batch for ``settlePacked``."""
    return pack_compact((SessionReceipt(*receipt), bytes(r), bytes(vs))
                        for receipt, r, vs in items)


def _take(data: bytes, at: int, width: int) -> int:
    if at + width > len(data):
        raise ReceiptError(f"packed batch truncated at byte {at}")
    return int.from_bytes(data[at:at + width], "big")


def unpack_batch(data: bytes) -> list[tuple[SessionReceipt, bytes, bytes]]:
    """Decode a packed batch into (receipt, r, vs) triples, as the contract reads it."""
    out: list[tuple[SessionReceipt, bytes, bytes]] = []
    at = 0
    while at < len(data):
        if at + GROUP_HEADER > len(data):
            raise ReceiptError(f"packed batch truncated at byte {at}")
        station = data[at:at + 32]
        count = _take(data, at + 32, 2)
        at += GROUP_HEADER
        for _ in range(count):
            flags = _take(data, at, 1)
            if flags > 3:
                raise ReceiptError(f"packed receipt at byte {at} has unknown flags {flags}")
            fields: dict[str, object] = {}
            pos = at + 1
            for name, width in _WIDTHS:
                value = _take(data, pos, width)
                is_address = name == "driver"
                fields[name] = "0x" + value.to_bytes(20, "big").hex() if is_address else value
                pos += width
            sig_r = data[pos:pos + 32]
            vs = data[pos + 32:pos + 64]
            _take(data, pos, 64)
            pos += 64
            referrer = ZERO_ADDRESS
            if flags & 1:
                referrer = "0x" + _take(data, pos, REFERRER_SIZE).to_bytes(20, "big").hex()
                pos += REFERRER_SIZE
            readings = bytes(READINGS_SIZE)
            if flags & 2:
                readings = _take(data, pos, READINGS_SIZE).to_bytes(READINGS_SIZE, "big")
                pos += READINGS_SIZE
            receipt = SessionReceipt(station_id=station, referrer=referrer, readings=readings,
                                     **fields)  # type: ignore[arg-type]
            out.append((receipt, sig_r, vs))
            at = pos
    return out

