"""Build OCMF records signed with a P-256 meter key, for the meter-data tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def meter_key(seed: int = 1) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(0xC0FFEE + seed, ec.SECP256R1())


def public_xy(key: ec.EllipticCurvePrivateKey) -> bytes:
    n = key.public_key().public_numbers()
    return n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")


def ocmf_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S,000+0000") + " S"


def reading(ts: int, wh: int, tx: str) -> dict[str, Any]:
    return {"TM": ocmf_time(ts), "TX": tx, "RV": round(wh / 1000, 3), "RI": "1-b:1.8.0",
            "RU": "kWh", "RT": "AC", "ST": "G"}


def payload(start: int, end: int, start_wh: int, end_wh: int, serial: str = "SN-0001",
            charge_point: str | None = "CP-1", readings: list[dict[str, Any]] | None = None,
            ) -> dict[str, Any]:
    out: dict[str, Any] = {
        "FV": "1.0", "GI": "WattNet Gateway", "GS": "GW-1", "GV": "1.0", "PG": "T1",
        "MV": "Acme", "MM": "EM-1", "MS": serial, "MF": "1.0", "IS": True, "IL": "VERIFIED",
        "IF": ["RFID_PLAIN"], "IT": "ISO14443", "ID": "1F2D3A4B",
        "RD": readings if readings is not None else [reading(start, start_wh, "B"),
                                                       reading(end, end_wh, "E")],
    }
    if charge_point is not None:
        out["CT"] = "CBIDC"
        out["CI"] = charge_point
    return out


def sign_ocmf(body: dict[str, Any] | str, key: ec.EllipticCurvePrivateKey,
              algorithm: str = "ECDSA-secp256r1-SHA256") -> str:
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    sig = key.sign(text.encode(), ec.ECDSA(hashes.SHA256()))
    return "OCMF|" + text + "|" + json.dumps({"SA": algorithm, "SD": sig.hex()},
                                               separators=(",", ":"))
