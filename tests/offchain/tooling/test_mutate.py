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


LEDGER = "contracts/tokens/CreditLedger.sol"
TIMING = ("bool ok = t.maxSettlementDelay >= MIN_SETTLEMENT_DELAY && t.maxSettlementDelay <= "
          "MAX_SETTLEMENT_DELAY\n            && t.maxSessionDuration >= MIN_SESSION_DURATION && "
          "t.maxSessionDuration ")


def _ror(range_text: str, old: str, new: str) -> mutate.Mutant:
    """A patch as slither's ROR writes it: `old`/`new` the statement, the range the comparison."""
    start = (REPO / LEDGER).read_bytes().index(range_text.encode())
    return mutate.Mutant("CreditLedger", LEDGER, "ROR", 1, old, new, start,
                         start + len(range_text))


def test_fit__ror_patch_becomes_its_comparison_with_the_new_operator() -> None:
    source = (REPO / LEDGER).read_bytes()
    expr = "_consentUntil[driver][operator] > block.timestamp"
    m = mutate.fit(_ror(expr, "return " + expr, "return " + expr.replace(">", ">=")), source)
    assert m is not None and (m.old, m.new) == (expr, expr.replace(">", ">="))
    # `new` cut short, the operator replaced at its first occurrence in the statement: the
    # comparison of the range still gets the new operator, nothing else changes.
    expr = "t.maxSessionDuration >= MIN_SESSION_DURATION"
    full = source[source.index(b"bool ok = t.maxSettlementDelay"):].split(b";")[0].decode()
    m = mutate.fit(_ror(expr, full, TIMING.replace(">=", "==", 1)), source)
    assert m is not None and m.new == "t.maxSessionDuration == MIN_SESSION_DURATION"
    expr = "t.maxSettlementDelay <= MAX_SETTLEMENT_DELAY"
    m = mutate.fit(_ror(expr, full, TIMING.replace("<=", ">", 1)), source)
    assert m is not None and m.new == "t.maxSettlementDelay > MAX_SETTLEMENT_DELAY"
    patched = source[:m.start] + m.new.encode() + source[m.end:]
    assert len(patched) == len(source) - 1 and patched.count(b"bool ok =") == 1


def test_fit__a_plain_patch_is_kept_and_an_unreadable_one_dropped() -> None:
    source = (REPO / LEDGER).read_bytes()
    expr = "_consentUntil[driver][operator] > block.timestamp"
    plain = _ror(expr, expr, expr.replace(">", "<"))
    assert mutate.fit(plain, source) == plain
    assert mutate.fit(_ror(expr, "return " + expr, "return " + expr), source) is None  # no change
