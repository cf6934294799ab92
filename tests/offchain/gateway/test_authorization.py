"""Driver authorization against the local cache of on-chain credits: refreshed from the source,
stale data used while the uplink is down, open reservations subtracted, never beyond what the
driver allowed (balance, per-session cap, daily cap), and a stop when the reservation is used."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DRIVER, OTHER_DRIVER, RFID, TARIFF, Harness
from wattnet.domain import DriverAccount, OcppVersion
from wattnet.gateway.credits import CreditCache, InMemoryCreditSource
from wattnet.gateway.transactions import max_energy_for, session_cost

DAY = 86_400


class FakeClock:
    def __init__(self, t: float = 20_000 * DAY + 3_600) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _account(**kw: Any) -> DriverAccount:
    base: dict[str, Any] = dict(driver=DRIVER, credit_id=1, balance=1_000, per_session_cap=600,
                                daily_cap=900, spent_today=0, day=20_000)
    return DriverAccount(**(base | kw))


def _cache(account: DriverAccount, clock: FakeClock) -> tuple[CreditCache, InMemoryCreditSource]:
    source = InMemoryCreditSource()
    source.put(account, RFID)
    return CreditCache(source, clock, refresh_s=60, pending_ttl_s=600), source


def test_cache__refreshes_after_the_interval_and_serves_stale_data_when_source_is_down() -> None:
    clock = FakeClock()
    cache, source = _cache(_account(), clock)

    async def go() -> None:
        assert await cache.driver_for_token(RFID) == DRIVER
        assert (await cache.account(DRIVER, 1)) == _account()
        calls = source.calls
        await cache.account(DRIVER, 1)
        assert source.calls == calls  # within the interval: cached
        source.put(_account(balance=50))
        clock.t += 61
        assert (await cache.account(DRIVER, 1)).balance == 50  # type: ignore[union-attr]
        source.down = True
        clock.t += 3_600
        assert (await cache.account(DRIVER, 1)).balance == 50  # type: ignore[union-attr]
        assert await cache.driver_for_token(RFID) == DRIVER  # stale binding still used
        assert await cache.driver_for_token("NEVER-SEEN") is None
        assert await cache.account(OTHER_DRIVER, 1) is None  # nothing cached: refuse

    asyncio.run(go())


@pytest.mark.parametrize(("kw", "expected"), [
    ({}, 600),  # per-session cap
    ({"per_session_cap": 10_000, "daily_cap": 700}, 700),  # daily cap
    ({"per_session_cap": 10_000, "daily_cap": 10_000, "balance": 123}, 123),  # balance
    ({"daily_cap": 900, "spent_today": 800}, 100),  # today's spending counts
    ({"daily_cap": 900, "spent_today": 800, "day": 19_999}, 600),  # yesterday's does not
    ({"valid_until": 20_000 * DAY}, 0),  # mandate revoked
])
def test_reservation__is_the_least_of_caps_and_balance(kw: dict[str, Any], expected: int) -> None:
    clock = FakeClock()
    cache, _ = _cache(_account(), clock)
    r = cache.reserve(("CP", "1"), _account(**kw))
    assert (r.amount if r else 0) == expected


def test_reservation__open_sessions_and_unsettled_costs_are_subtracted() -> None:
    clock = FakeClock()
    acc = _account(balance=1_000, per_session_cap=600, daily_cap=10_000)
    cache, _ = _cache(acc, clock)
    first = cache.reserve(("CP", "1"), acc)
    second = cache.reserve(("CP", "2"), acc)
    assert (first and first.amount, second and second.amount) == (600, 400)
    assert cache.reserve(("CP", "3"), acc) is None  # nothing left
    cache.finish(("CP", "1"), cost=250)  # 250 spent, not yet on chain; 350 released
    third = cache.reserve(("CP", "3"), acc)
    assert third is not None and third.amount == 1_000 - 400 - 250
    clock.t += 601  # the unsettled cost is held for pending_ttl_s
    cache.finish(("CP", "3"), cost=0)
    again = cache.reserve(("CP", "4"), acc)
    assert again is not None and again.amount == 600


@given(reserved=st.integers(0, 10**12), tariff=st.integers(1, 10**9))
def test_max_energy_for__is_the_largest_energy_within_the_reservation(
    reserved: int, tariff: int
) -> None:
    e = max_energy_for(reserved, tariff)
    assert session_cost(e, tariff) <= reserved
    assert session_cost(e + 1, tariff) > reserved


def test_uplink_down__charging_still_starts_from_the_cache(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        assert await cp.authorize(RFID) == "Accepted"  # fills the cache
        h.source.down = True
        assert await cp.charge(RFID, 1_000, steps=1) == "Accepted"
        assert await cp.authorize("NEVER-SEEN-TAG") == "Invalid"

    harness.run(scenario)
    assert [s.receipt.energy_wh for s in harness.signed()] == [1_000]


@pytest.mark.parametrize(("cp_id", "version", "stop_action"), [
    ("CP16", OcppVersion.V16, "RemoteStopTransaction"),
    ("CP201", OcppVersion.V201, "RequestStopTransaction"),
])
def test_reservation_used_up__gateway_stops_and_receipt_never_exceeds_it(
    create_harness: Any, account: DriverAccount, cp_id: str, version: OcppVersion,
    stop_action: str,
) -> None:
    h: Harness = create_harness()
    cap = 1_000_000  # credits: 2857 Wh at the tariff
    h.source.put(DriverAccount(DRIVER, 1, 10**9, cap, 10**9, 0, 0), RFID)

    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        assert await cp.start(RFID) == "Accepted"
        for _ in range(10):
            await cp.meter_values(1_000)
            if cp.stop_requested.is_set():
                break
        await asyncio.wait_for(cp.stop_requested.wait(), 2)
        await cp.meter_values(2_000)  # the charger overshoots before it stops
        await cp.stop()
        assert [m[2] for m in cp.received_calls] == [stop_action]

    h.run(scenario)
    [s] = h.signed()
    assert s.receipt.cost <= cap
    assert s.receipt.energy_wh == max_energy_for(cap, TARIFF)


def test_second_session_of_the_same_driver__gets_only_what_is_left(
    create_harness: Any,
) -> None:
    h: Harness = create_harness()
    h.source.put(DriverAccount(DRIVER, 1, 1_500_000, 1_000_000, 10**9, 0, 0), RFID)

    async def scenario(h: Harness) -> None:
        a = await h.connected("CP16")
        b = await h.connected("CPX")
        c = await h.connected("CP201", OcppVersion.V201)
        assert await a.start(RFID) == "Accepted"  # holds 1_000_000
        assert await b.start(RFID) == "Accepted"  # holds the remaining 500_000
        assert await c.start(RFID) == "Invalid"  # nothing left
        assert h.gateway is not None
        held = [h.gateway.cache.reservation(("CP16", a.tx_key or "")),
                h.gateway.cache.reservation(("CPX", b.tx_key or ""))]
        assert [r.amount if r else None for r in held] == [1_000_000, 500_000]

    h.run(scenario)


def test_app_driver__one_time_token_via_remote_start(harness: Harness) -> None:
    harness.source.put(DriverAccount(OTHER_DRIVER, 1, 10**9, 10**8, 10**9, 0, 0))

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        cp = await h.connected("CP201", OcppVersion.V201)
        assert await h.gateway.start_for_app_driver("CP201", 1, OTHER_DRIVER) == "Accepted"
        request = await asyncio.wait_for(cp.remote_start.get(), 2)
        token = request["idToken"]["idToken"]
        assert await cp.charge(token, 600, steps=1) == "Accepted"
        assert await cp.start(token) == "Invalid"  # one-time: never again

    harness.run(scenario)
    [s] = harness.signed()
    assert s.receipt.driver == OTHER_DRIVER


def test_cache__a_driver_who_did_not_consent_to_this_site_gets_no_room() -> None:
    """Settlement refuses a session of a driver who let neither every station nor this site's
    operator charge it; the gateway refuses to start one (the operator would deliver unpaid)."""
    clock = FakeClock()
    cache, _ = _cache(_account(may_charge=False), clock)

    async def go() -> None:
        account = await cache.account(DRIVER, 1)
        assert account is not None
        assert cache.available(account) == 0
        assert cache.reserve(("CP-1", "tx-1"), account) is None
        assert not account.can_spend(1, int(clock()))

    asyncio.run(go())
