"""EIP-712 hashing, signing and fast recovery for WattNet's typed data.

The type strings here mirror ``contracts/libraries/ReceiptLib.sol`` exactly; a contract test
proves that receipts signed here verify on chain. Hashing is done by hand (32-byte words and
keccak) and recovery with libsecp256k1 (coincurve), because the oracle verifies thousands of
receipts per second and eth-account's high-level path is several times slower.
"""

from __future__ import annotations

from dataclasses import dataclass

from coincurve import PrivateKey, PublicKey
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.domain import SessionReceipt
from wattnet.errors import SignatureError

DOMAIN_NAME = "WattNet Settlement"
DOMAIN_VERSION = "1"
GATEWAY_DOMAIN_NAME = "WattNet Gateway"  # app drivers' ChargeRequests (wattnet.gateway.app)

SESSION_RECEIPT_TYPE = (
    "SessionReceipt(bytes32 stationId,uint64 sessionId,uint8 connectorId,address driver,"
    "uint256 creditId,uint32 energyWh,uint40 startTime,uint40 endTime,uint128 cost,"
    "address referrer,bytes32 readings)"
)
SESSION_RECEIPT_TYPEHASH = keccak(SESSION_RECEIPT_TYPE.encode())
DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)

# secp256k1 group order; signatures with s > n/2 are malleable copies and are refused.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


@dataclass(frozen=True, slots=True)
class Domain:
    """An EIP-712 domain: binds signatures to one chain and one verifying contract."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    @property
    def separator(self) -> bytes:
        return keccak(
            DOMAIN_TYPEHASH
            + keccak(self.name.encode())
            + keccak(self.version.encode())
            + _word(self.chain_id)
            + _address_word(to_checksum_address(self.verifying_contract))
        )


def receipt_struct_hash(r: SessionReceipt) -> bytes:
    """``hashStruct(SessionReceipt)``: also the receipt's identity for dedupe and evidence."""
    return keccak(
        SESSION_RECEIPT_TYPEHASH
        + r.station_id
        + _word(r.session_id)
        + _word(r.connector_id)
        + _address_word(r.driver)
        + _word(r.credit_id)
        + _word(r.energy_wh)
        + _word(r.start_time)
        + _word(r.end_time)
        + _word(r.cost)
        + _address_word(r.referrer)
        + r.readings
    )


def typed_digest(domain_separator: bytes, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain_separator + struct_hash)


def receipt_digest(domain: Domain | bytes, r: SessionReceipt) -> bytes:
    separator = domain.separator if isinstance(domain, Domain) else domain
    return typed_digest(separator, receipt_struct_hash(r))


def sign_digest(private_key: bytes | PrivateKey, digest: bytes) -> bytes:
    """Sign a 32-byte digest; returns r || s || v with v in {27, 28} and low s. A signer that
    signs often passes its ``PrivateKey`` (building one from bytes derives the public key:
    ~40 us, more than the signature)."""
    key = private_key if isinstance(private_key, PrivateKey) else PrivateKey(private_key)
    sig = key.sign_recoverable(digest, hasher=None)
    return sig[:64] + bytes([sig[64] + 27])


def recover_digest(digest: bytes, signature: bytes) -> str:
    """The checksummed address that signed ``digest``; refuses malleable or malformed signatures."""
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes, got {len(signature)}")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise SignatureError(f"signature v must be 27 or 28, got {v}")
    if s == 0 or s > SECP256K1_HALF_N:
        raise SignatureError("signature s is zero or in the upper half of the curve order")
    try:
        pub = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except Exception as exc:  # coincurve raises a bare Exception for invalid signatures
        raise SignatureError(f"signature does not recover to a public key: {exc}") from exc
    return address_of_public_key(pub.format(compressed=False))


def address_of_public_key(uncompressed: bytes) -> str:
    return to_checksum_address(keccak(uncompressed[1:])[-20:])


def address_of_private_key(private_key: bytes) -> str:
    return address_of_public_key(PrivateKey(private_key).public_key.format(compressed=False))


def sign_receipt(private_key: bytes, domain: Domain | bytes, r: SessionReceipt) -> bytes:
    return sign_digest(private_key, receipt_digest(domain, r))


def recover_receipt_signer(domain: Domain | bytes, r: SessionReceipt, signature: bytes) -> str:
    return recover_digest(receipt_digest(domain, r), signature)


def compact_signature(signature: bytes) -> tuple[bytes, bytes]:
    """EIP-2098: (r, vs) where vs = (v - 27) << 255 | s, as the packed batch carries it."""
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes, got {len(signature)}")
    s = int.from_bytes(signature[32:64], "big")
    vs = ((signature[64] - 27) << 255) | s
    return signature[:32], vs.to_bytes(32, "big")


def receipt_tuple(r: SessionReceipt) -> tuple[object, ...]:
    """The receipt as the ABI tuple `ReceiptLib.SessionReceipt`."""
    return (
        r.station_id,
        r.session_id,
        r.connector_id,
        r.driver,
        r.credit_id,
        r.energy_wh,
        r.start_time,
        r.end_time,
        r.cost,
        r.referrer,
        r.readings,
    )


def signed_tuple(r: SessionReceipt, signature: bytes) -> tuple[object, ...]:
    """The receipt and signature as the ABI tuple `ReceiptLib.SignedReceipt`."""
    sig_r, vs = compact_signature(signature)
    return (receipt_tuple(r), sig_r, vs)
