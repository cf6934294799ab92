"""Meter certificates: an issuer's P-256 signature binding a meter key to a serial, a model and a
maximum power, as `StationRegistry.certifyMeter` verifies it on chain.

The issuer signs ``abi.encode(METER_CERT_TAG, keyX, keyY, serial, model, maxPowerW)`` with
ECDSA-P256-SHA256 (what PKI tools and OCMF meters use); the registry checks it with
OpenZeppelin's ``P256.verify`` over the SHA-256 of those bytes, which accepts only low-s
signatures, so :func:`issue_certificate` normalizes s.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from eth_abi.abi import encode
from eth_utils.crypto import keccak

METER_CERT_TAG = keccak(text="WattNet meter certificate v1")
METER_BIND_TAG = keccak(text="WattNet meter binding v1")
# Order of the P-256 group: signatures with s above n/2 are rejected on chain.
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True, slots=True)
class MeterCertificate:
    """What `certifyMeter` takes (IStationRegistry.MeterCertificate)."""

    key_x: bytes
    key_y: bytes
    serial: bytes
    model: bytes
    max_power_w: int
    issuer_x: bytes
    issuer_y: bytes
    r: bytes
    s: bytes

    def as_tuple(self) -> tuple[bytes, bytes, bytes, bytes, int, bytes, bytes, bytes, bytes]:
        return (self.key_x, self.key_y, self.serial, self.model, self.max_power_w,
                self.issuer_x, self.issuer_y, self.r, self.s)

    @property
    def meter_key(self) -> bytes:
        """The meter's public key as the registry stores it: x || y."""
        return self.key_x + self.key_y

    @property
    def issuer_key_hash(self) -> bytes:
        """keccak256(x, y) of the issuer key: the registry's issuer id."""
        return keccak(self.issuer_x + self.issuer_y)


def public_xy(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> tuple[bytes, bytes]:
    """The 32-byte x and y of a P-256 key."""
    pub = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    n = pub.public_numbers()
    return n.x.to_bytes(32, "big"), n.y.to_bytes(32, "big")


def label32(text: str | bytes) -> bytes:
    """A serial or model as the certificate carries it: UTF-8, left aligned in 32 bytes."""
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > 32:
        raise ValueError(f"meter serial and model are at most 32 bytes, got {len(raw)}")
    return raw.ljust(32, b"\x00")


def certificate_message(key_x: bytes, key_y: bytes, serial: bytes, model: bytes,
                        max_power_w: int) -> bytes:
    """The bytes the issuer signs (the registry hashes them with SHA-256)."""
    return encode(["bytes32", "bytes32", "bytes32", "bytes32", "bytes32", "uint32"],
                  [METER_CERT_TAG, key_x, key_y, serial, model, max_power_w])


def issue_certificate(issuer: ec.EllipticCurvePrivateKey,
                      meter: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey,
                      *, serial: str | bytes, model: str | bytes,
                      max_power_w: int) -> MeterCertificate:
    """Sign a certificate for `meter` with the issuer key (low-s, as the registry requires)."""
    if not 0 < max_power_w < 2**32:
        raise ValueError(f"max_power_w must be 1..2**32-1 W, got {max_power_w}")
    kx, ky = public_xy(meter)
    ser, mod = label32(serial), label32(model)
    r, s = _low_s_sign(issuer, certificate_message(kx, ky, ser, mod, max_power_w))
    ix, iy = public_xy(issuer)
    return MeterCertificate(kx, ky, ser, mod, max_power_w, ix, iy, r, s)


def _low_s_sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> tuple[bytes, bytes]:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    if s > P256_N // 2:
        s = P256_N - s
    return r.to_bytes(32, "big"), s.to_bytes(32, "big")


def binding_signature(meter: ec.EllipticCurvePrivateKey, *, chain_id: int, registry: str,
                      station_id: bytes, operator: str) -> tuple[bytes, bytes]:
    """The meter key's proof of possession that `certifyMeter` checks: its signature over
    ``abi.encode(METER_BIND_TAG, chain_id, registry, station_id, operator)`` (low-s r, s)."""
    message = encode(["bytes32", "uint256", "address", "bytes32", "address"],
                     [METER_BIND_TAG, chain_id, registry, station_id, operator])
    return _low_s_sign(meter, message)


def new_p256_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key (an issuer's or a test meter's)."""
    return ec.generate_private_key(ec.SECP256R1())


def derived_p256_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    """A P-256 key derived from `seed` (reproducible simulations and tests; never for real keys)."""
    scalar = int.from_bytes(keccak(b"wattnet-p256:" + seed), "big") % (P256_N - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())
