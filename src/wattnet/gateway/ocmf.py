"""Signed meter data (OCMF, ECDSA P-256) passed on with the receipt, verified with ``pyocmf``.

``pyocmf`` parses the record and checks the signature over the exact payload bytes it received
(so any change, whitespace included, fails). It has no notion of a session, so the session rules
are ours: one meter serial, the key bound to the station, P-256 only, readings in order, a
begin and an end reading, no duplicates, nothing from the future, nothing outside the session,
and no record seen before in another session or station (checked against the store).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import warnings
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyocmf import OCMF, PyOCMFError, SignatureMethod
from pyocmf.exceptions import SpecWarning

from wattnet.chain.ocmf_signature import verify_p256
from wattnet.gateway.errors import MeterDataError

log = logging.getLogger(__name__)

ALLOWED_METHODS = frozenset({SignatureMethod.SECP256R1_SHA256})
CLOCK_SKEW_S = 300


@lru_cache(maxsize=4_096)
def meter_key_der_hex(configured: str) -> str:
    """Accept the station's meter key as DER hex or as 64-byte x || y hex; return DER hex."""
    raw = bytes.fromhex(configured.removeprefix("0x"))
    if len(raw) == 64:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)
        return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo).hex()
    return raw.hex()


@dataclass(frozen=True, slots=True)
class VerifiedMeterData:
    text: str  # the records, one per line, exactly as the meter signed them
    energy_wh: int  # end register minus begin register
    digests: tuple[bytes, ...]


def _wh(value: Decimal | None, unit: object) -> int:
    if value is None:
        raise MeterDataError("OCMF reading without a register value")
    unit_s = str(unit)
    if unit_s == "kWh":
        return int(value * 1000)
    if unit_s == "Wh":
        return int(value)
    raise MeterDataError(f"OCMF reading in unsupported unit {unit_s!r}")


def verify_session_meter_data(
    records: tuple[str, ...],
    *,
    public_key: str,
    meter_serial: str | None,
    start_time: int,
    end_time: int,
    now: int,
    future_skew_s: int = CLOCK_SKEW_S,
) -> VerifiedMeterData:
    """Raise :class:`MeterDataError` with the reason unless the records prove the session;
    a reading more than `future_skew_s` after `now` is from the future."""
    if not records:
        raise MeterDataError("no signed meter data for a station whose meter signs")
    key_der = bytes.fromhex(meter_key_der_hex(public_key))
    digests: list[bytes] = []
    readings: list[tuple[int, str, int]] = []  # (time, reason, Wh)
    for text in records:
        digest = hashlib.sha256(text.encode()).digest()
        if digest in digests:
            raise MeterDataError("the same signed meter record appears twice")
        digests.append(digest)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SpecWarning)
                record = OCMF.from_string(text)
                method = record.signature.SA
                if method not in ALLOWED_METHODS:
                    raise MeterDataError(f"unsupported signature algorithm {method!r}")
                if not verify_p256(record, key_der):
                    raise MeterDataError("meter signature does not verify with the station's key")
        except PyOCMFError as exc:
            raise MeterDataError(f"OCMF record rejected: {exc}") from exc
        payload = record.payload
        if meter_serial is not None and meter_serial != payload.MS:
            raise MeterDataError(f"meter serial {payload.MS!r} is not this station's meter")
        for rd in payload.RD:
            t = int(rd.TM.timestamp.timestamp())
            tx_reason = rd.TX
            reason = "" if tx_reason is None else str(getattr(tx_reason, "value", tx_reason))
            readings.append((t, reason, _wh(rd.RV, rd.RU)))
    if not readings:
        raise MeterDataError("OCMF records hold no readings")
    for prev, cur in itertools.pairwise(readings):
        if cur[0] < prev[0] or cur[2] < prev[2]:
            raise MeterDataError("OCMF readings out of order (time or register going back)")
        if cur == prev:
            raise MeterDataError("duplicated OCMF reading")
    if readings[0][1] != "B":
        raise MeterDataError("OCMF data lacks the begin reading (TX=B) first")
    if readings[-1][1] not in ("E", "L", "R", "A", "P"):
        raise MeterDataError("OCMF data lacks the end reading (TX=E) last")
    if sum(1 for r in readings if r[1] == "B") != 1:
        raise MeterDataError("OCMF data has more than one begin reading")
    for t, _, _ in readings:
        if t > now + future_skew_s:
            raise MeterDataError("OCMF reading timestamped in the future")
        if not start_time - CLOCK_SKEW_S <= t <= end_time + CLOCK_SKEW_S:
            raise MeterDataError("OCMF reading outside this session (replayed from another?)")
    return VerifiedMeterData(
        text="\n".join(records),
        energy_wh=readings[-1][2] - readings[0][2],
        digests=tuple(digests),
    )
