"""Evidence ids of the permissionless fraud proofs (OperatorStaking) and the commitment that
binds a proof's bounty to whoever found it first.

A watcher commits ``commitment(evidence_id, reporter)`` with ``commitEvidence`` and submits the
proof from ``reporter`` in a later block; a proof without such a commitment still slashes, but
pays no bounty, so copying a proof seen in the mempool earns nothing.
"""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

OVER_POWER = b"OVER_POWER".ljust(32, b"\x00")
DRIVER_OVERLAP = b"DRIVER_OVERLAP".ljust(32, b"\x00")
BAD_READINGS = b"BAD_READINGS".ljust(32, b"\x00")
READINGS_OVERLAP = b"READINGS_OVERLAP".ljust(32, b"\x00")
READINGS_WITHHELD = b"READINGS_WITHHELD".ljust(32, b"\x00")


def _pair(a: bytes, b: bytes) -> tuple[bytes, bytes]:
    return (a, b) if a < b else (b, a)


def equivocation_id(struct_hash_a: bytes, struct_hash_b: bytes) -> bytes:
    """The id of two conflicting receipts of one station (order does not matter)."""
    return keccak(encode(["bytes32", "bytes32"], list(_pair(struct_hash_a, struct_hash_b))))


def over_power_id(struct_hash: bytes) -> bytes:
    """The id of one receipt with more energy than its station's power allows."""
    return keccak(encode(["bytes32", "bytes32"], [OVER_POWER, struct_hash]))


def driver_overlap_id(struct_hash_a: bytes, struct_hash_b: bytes) -> bytes:
    """The id of two overlapping sessions of one driver at two stations of one operator."""
    return keccak(encode(["bytes32", "bytes32", "bytes32"],
                         [DRIVER_OVERLAP, *_pair(struct_hash_a, struct_hash_b)]))


def bad_readings_id(struct_hash: bytes) -> bytes:
    """The id of one receipt whose committed readings do not back it (ReadingsProofs)."""
    return keccak(encode(["bytes32", "bytes32"], [BAD_READINGS, struct_hash]))


def readings_overlap_id(struct_hash_a: bytes, struct_hash_b: bytes) -> bytes:
    """The id of two receipts of one station claiming overlapping meter register ranges."""
    return keccak(encode(["bytes32", "bytes32", "bytes32"],
                         [READINGS_OVERLAP, *_pair(struct_hash_a, struct_hash_b)]))


def commitment(evidence_id: bytes, reporter: str) -> bytes:
    """What ``commitEvidence`` records: the evidence and who may collect its bounty."""
    return keccak(encode(["bytes32", "address"], [evidence_id, reporter]))
