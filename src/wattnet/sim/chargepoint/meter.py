"""A simulated energy meter: an import register that can sign OCMF readings with P-256."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def ocmf_time(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S,") + f"{dt.microsecond // 1000:03d}+0000 S"


@dataclass(slots=True)
class SimMeter:
    """``register_wh`` only grows (unless a test makes it lie); ``key`` signs OCMF if set."""

    serial: str = "SIM-METER-1"
    register_wh: int = 0
    key: ec.EllipticCurvePrivateKey | None = None
    pagination: int = 0
    _signed: list[str] = field(default_factory=list)

    @classmethod
    def signing(cls, serial: str = "SIM-METER-1", register_wh: int = 0) -> SimMeter:
        return cls(serial, register_wh, ec.generate_private_key(ec.SECP256R1()))

    def public_key_der_hex(self) -> str:
        assert self.key is not None
        return (
            self.key.public_key()
            .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            .hex()
        )

    def public_key_xy_hex(self) -> str:
        assert self.key is not None
        return (
            self.key.public_key()
            .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]
            .hex()
        )

    def advance(self, wh: int) -> int:
        self.register_wh += wh
        return self.register_wh

    def ocmf(
        self,
        reason: str,
        at: float,
        id_token: str = "",
        register_wh: int | None = None,
    ) -> str:
        """One signed OCMF record ``OCMF|payload|signature`` for the current register."""
        assert self.key is not None, "this meter does not sign"
        self.pagination += 1
        wh = self.register_wh if register_wh is None else register_wh
        payload = {
            "FV": "1.0",
            "GI": "WattNet Sim",
            "GS": self.serial,
            "GV": "1.0",
            "PG": f"T{self.pagination}",
            "MV": "WattNet",
            "MM": "SimMeter",
            "MS": self.serial,
            "MF": "1.0",
            "IS": True,
            "IL": "VERIFIED",
            "IF": ["RFID_PLAIN"],
            "IT": "ISO14443",
            "ID": id_token or "00000000",
            "RD": [
                {
                    "TM": ocmf_time(at),
                    "TX": reason,
                    "RV": wh / 1000,
                    "RI": "1-b:1.8.0",
                    "RU": "kWh",
                    "RT": "AC",
                    "EF": "",
                    "ST": "G",
                }
            ],
        }
        payload_json = json.dumps(payload, separators=(",", ":"))
        sig = self.key.sign(payload_json.encode(), ec.ECDSA(hashes.SHA256()))
        signature = {"SA": "ECDSA-secp256r1-SHA256", "SD": sig.hex()}
        return f"OCMF|{payload_json}|{json.dumps(signature, separators=(',', ':'))}"
