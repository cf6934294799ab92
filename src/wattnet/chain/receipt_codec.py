"""The JSON wire form of a signed receipt, shared by gateway (sender) and oracle (receiver).

POST /v1/receipts carries exactly one object:

    {"receipt": {"stationId": "0x<64 hex>", "sessionId": 7, "connectorId": 1,
                 "driver": "0x..", "creditId": 1, "energyWh": 5000, "startTime": 1700000000,
                 "endTime": 1700003600, "cost": 1750000, "referrer": "0x00..00",
                 "readings": "0x<64 hex>"},
     "signature": "0x<130 hex>", "meterData": "OCMF|{...}|{...}" or null}

Integers are JSON numbers (all fit in 2**128 and are exact in Python's json); unknown keys are
rejected so that a typo never silently drops a field.
"""

from __future__ import annotations

from typing import Any

from wattnet.domain import SessionReceipt, SignedReceipt
from wattnet.errors import ReceiptError

_FIELDS = (
    ("stationId", "station_id"),
    ("sessionId", "session_id"),
    ("connectorId", "connector_id"),
    ("driver", "driver"),
    ("creditId", "credit_id"),
    ("energyWh", "energy_wh"),
    ("startTime", "start_time"),
    ("endTime", "end_time"),
    ("cost", "cost"),
    ("referrer", "referrer"),
    ("readings", "readings"),
)
_INT_FIELDS = {"sessionId", "connectorId", "creditId", "energyWh", "startTime", "endTime", "cost"}


def hex_bytes(value: Any, length: int, name: str,
              error: type[ReceiptError] = ReceiptError) -> bytes:
    """``value`` as exactly ``length`` bytes from "0x" + hex, or ``error`` naming ``name``."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 2 + 2 * length:
        raise error(f"{name} must be 0x followed by {2 * length} hex digits")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise error(f"{name} is not valid hex") from exc


def receipt_to_json(r: SessionReceipt) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for wire, attr in _FIELDS:
        value = getattr(r, attr)
        out[wire] = "0x" + value.hex() if isinstance(value, bytes) else value
    return out


def receipt_from_json(obj: Any) -> SessionReceipt:
    if not isinstance(obj, dict):
        raise ReceiptError("receipt must be a JSON object")
    unknown = set(obj) - {wire for wire, _ in _FIELDS}
    missing = {wire for wire, _ in _FIELDS} - set(obj)
    if unknown or missing:
        raise ReceiptError(
            f"receipt fields wrong: missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    for name in _INT_FIELDS:
        if type(obj[name]) is not int:
            raise ReceiptError(f"{name} must be an integer, got {obj[name]!r}")
    kwargs: dict[str, Any] = {attr: obj[wire] for wire, attr in _FIELDS}
    kwargs["station_id"] = hex_bytes(obj["stationId"], 32, "stationId")
    kwargs["readings"] = hex_bytes(obj["readings"], 32, "readings")
    return SessionReceipt(**kwargs)


def signed_to_json(s: SignedReceipt) -> dict[str, Any]:
    return {
        "receipt": receipt_to_json(s.receipt),
        "signature": "0x" + s.signature.hex(),
        "meterData": s.meter_data,
    }


def signed_from_json(obj: Any) -> SignedReceipt:
    if not isinstance(obj, dict):
        raise ReceiptError("body must be a JSON object with receipt, signature, meterData")
    unknown = set(obj) - {"receipt", "signature", "meterData"}
    if unknown:
        raise ReceiptError(f"unknown keys in body: {sorted(unknown)}")
    meter = obj.get("meterData")
    if meter is not None and not isinstance(meter, str):
        raise ReceiptError("meterData must be a string or null")
    return SignedReceipt(
        receipt=receipt_from_json(obj.get("receipt")),
        signature=hex_bytes(obj.get("signature"), 65, "signature"),
        meter_data=meter,
    )
