"""EIP-170: every contract the protocol deploys fits the 24,576-byte runtime code limit that
Ethereum, Sepolia and Arbitrum enforce, checked on the compiled artifacts, so a contract that
grows past it fails here and not at a deployment to a public chain. EnergyCredits is the
tightest: the committee's check in the ledger (settleSigned) took the room settleBatch left
(docs/oracle-committee.md, Gas)."""

from __future__ import annotations

from typing import Any

import pytest

LIMIT = 24_576
DEPLOYED = ("WattToken", "OperatorStaking", "ReadingsProofs", "RewardsEngine", "StationRegistry",
            "P256Verifier", "EnergyCredits", "WattTimelock", "WattGovernor", "OracleCommittee")


@pytest.mark.parametrize("name", DEPLOYED)
def test_code_size__every_deployed_contract_fits_eip170(project: Any, name: str) -> None:
    code = getattr(project, name).contract_type.runtime_bytecode.bytecode
    size = (len(code) - 2) // 2
    assert 0 < size <= LIMIT, f"{name} is {size} bytes, over EIP-170's {LIMIT}"
