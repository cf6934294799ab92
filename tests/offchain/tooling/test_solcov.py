"""tools/solcov (`make coverage`): the py-evm hook records what ran, and the report maps program
counters through a source map onto statements and decisions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools"))

from solcov import hits  # noqa: E402
from solcov.build import Build, Item, Unit  # noqa: E402
from solcov.report import _decode_map, _pcs_to_index, measure  # noqa: E402

# PUSH1 1, PUSH1 7, JUMPI, INVALID, INVALID, JUMPDEST, STOP: pcs 0 2 4 5 6 7 8
CODE = bytes([0x60, 0x01, 0x60, 0x07, 0x57, 0xFE, 0xFE, 0x5B, 0x00])
SRCMAP = "0:10:0;;25:5:0;50:10:0;;0:10:0;"


def test_pcs_to_index__skips_push_data() -> None:
    assert _pcs_to_index(CODE) == {0: 0, 2: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6}


def test_decode_map__empty_fields_repeat_the_previous_entry() -> None:
    assert _decode_map("1:2:0;;5::1;:9") == [(1, 2, 0), (1, 2, 0), (5, 2, 1), (5, 9, 1)]


def test_hook__records_pcs_and_jumpi_outcomes() -> None:
    from eth.vm.code_stream import CodeStream

    hits.PCS.clear()
    hits.JUMPS.clear()
    stream = CodeStream(CODE)
    for op in hits._recording_iter(stream):
        if op == 0x60:
            stream.read(1)  # as PUSH1 does in py-evm: its data byte is not an instruction
        elif op == 0x57:
            stream.program_counter = 7  # the jump is taken
    assert hits.PCS[CODE] == {0, 2, 4, 7, 8}
    assert hits.JUMPS[CODE] == {(4, 7)}


@pytest.fixture
def build() -> Build:
    f = "contracts/X.sol"
    items = [
        Item("stmt", f, 0, 10, 1, "a"),
        Item("branch", f, 20, 40, 3, "a", "IfStatement"),
        Item("stmt", f, 20, 40, 3, "a", "IfStatement"),
        Item("stmt", f, 50, 60, 5, "a"),
        Item("stmt", f, 70, 80, 7, "a"),  # no instruction maps here: unmapped
    ]
    unit = Unit("X", f, b"\x00", "", CODE, SRCMAP)
    return Build([unit], items, {0: f}, [f])


def test_measure__lines_branches_and_unmapped(build: Build) -> None:
    got = measure(build, {CODE.hex(): {"pcs": [0, 2, 4, 7, 8], "jumps": [[4, 7]]}})
    cov = got["contracts/X.sol"]
    assert cov.lines == {1: True, 3: True, 5: False}
    assert cov.branches == {1: {True}}  # taken only: one of two branches
    assert (cov.unmapped_stmts, cov.unmapped_branches) == (1, 0)


def test_measure__both_directions_cover_the_decision(build: Build) -> None:
    got = measure(build, {CODE.hex(): {"pcs": [0, 2, 4, 5, 6], "jumps": [[4, 7], [4, 5]]}})
    cov = got["contracts/X.sol"]
    assert cov.branches == {1: {True, False}}
    assert cov.lines[5] is True


def test_measure__code_of_another_contract_counts_nothing(build: Build) -> None:
    other = bytes([0x60, 0x02]) + CODE[2:]
    cov = measure(build, {other.hex(): {"pcs": [0, 2, 4], "jumps": []}})["contracts/X.sol"]
    assert not any(cov.lines.values())
