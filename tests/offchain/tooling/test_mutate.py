"""tools/mutate.py (`make mutate`): which sources a mutant forces to recompile, and the mutants
it takes from slither-mutate's mutator classes."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools"))

import mutate  # noqa: E402


def test_importers__an_inherited_contract_recompiles_its_heirs() -> None:
    got = mutate.importers("contracts/settlement/SessionSettlement.sol")
    assert "contracts/settlement/SessionSettlement.sol" in got
    assert "contracts/tokens/EnergyCredits.sol" in got  # EnergyCredits is SessionSettlement
    assert "contracts/tokens/WattToken.sol" not in got


def test_importers__a_leaf_contract_recompiles_alone() -> None:
    assert mutate.importers("contracts/tokens/WattToken.sol") == ["contracts/tokens/WattToken.sol"]
