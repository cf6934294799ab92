"""``committee.members`` in a change set: the membership after the vote, checked before
anything is proposed (what ``admit`` and the threshold rule would refuse at execution)."""

from __future__ import annotations

from typing import Any

import pytest

from wattnet.errors import ConfigError
from wattnet.governance.members import member_calls, parse_members

A, B, C = ("0x" + c * 40 for c in "abc")
ZERO = "0x" + "00" * 20
STAKE = 10**21


def _nodes(**over: tuple[str, int, int, bool]) -> Any:
    table = {a.lower(): ("0x" + "99" * 20, STAKE, 0, False) for a in (A, B, C)} | over
    return lambda node: table[node.lower()]


@pytest.mark.parametrize(("value", "why"), [
    ([], "1..31 node addresses"), ("0xabc", "1..31"), ([A, "bob"], "'bob', which is not"),
    ([A, A.upper().replace("0X", "0x")], "twice"), ([A] * 32, "1..31"),
])
def test_parse__refuses_what_is_no_membership(value: Any, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_members(value, "c.yaml")


def test_parse__checksummed_and_in_rotation_order() -> None:
    assert parse_members([C, A], "c.yaml") == sorted(parse_members([A, C], "c.yaml"),
                                                     key=lambda a: int(a, 16))


def test_calls__admissions_and_removals_by_difference() -> None:
    admits, removes = member_calls([B, C], [A, B], 2, STAKE, _nodes(), "c.yaml")
    assert [c.args for c in admits] == [(C,)] and [c.args for c in removes] == [(A,)]
    assert {c.signature for c in admits + removes} == {"admit(address)", "remove(address)"}


@pytest.mark.parametrize(("node", "why"), [
    ((ZERO, 0, 0, False), "is not registered"),
    (("0x" + "99" * 20, STAKE, 1_700_000_000, False), "is unbonding"),
    (("0x" + "99" * 20, STAKE - 1, 0, False), "below the committee's minStake"),
])
def test_calls__what_admit_would_refuse_is_refused_now(node: Any, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        member_calls([A, C], [A], 1, STAKE, _nodes(**{C.lower(): node}), "c.yaml")


def test_calls__a_threshold_above_the_members_is_refused() -> None:
    with pytest.raises(ConfigError, match="threshold 3 exceeds the 2 members"):
        member_calls([A, B], [A, B, C], 3, STAKE, _nodes(), "c.yaml")
