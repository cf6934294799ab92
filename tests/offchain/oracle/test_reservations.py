"""The order of a driver's sessions (wattnet.oracle.reservations): what an earlier-authorized
session holds is never spent by a later one, whatever the later station claims."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wattnet.oracle.reservations import Claim, Room, free, plan

ROOM = Room(credits=20_000_000, units=10_000, cap_unit=10_000)


def notice(at: int, amount: int, seq: int = 0) -> Claim:
    return Claim((at, 0, seq), amount)


def receipt(at: int, amount: int, rid: int) -> Claim:
    return Claim((at, 1, rid), amount, rid)


def test_plan__a_later_receipt_waits_behind_an_open_reservation() -> None:
    honest = notice(100, 20_000_000)
    colluder = receipt(160, 20_000_000, rid=7)  # its receipt is in; the honest one is not yet
    assert plan([colluder, honest], ROOM) == plan([honest, colluder], ROOM)
    p = plan([honest, colluder], ROOM)
    assert (p.send, p.wait) == ([], [7])


def test_plan__the_earlier_receipt_goes_alone_and_the_later_one_after_it() -> None:
    honest, colluder = receipt(100, 18_000_000, rid=1), receipt(160, 20_000_000, rid=2)
    p = plan([colluder, honest], ROOM)
    assert (p.send, p.wait) == ([1], [2])  # not both in one batch: the chain sorts by station
    assert plan([colluder], Room(2_000_000, 10_000, 10_000)).send == [2]  # then the chain judges


def test_plan__receipts_that_fit_together_go_together() -> None:
    p = plan([receipt(1, 5_000_000, 1), notice(2, 5_000_000), receipt(3, 5_000_000, 2)], ROOM)
    assert (p.send, p.wait) == ([1, 2], [])


def test_plan__everything_after_a_waiting_receipt_waits_too() -> None:
    p = plan([notice(1, 15_000_000), receipt(2, 10_000_000, 1), receipt(3, 1_000, 2)], ROOM)
    assert (p.send, p.wait) == ([], [1, 2])


def test_plan__the_daily_cap_is_held_like_the_balance() -> None:
    room = Room(credits=100_000_000, units=1_000, cap_unit=10_000)  # 10 USDC left today
    p = plan([notice(1, 8_000_000), receipt(2, 5_000_000, 1)], room)
    assert p.wait == [1]
    assert free([notice(1, 8_000_000)], room) == 2_000_000


def test_free__never_negative_and_never_more_than_the_room() -> None:
    assert free([], ROOM) == 20_000_000
    assert free([notice(1, 25_000_000)], ROOM) == 0
    assert free([notice(1, 5_000_001)], ROOM) == 14_999_999
    by_units = Room(credits=100_000_000, units=1_000, cap_unit=10_000)
    assert free([notice(1, 5_000_001)], by_units) == 4_990_000  # 501 whole cap units held


claims = st.lists(st.tuples(st.integers(0, 50), st.booleans(), st.integers(1, 30_000_000)),
                  max_size=12)


@settings(max_examples=300, deadline=None)
@given(first=st.integers(1, 20_000_000), later=claims)
def test_plan__what_the_first_notice_holds_is_never_spent_by_later_claims(
        first: int, later: list[tuple[int, bool, int]]) -> None:
    """The collusion, in general: the honest session's notice came first; whatever receipts and
    notices follow (any amounts, any arrival order), the receipts sent with it open cost at
    most what the room has beside it, so its own receipt still fits on chain."""
    honest = notice(0, first, seq=0)
    rest = [receipt(100 + at, amount, rid=i) if is_receipt else notice(100 + at, amount, seq=i)
            for i, (at, is_receipt, amount) in enumerate(later, start=1)]
    p = plan([honest, *rest], ROOM)
    sent = sum(c.amount for c in rest if c.receipt in p.send)
    assert sent <= ROOM.credits - first
    units = sum(ROOM.units_of(c.amount) for c in rest if c.receipt in p.send)
    assert units <= ROOM.units - ROOM.units_of(first)


@settings(max_examples=300, deadline=None)
@given(items=claims)
def test_plan__receipts_go_in_order_and_the_ones_that_fit_fit_together(
        items: list[tuple[int, bool, int]]) -> None:
    cs = [receipt(at, amount, rid=i) if is_receipt else notice(at, amount, seq=i)
          for i, (at, is_receipt, amount) in enumerate(items)]
    p = plan(cs, ROOM)
    ordered = [c for c in sorted(cs, key=lambda c: c.place) if c.receipt is not None]
    ids = [c.receipt for c in ordered]
    assert sorted(p.send + p.wait) == sorted(ids)  # each receipt goes or waits, once
    if p.wait:  # waiting is a suffix: nothing later of the driver overtakes it
        first_wait = ids.index(p.wait[0])
        assert set(ids[first_wait:]) == set(p.wait)
    sent = [c.amount for c in ordered if c.receipt in p.send]
    if len(sent) > 1:  # sent together: they fit together, or the chain's order would matter
        assert sum(sent) <= ROOM.credits  # (only a lone receipt goes without fitting)
