"""An OCMF record's ECDSA-P256-SHA256 signature checked against a meter key, the key parsed
once per meter.

pyocmf's ``OCMF.verify_signature`` parses the key from its text form and loads it on every
call; a gateway checks two records per session and every oracle node the same two again, so
the loaded key is kept here (by its DER bytes) and the check goes straight to OpenSSL. The
signed bytes are exactly what pyocmf verifies: the payload JSON as it stood in the record.
Failures are pyocmf's ``SignatureVerificationError``, so callers handle them as before.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pyocmf import OCMF
from pyocmf.crypto.verification import decode_signature_data
from pyocmf.exceptions import SignatureVerificationError

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


@lru_cache(maxsize=4_096)
def p256_key(der: bytes) -> ec.EllipticCurvePublicKey:
    """A meter's P-256 public key from its DER SubjectPublicKeyInfo (remembered)."""
    try:
        key = load_der_public_key(der)
    except ValueError as exc:
        raise SignatureVerificationError(f"Failed to parse public key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise SignatureVerificationError("Public key curve mismatch: the meter key is not "
                                         "a P-256 (secp256r1) key")
    return key


def verify_p256(record: OCMF, key_der: bytes) -> bool:
    """Whether ``record`` (parsed by ``OCMF.from_string``, its method already checked to be
    ECDSA-secp256r1-SHA256) is signed by the meter key ``key_der``."""
    payload = record._original_payload_json
    if payload is None:
        raise SignatureVerificationError("the record was not parsed from a string")
    signature = decode_signature_data(record.signature.SD, record.signature.SE)
    try:
        p256_key(bytes(key_der)).verify(signature, payload.encode("utf-8"), _ECDSA_SHA256)
    except InvalidSignature:
        return False
    except (TypeError, ValueError) as exc:
        raise SignatureVerificationError(f"Signature verification failed: {exc}") from exc
    return True
