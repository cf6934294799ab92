"""Proof of possession of a station's signer key, as `StationRegistry` checks it.

`registerStation` and `rotateSigner` take the signer key's EIP-712 signature of
``SignerBinding(bytes32 stationId,address operator)`` under the registry's own domain
(``EIP712Domain("WattNet StationRegistry", "1", chainId, registry)``), EIP-2098 compact
``(r, vs)`` with low s. The operator is the account that sends the transaction, so a proof can
be used by that operator only, for that station, on that chain and registry: nobody can bind
a key they do not hold, and a proof seen in the mempool is useless to anyone else.
"""

from __future__ import annotations

from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak

from wattnet.chain.eip712 import Domain, compact_signature, sign_digest, typed_digest

REGISTRY_DOMAIN_NAME = "WattNet StationRegistry"
REGISTRY_DOMAIN_VERSION = "1"
SIGNER_BINDING_TYPE = "SignerBinding(bytes32 stationId,address operator)"
SIGNER_BINDING_TYPEHASH = keccak(SIGNER_BINDING_TYPE.encode())


def registry_domain(chain_id: int, registry: str) -> Domain:
    """The registry's EIP-712 domain (chain id and registry address bound in)."""
    return Domain(chain_id, registry, name=REGISTRY_DOMAIN_NAME, version=REGISTRY_DOMAIN_VERSION)


def signer_binding_digest(*, chain_id: int, registry: str, station_id: bytes,
                          operator: str) -> bytes:
    """The 32-byte EIP-712 digest the signer key signs."""
    if len(station_id) != 32:
        raise ValueError(f"station id must be 32 bytes, got {len(station_id)}")
    struct_hash = keccak(SIGNER_BINDING_TYPEHASH + station_id + bytes(12)
                         + to_canonical_address(operator))
    return typed_digest(registry_domain(chain_id, registry).separator, struct_hash)


def signer_proof(signer_key: bytes, *, chain_id: int, registry: str, station_id: bytes,
                 operator: str) -> tuple[bytes, bytes]:
    """The signer key's proof `(r, vs)` for `registerStation`/`rotateSigner` sent by `operator`."""
    digest = signer_binding_digest(chain_id=chain_id, registry=registry, station_id=station_id,
                                   operator=operator)
    return compact_signature(sign_digest(signer_key, digest))
