"""The oracle committee's typed data (contracts/oracle/OracleCommittee.sol): what a node signs
for a batch, how a relayer orders the signatures, and a node key's proof of possession.

EIP-712 domain ``WattNet Oracle Committee`` / ``1`` with the chain id and the committee's
address; ``SettleBatch(uint64 nonce,uint32 round,bytes32 batchHash)`` with ``batchHash`` the
keccak256 of the packed batch (``wattnet.chain.batch_codec``); ``NodeBinding(address operator)``.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_utils.crypto import keccak

from wattnet.chain.eip712 import Domain, address_of_private_key, sign_digest, typed_digest

NAME, VERSION = "WattNet Oracle Committee", "1"
BATCH_TYPEHASH = keccak(b"SettleBatch(uint64 nonce,uint32 round,bytes32 batchHash)")
NODE_TYPEHASH = keccak(b"NodeBinding(address operator)")


def committee_domain(chain_id: int, committee: str) -> Domain:
    return Domain(chain_id, committee, NAME, VERSION)


def batch_digest(domain: Domain, nonce: int, round_: int, packed: bytes) -> bytes:
    """What a node signs for ``packed`` as batch ``nonce``, proposed in turn ``round_``."""
    return typed_digest(domain.separator, keccak(
        BATCH_TYPEHASH + nonce.to_bytes(32, "big") + round_.to_bytes(32, "big") + keccak(packed)))


def node_digest(domain: Domain, operator: str) -> bytes:
    return typed_digest(domain.separator,
                        keccak(NODE_TYPEHASH + bytes(12) + bytes.fromhex(operator[2:])))


def signatures_for(digest: bytes, keys: Iterable[bytes]) -> bytes:
    """The ``signatures`` argument of ``settle``: each key's 65-byte signature, ordered by the
    signer's address (the contract counts a signer once by requiring ascending order)."""
    signed = sorted((int(address_of_private_key(k), 16), sign_digest(k, digest)) for k in keys)
    return b"".join(sig for _, sig in signed)
