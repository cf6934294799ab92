"""The committee a relayer passes to settleSigned: packed as OracleCommittee.committee() packs it
(threshold byte, members ascending), and read back by the nodes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattnet.chain.committee import committee_bytes, parse_committee

ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


@given(st.integers(1, 31), st.lists(ADDRESSES, max_size=31, unique=True))
def test_committee_bytes__round_trip_sorts_the_members(threshold: int, members: list[str]) -> None:
    packed = committee_bytes(threshold, members)
    assert len(packed) == 1 + 20 * len(members)
    k, back = parse_committee(packed)
    assert k == threshold
    assert [m.lower() for m in back] == sorted(members, key=lambda a: int(a, 16))


@pytest.mark.parametrize("raw", [b"", b"\x01" + bytes(19), b"\x02" + bytes(41)])
def test_parse_committee__refuses_bytes_that_are_no_committee(raw: bytes) -> None:
    with pytest.raises(ValueError, match="1 \\+ 20n bytes"):
        parse_committee(raw)
