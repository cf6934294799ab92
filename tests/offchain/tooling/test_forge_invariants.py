"""tools/forge_invariants.py (`make test-forge`, `make audit`): budgets from foundry.toml and the
per-invariant figures read from forge's output, failures included."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools"))

import forge_invariants as fi  # noqa: E402

OUTPUT = """
[PASS] invariant_exactlyOnce() (runs: 32, calls: 2048, reverts: 0)
[FAIL: a fresh receipt settled other than exactly once]
 invariant_escrowEqualsLiabilities() (runs: 3, calls: 150, reverts: 1)
[PASS] test_handlerReachesEveryPath() (gas: 1247904)
"""


def test_budget__ci_is_shallow_and_audit_is_deep() -> None:
    assert fi.budget("default") == (32, 64)
    assert fi.budget("deep") == (10_000, 100)


def test_result__reads_passes_and_failures_split_over_two_lines() -> None:
    got = fi.RESULT.findall(OUTPUT)
    assert got == [("PASS", "invariant_exactlyOnce", "32", "2048", "0"),
                   ("FAIL", "invariant_escrowEqualsLiabilities", "3", "150", "1")]
