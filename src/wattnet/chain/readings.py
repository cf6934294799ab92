"""The receipt's commitment to its signed meter readings (``contracts/libraries/ReadingsLib.sol``).

A certified meter signs each reading as an OCMF record ``OCMF|payload|{"SA":..,"SD":"<DER>"}``.
The receipt's ``readings`` field commits to the meter key and to the first and last records of
the session (the records holding the begin and the end reading; one record twice when it holds
both), each with its signature as (r, s) with s low, since OpenZeppelin's P256 refuses the
high-s twin. Anyone holding the records can rebuild the preimage and, if the readings do not
back the receipt, prove it on chain (``ReadingsProofs``).

The register parser mirrors the contract's byte for byte: the first ``"RV"`` and ``"RU"`` of
the begin payload, the last of the end payload; kWh truncated to whole Wh.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from eth_utils.crypto import keccak

from wattnet.errors import WattNetError

TAG = keccak(text="WattNet.Readings.v1")
NO_READINGS = bytes(32)
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class ReadingsError(WattNetError):
    """The records cannot form a readings commitment (not OCMF, bad signature encoding)."""


@dataclass(frozen=True, slots=True)
class SignedRecord:
    payload: bytes
    r: int
    s: int  # low: s <= n/2

    def as_tuple(self) -> tuple[bytes, bytes, bytes]:
        return (self.payload, self.r.to_bytes(32, "big"), self.s.to_bytes(32, "big"))


@dataclass(frozen=True, slots=True)
class Readings:
    """The preimage of a receipt's ``readings`` field (ABI ``ReadingsLib.Readings``)."""

    key_x: bytes
    key_y: bytes
    begin: SignedRecord
    end: SignedRecord

    def commitment(self) -> bytes:
        return keccak(
            TAG + self.key_x + self.key_y
            + _record_words(self.begin) + _record_words(self.end)
        )

    def as_tuple(self) -> tuple[object, ...]:
        return (self.key_x, self.key_y, self.begin.as_tuple(), self.end.as_tuple())


def _record_words(rec: SignedRecord) -> bytes:
    return keccak(rec.payload) + rec.r.to_bytes(32, "big") + rec.s.to_bytes(32, "big")


@lru_cache(maxsize=4_096)
def meter_key_xy(key: str | bytes) -> tuple[bytes, bytes]:
    """(x, y) of a P-256 meter key given as x || y (64 bytes) or DER SubjectPublicKeyInfo,
    raw or hex (remembered: a node commits to two records of the same meter per session)."""
    raw = bytes.fromhex(key.removeprefix("0x")) if isinstance(key, str) else bytes(key)
    if len(raw) == 64:
        return raw[:32], raw[32:]
    try:
        pub = load_der_public_key(raw)
    except ValueError as exc:
        raise ReadingsError(f"meter key is neither x||y nor DER: {exc}") from exc
    if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
        raise ReadingsError("meter key is not a P-256 key")
    nums = pub.public_numbers()
    return nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big")


def signed_record(text: str) -> SignedRecord:
    """Split one OCMF record into its signed payload bytes and a low-s (r, s)."""
    parts = text.split("|")
    if len(parts) != 3 or parts[0] != "OCMF":
        raise ReadingsError("an OCMF record is OCMF|payload|signature")
    try:
        sd = json.loads(parts[2])["SD"]
        r, s = decode_dss_signature(bytes.fromhex(sd))
    except (ValueError, KeyError, TypeError) as exc:
        raise ReadingsError(f"OCMF signature is not a hex DER ECDSA signature: {exc}") from exc
    if s > P256_N // 2:
        s = P256_N - s
    return SignedRecord(parts[1].encode("utf-8"), r, s)


def readings_of(records: Sequence[str], meter_key: str | bytes) -> Readings:
    """The readings of a session: its first and last signed records, under the meter key."""
    if not records:
        raise ReadingsError("no signed records")
    x, y = meter_key_xy(meter_key if isinstance(meter_key, str) else bytes(meter_key))
    return Readings(x, y, signed_record(records[0]), signed_record(records[-1]))


def commitment_of(meter_data: str | None, meter_key: str | bytes | None) -> bytes:
    """What the receipt's ``readings`` field must hold for this meter data (one record per
    line), or zero bytes when there is none."""
    if not meter_data or meter_key is None:
        return NO_READINGS
    return readings_of(meter_data.split("\n"), meter_key).commitment()


_KEY = {name: re.compile(rb'"' + name + rb'"[ \t\r\n]*:[ \t\r\n]*') for name in (b"RV", b"RU")}
_NUMBER = re.compile(rb"([0-9]+)(?:\.([0-9]+))?")


def register_wh(payload: bytes, last: bool) -> int | None:
    """The register in Wh as ``ReadingsLib.registerWh`` reads it; None where it would revert."""
    found = {}
    for name, pattern in _KEY.items():
        hits = list(pattern.finditer(payload))
        if not hits:
            return None
        found[name] = hits[-1 if last else 0].end()
    at_u = found[b"RU"]
    if payload.startswith(b'"kWh"', at_u):
        scale = 1000
    elif payload.startswith(b'"Wh"', at_u):
        scale = 1
    else:
        return None
    m = _NUMBER.match(payload, found[b"RV"])
    if m is None or len(m.group(1)) > 30:
        return None
    if payload[m.end():m.end() + 1] in (b"e", b"E") or payload[m.end():m.end() + 1] == b".":
        return None
    frac = (m.group(2) or b"")[:3 if scale == 1000 else 0].ljust(3 if scale == 1000 else 0, b"0")
    return int(m.group(1)) * scale + (int(frac) if frac else 0)


def registers_wh(rd: Readings) -> tuple[int, int] | None:
    """(begin, end) register in Wh, or None where the contract's parser would revert."""
    begin = register_wh(rd.begin.payload, last=False)
    end = register_wh(rd.end.payload, last=True)
    return None if begin is None or end is None else (begin, end)
