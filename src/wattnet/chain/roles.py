"""Role ids, mirrored once from the Solidity `bytes32 public constant X_ROLE = keccak256("X_ROLE")`.

A contract test asserts each of these equals the contract's own constant.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

DEFAULT_ADMIN_ROLE = bytes(32)


def _role(name: str) -> bytes:
    return keccak(text=name)


MINTER_ROLE = _role("MINTER_ROLE")
PARAMS_ROLE = _role("PARAMS_ROLE")
PAUSER_ROLE = _role("PAUSER_ROLE")
SLASHER_ROLE = _role("SLASHER_ROLE")
FREEZER_ROLE = _role("FREEZER_ROLE")
REGISTRY_ROLE = _role("REGISTRY_ROLE")
REGISTRY_ADMIN_ROLE = _role("REGISTRY_ADMIN_ROLE")
ORACLE_ROLE = _role("ORACLE_ROLE")
COMMITTEE_ROLE = _role("COMMITTEE_ROLE")  # EnergyCredits: the OracleCommittee publishes members
ATTESTER_ROLE = _role("ATTESTER_ROLE")
FINDINGS_ROLE = _role("FINDINGS_ROLE")
GOVERNOR_ROLE = _role("GOVERNOR_ROLE")  # OracleCommittee: admit/remove nodes, threshold, bounds
# OpenZeppelin TimelockController (WattTimelock)
PROPOSER_ROLE = _role("PROPOSER_ROLE")
EXECUTOR_ROLE = _role("EXECUTOR_ROLE")
CANCELLER_ROLE = _role("CANCELLER_ROLE")

# Which contract declares which roles (contract name -> role constant names).
CONTRACT_ROLES: dict[str, tuple[str, ...]] = {
    "WattToken": ("MINTER_ROLE",),
    "OperatorStaking": ("SLASHER_ROLE", "PARAMS_ROLE", "REGISTRY_ROLE", "FREEZER_ROLE"),
    "StationRegistry": ("PARAMS_ROLE", "REGISTRY_ADMIN_ROLE", "ATTESTER_ROLE"),
    "EnergyCredits": ("PARAMS_ROLE", "PAUSER_ROLE", "ORACLE_ROLE", "COMMITTEE_ROLE"),
    "RewardsEngine": ("PARAMS_ROLE", "FINDINGS_ROLE"),
}
