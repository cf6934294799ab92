"""The hot path: wire JSON -> checked fields -> struct hash -> recovered signer, in ~40 us.

Equivalent to ``receipt_codec.signed_from_json`` + ``eip712.recover_receipt_signer`` (a property
test holds them together) but without building checksummed addresses or dataclasses per receipt:
addresses stay 20 raw bytes, the domain separator is precomputed, keccak is pysha3 when present,
and the signer is compared as bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coincurve import PublicKey
from eth_utils.address import to_checksum_address

from wattnet.chain.eip712 import SECP256K1_HALF_N, SESSION_RECEIPT_TYPEHASH
from wattnet.domain import SessionReceipt, SignedReceipt
from wattnet.errors import ReceiptError, SignatureError
from wattnet.oracle.directory import CachedStationDirectory, StationFacts

try:  # pysha3 hashes ~4x faster than eth-hash's pycryptodome backend; same digest
    from sha3 import keccak_256 as _keccak_256

    def keccak(data: bytes) -> bytes:
        return _keccak_256(data).digest()  # type: ignore[no-any-return]

except ImportError:  # pragma: no cover - depends on the environment
    from eth_utils.crypto import keccak  # type: ignore[assignment]

_RECEIPT_KEYS = frozenset(
    ("stationId", "sessionId", "connectorId", "driver", "creditId", "energyWh", "startTime",
     "endTime", "cost", "referrer", "readings")
)
_BODY_KEYS = frozenset(("receipt", "signature", "meterData"))
_U8, _U32, _U40, _U64 = 2**8 - 1, 2**32 - 1, 2**40 - 1, 2**64 - 1
_U128, _U256 = 2**128 - 1, 2**256 - 1
_PAD12 = bytes(12)


class RejectedReceipt(ReceiptError):
    """The payload is malformed or badly signed: answered 400 and kept in the bounded reject log."""


@dataclass(frozen=True, slots=True)
class WireReceipt:
    """A signed receipt as checked fields; addresses are 20 raw bytes."""

    station_id: bytes
    session_id: int
    connector_id: int
    driver: bytes
    credit_id: int
    energy_wh: int
    start_time: int
    end_time: int
    cost: int
    referrer: bytes
    signature: bytes
    meter_data: str | None
    struct_hash: bytes
    readings: bytes

    def to_domain(self) -> SignedReceipt:
        return SignedReceipt(
            receipt=SessionReceipt(
                station_id=self.station_id,
                session_id=self.session_id,
                connector_id=self.connector_id,
                driver=to_checksum_address(self.driver),
                credit_id=self.credit_id,
                energy_wh=self.energy_wh,
                start_time=self.start_time,
                end_time=self.end_time,
                cost=self.cost,
                referrer=to_checksum_address(self.referrer),
                readings=self.readings,
            ),
            signature=self.signature,
            meter_data=self.meter_data,
        )


def _uint(obj: dict[str, Any], name: str, bound: int) -> int:
    value = obj[name]
    if type(value) is not int or not 0 <= value <= bound:
        raise RejectedReceipt(f"{name} must be an integer in 0..{bound}, got {value!r}")
    return value


def _hex(value: Any, length: int, name: str) -> bytes:
    if type(value) is not str or len(value) != 2 + 2 * length or value[:2] != "0x":
        raise RejectedReceipt(f"{name} must be 0x followed by {2 * length} hex digits")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raw = b""
    if len(raw) != length:
        raise RejectedReceipt(f"{name} is not valid hex")
    return raw


def struct_hash_of(
    station_id: bytes, session_id: int, connector_id: int, driver: bytes, credit_id: int,
    energy_wh: int, start_time: int, end_time: int, cost: int, referrer: bytes, readings: bytes,
) -> bytes:
    """``hashStruct(SessionReceipt)`` from raw fields (same value as eip712.receipt_struct_hash)."""
    return keccak(
        b"".join((
            SESSION_RECEIPT_TYPEHASH, station_id, session_id.to_bytes(32, "big"),
            connector_id.to_bytes(32, "big"), _PAD12, driver, credit_id.to_bytes(32, "big"),
            energy_wh.to_bytes(32, "big"), start_time.to_bytes(32, "big"),
            end_time.to_bytes(32, "big"), cost.to_bytes(32, "big"), _PAD12, referrer, readings,
        ))
    )


def parse_wire(obj: Any) -> WireReceipt:
    """Check a ``signed_to_json`` object field by field; raises RejectedReceipt with the reason."""
    if type(obj) is not dict:
        raise RejectedReceipt("body must be a JSON object with receipt, signature, meterData")
    if not obj.keys() <= _BODY_KEYS:
        raise RejectedReceipt(f"unknown keys in body: {sorted(set(obj) - _BODY_KEYS)}")
    rec = obj.get("receipt")
    if type(rec) is not dict:
        raise RejectedReceipt("receipt must be a JSON object")
    if rec.keys() != _RECEIPT_KEYS:
        raise RejectedReceipt(
            f"receipt fields wrong: missing {sorted(_RECEIPT_KEYS - set(rec))}, "
            f"unknown {sorted(set(rec) - _RECEIPT_KEYS)}"
        )
    meter = obj.get("meterData")
    if meter is not None and type(meter) is not str:
        raise RejectedReceipt("meterData must be a string or null")
    station_id = _hex(rec["stationId"], 32, "stationId")
    session_id = _uint(rec, "sessionId", _U64)
    connector_id = _uint(rec, "connectorId", _U8)
    driver = _hex(rec["driver"], 20, "driver")
    credit_id = _uint(rec, "creditId", _U256)
    energy_wh = _uint(rec, "energyWh", _U32)
    start_time = _uint(rec, "startTime", _U40)
    end_time = _uint(rec, "endTime", _U40)
    cost = _uint(rec, "cost", _U128)
    referrer = _hex(rec["referrer"], 20, "referrer")
    readings = _hex(rec["readings"], 32, "readings")
    return WireReceipt(
        station_id, session_id, connector_id, driver, credit_id, energy_wh, start_time, end_time,
        cost, referrer, _hex(obj.get("signature"), 65, "signature"), meter,
        struct_hash_of(station_id, session_id, connector_id, driver, credit_id, energy_wh,
                       start_time, end_time, cost, referrer, readings),
        readings,
    )


def recover_signer(digest: bytes, signature: bytes) -> bytes:
    """The 20-byte address behind a 65-byte r||s||v signature; refuses high s and v not 27/28."""
    v = signature[64]
    if v != 27 and v != 28:
        raise SignatureError(f"signature v must be 27 or 28, got {v}")
    s = int.from_bytes(signature[32:64], "big")
    if s == 0 or s > SECP256K1_HALF_N:
        raise SignatureError("signature s is zero or in the upper half of the curve order")
    try:
        pub = PublicKey.from_signature_and_message(
            signature[:64] + (b"\x00" if v == 27 else b"\x01"), digest, hasher=None
        )
    except Exception as exc:  # coincurve raises a bare Exception for invalid signatures
        raise SignatureError(f"signature does not recover to a public key: {exc}") from exc
    return keccak(pub.format(compressed=False)[1:])[-20:]


class Verifier:
    """Station-signature verification against the registry, with a precomputed domain."""

    def __init__(self, domain_separator: bytes, directory: CachedStationDirectory) -> None:
        self._prefix = b"\x19\x01" + domain_separator
        self.directory = directory

    def prefetch(self, objs: list[Any]) -> None:
        """Warm the directory with the stations ``objs`` name (receipts as posted; anything
        malformed is skipped here and refused by ``parse_wire``)."""
        ids = set()
        for obj in objs:
            try:
                sid = bytes.fromhex(str(obj["receipt"]["stationId"]).removeprefix("0x"))
            except (KeyError, TypeError, ValueError):
                continue
            if len(sid) == 32:
                ids.add(sid)
        self.directory.prefetch(ids)

    def verify(self, wire: WireReceipt) -> StationFacts:
        """The station's facts when the signature is its active signer's; else RejectedReceipt."""
        facts = self.directory.facts(wire.station_id)
        if facts is None:
            raise RejectedReceipt(f"unknown station 0x{wire.station_id.hex()}")
        if not facts.info.active:
            raise RejectedReceipt(f"station 0x{wire.station_id.hex()} is not active")
        try:
            signer = recover_signer(keccak(self._prefix + wire.struct_hash), wire.signature)
        except SignatureError as exc:
            raise RejectedReceipt(f"bad signature: {exc}") from exc
        if signer != facts.signer:
            raise RejectedReceipt(
                f"signature by 0x{signer.hex()} is not the station signer {facts.info.signer}"
            )
        return facts
