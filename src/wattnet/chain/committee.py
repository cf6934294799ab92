"""The oracle committee's typed data (contracts/oracle/OracleCommittee.sol): what a node signs
for a batch, how a relayer orders the signatures, and a node key's proof of possession.

Batches are checked by the ledger (``EnergyCredits.settleSigned``), so they are signed under its
domain (``WattNet Settlement`` / ``1``, chain id, EnergyCredits' address: :func:`batch_domain`):
``SettleBatch(uint64 nonce,uint32 round,bytes32 batchHash)`` with ``batchHash`` the keccak256 of
the packed batch (``wattnet.chain.batch_codec``). The committee's own domain (``WattNet Oracle
Committee`` / ``1``, chain id, the committee's address) carries ``NodeBinding(address
operator)`` and ``Finding(uint8 kind,bytes32 subject,uint256 value,bytes32 evidence,uint64 id,
uint40 deadline)`` for a judged finding (``OracleCommittee.act``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.eip712 import (
    Domain,
    address_of_private_key,
    compact_signature,
    sign_digest,
    typed_digest,
)

NAME, VERSION = "WattNet Oracle Committee", "1"
BATCH_TYPEHASH = keccak(b"SettleBatch(uint64 nonce,uint32 round,bytes32 batchHash)")
NODE_TYPEHASH = keccak(b"NodeBinding(address operator)")
FINDING_TYPEHASH = keccak(
    b"Finding(uint8 kind,bytes32 subject,uint256 value,bytes32 evidence,uint64 id,uint40 deadline)")


class FindingKind(IntEnum):
    """``IOracleCommittee.FindingKind``: what a judged finding does once k members signed it."""

    ATTEST_LOCATION = 0  # registry.attestLocation(subject, value == 1)
    FORFEIT = 1  # rewards.forfeit(subject, epoch=value, reason=evidence)
    FREEZE = 2  # staking.freeze(operator=subject, reason=evidence)


@dataclass(frozen=True, slots=True)
class Finding:
    """``IOracleCommittee.Finding``: ``subject`` is a station id, or an operator address
    left-padded to 32 bytes (FREEZE); ``evidence`` the keccak256 of the judged document."""

    kind: FindingKind
    subject: bytes
    value: int
    evidence: bytes
    id: int
    deadline: int

    def as_tuple(self) -> tuple[int, bytes, int, bytes, int, int]:
        return (int(self.kind), self.subject, self.value, self.evidence, self.id, self.deadline)

    def struct_hash(self) -> bytes:
        return keccak(FINDING_TYPEHASH + int(self.kind).to_bytes(32, "big") + self.subject
                      + self.value.to_bytes(32, "big") + self.evidence
                      + self.id.to_bytes(32, "big") + self.deadline.to_bytes(32, "big"))


def operator_subject(operator: str) -> bytes:
    """A FREEZE finding's subject: the operator's address as a left-padded word."""
    return bytes(12) + bytes.fromhex(operator[2:])


def committee_domain(chain_id: int, committee: str) -> Domain:
    return Domain(chain_id, committee, NAME, VERSION)


def batch_domain(chain_id: int, ledger: str) -> Domain:
    """The domain batches are signed under: the ledger's (EnergyCredits), which checks them."""
    return Domain(chain_id, ledger)


def batch_digest(domain: Domain, nonce: int, round_: int, packed: bytes) -> bytes:
    """What a node signs for ``packed`` as batch ``nonce``, proposed in turn ``round_``
    (``domain``: :func:`batch_domain`)."""
    return typed_digest(domain.separator, keccak(
        BATCH_TYPEHASH + nonce.to_bytes(32, "big") + round_.to_bytes(32, "big") + keccak(packed)))


def finding_digest(domain: Domain, finding: Finding) -> bytes:
    """What a member signs for ``finding``."""
    return typed_digest(domain.separator, finding.struct_hash())


def node_digest(domain: Domain, operator: str) -> bytes:
    return typed_digest(domain.separator,
                        keccak(NODE_TYPEHASH + bytes(12) + bytes.fromhex(operator[2:])))


def signatures_for(digest: bytes, keys: Iterable[bytes]) -> bytes:
    """The ``signatures`` argument of ``act``: each key's 65-byte signature, ordered by the
    signer's address (the contract counts a signer once by requiring ascending order)."""
    signed = sorted((int(address_of_private_key(k), 16), sign_digest(k, digest)) for k in keys)
    return b"".join(sig for _, sig in signed)


def batch_signatures(votes: Mapping[str, bytes]) -> bytes:
    """The ``signatures`` argument of ``settleSigned``: each signer's (address -> 65-byte
    signature) as 64-byte EIP-2098 (r, vs), in ascending address order (the members' order in
    the published committee, which the contract walks once)."""
    ordered = sorted(votes.items(), key=lambda item: int(item[0], 16))
    return b"".join(b"".join(compact_signature(sig)) for _, sig in ordered)


def batch_signatures_for(digest: bytes, keys: Iterable[bytes]) -> bytes:
    """:func:`batch_signatures` of ``keys`` signing ``digest`` (tests, the devnet, benches)."""
    return batch_signatures({address_of_private_key(k): sign_digest(k, digest) for k in keys})


def committee_bytes(threshold: int, members: Sequence[str]) -> bytes:
    """``OracleCommittee.committee()``: ``abi.encodePacked(uint8 threshold, address[] members)``,
    members ascending; its keccak256 is what the ledger holds as ``committeeHash``."""
    if not 0 <= threshold <= 255:
        raise ValueError(f"threshold {threshold} does not fit a uint8")
    ordered = sorted(members, key=lambda a: int(a, 16))
    return bytes([threshold]) + b"".join(bytes.fromhex(a[2:]) for a in ordered)


def parse_committee(packed: bytes) -> tuple[int, list[str]]:
    """(threshold, members ascending as checksummed addresses) of :func:`committee_bytes`."""
    if not packed or (len(packed) - 1) % 20:
        raise ValueError(f"a committee is 1 + 20n bytes, got {len(packed)}")
    members = [str(to_checksum_address(packed[i:i + 20])) for i in range(1, len(packed), 20)]
    return packed[0], members
