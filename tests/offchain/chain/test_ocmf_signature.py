"""``verify_p256`` (the loaded meter key kept) answers as pyocmf's ``verify_signature`` does,
for good records and for every way one can be wrong."""

from __future__ import annotations

import base64
import json
import warnings

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyocmf import OCMF, PyOCMFError

from wattnet.chain.ocmf_signature import verify_p256
from wattnet.sim.chargepoint.meter import SimMeter

T = 1_750_000_000.0


def _der(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _parse(text: str) -> OCMF:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OCMF.from_string(text)


def _with_signature(text: str, **fields: str) -> str:
    head, payload, sig = text.split("|")
    return "|".join((head, payload, json.dumps(json.loads(sig) | fields)))


def _cases() -> list[tuple[str, str, bytes]]:
    meter = SimMeter.signing(register_wh=1_000)
    good = meter.ocmf("B", T, "TAG-1")
    assert meter.key is not None
    key = _der(meter.key)
    sd = json.loads(good.split("|")[2])["SD"]
    head, payload, sig = good.split("|")
    return [
        ("good", good, key),
        ("another meter's key", good, _der(ec.generate_private_key(ec.SECP256R1()))),
        ("payload changed", "|".join((head, payload.replace('"RV":1', '"RV":9'), sig)), key),
        ("signature base64", _with_signature(
            good, SE="base64", SD=base64.b64encode(bytes.fromhex(sd)).decode()), key),
        ("signature not hex", _with_signature(good, SD="zz" + sd[2:]), key),
        ("signature not DER", _with_signature(good, SD="00" * 64), key),
        ("key on another curve", good, _der(ec.generate_private_key(ec.SECP256K1()))),
        ("key not DER", good, b"\x30\x03\x01\x02\x03"),
    ]


@pytest.mark.parametrize("name", [c[0] for c in _cases()])
def test_verify_p256__answers_as_pyocmf(name: str) -> None:
    _, text, key = next(c for c in _cases() if c[0] == name)
    record = _parse(text)

    def outcome(check: object) -> object:
        try:
            return check()  # type: ignore[operator]
        except PyOCMFError:
            return "error"

    ours = outcome(lambda: verify_p256(record, key))
    theirs = outcome(lambda: record.verify_signature(key.hex()))
    assert ours == theirs
    assert ours == {"good": True, "signature base64": True, "another meter's key": False,
                    "payload changed": False, "signature not DER": False}.get(name, "error")
