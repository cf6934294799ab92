"""The OCPI server's link to the gateways (issue 16): EVSE status read from the admin API after
the charger's StatusNotification (both versions); live sessions followed from the admin API's
transaction events (ACTIVE, energy growing, COMPLETED, with the session id its receipt maps to);
START_SESSION / STOP_SESSION / UNLOCK_CONNECTOR carried out at the charger, each admin answer
mapped onto OCPI's CommandResultType; a wrong admin token logged once and refused safely."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201

from conftest import RFID, Harness
from wattnet.domain import OcppVersion, station_id_for
from wattnet.ocpi.config import config_from_dict
from wattnet.ocpi.gateways import GatewayEndpoint, GatewayLink
from wattnet.ocpi.live import LiveState
from wattnet.ocpi.live_sessions import SessionTracker
from wattnet.ocpi.mapping import Mapper, session_ocpi_id

TOKEN = "admin-token-0123456789abcdef"
V16, V201 = OcppVersion.V16, OcppVersion.V201


@pytest.fixture
def harness(create_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("WATTNET_GATEWAY_ADMIN_TOKEN", TOKEN)
    return create_harness(admin_port=0)


MAPPER = Mapper(config_from_dict({
    "country_code": "DE", "party_id": "WNT", "base_url": "http://127.0.0.1:1",
    "database": "unused", "stations": "json:unused",
    "currencies": {"1": {"currency": "EUR", "decimals": 6}}}))


def _link(h: Harness, http: aiohttp.ClientSession, live: LiveState,
          token_env: str = "WATTNET_GATEWAY_ADMIN_TOKEN") -> GatewayLink:
    assert h.gateway is not None
    return GatewayLink(http, [GatewayEndpoint(f"http://127.0.0.1:{h.gateway.ports['admin']}",
                                              token_env)], live, SessionTracker(MAPPER, live))


async def _until(check: Callable[[], Any], what: str) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def test_link__status_from_each_versions_status_notification(harness: Harness) -> None:
    live = LiveState(lambda: 1_750_000_000.0)
    pushed: list[tuple[bytes, int, str]] = []
    live.on_status.append(lambda s, c, status, when: pushed.append((s, c, status)))

    async def scenario(h: Harness) -> None:
        cp16 = await h.connected("CP16", V16)
        cp201 = await h.connected("CP201", V201)
        await cp16.call(c16.StatusNotification(connector_id=1, error_code="NoError",
                                               status="Available"))
        await cp201.call(c201.StatusNotification(timestamp="2026-12-05T10:00:00Z",
                                                 connector_status="Occupied", evse_id=2,
                                                 connector_id=1))
        async with aiohttp.ClientSession() as http:
            assert await _link(h, http, live).refresh() == 1
            await cp16.call(c16.StatusNotification(connector_id=1, error_code="NoError",
                                                   status="Charging"))
            await _link(h, http, live).refresh()

    harness.run(scenario)
    assert pushed == [(station_id_for("CP16"), 1, "AVAILABLE"),
                      (station_id_for("CP201"), 2, "CHARGING"),
                      (station_id_for("CP16"), 1, "CHARGING")]


@pytest.mark.parametrize(("cp_id", "version", "action"), [
    ("CP16", V16, "RemoteStartTransaction"), ("CP201", V201, "RequestStartTransaction")])
def test_link__start_session_reaches_the_charger_with_the_emsp_token(
        harness: Harness, cp_id: str, version: OcppVersion, action: str) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        async with aiohttp.ClientSession() as http:
            link = _link(h, http, LiveState(lambda: 0.0))
            assert await link.start(station_id_for(cp_id), 1, {"uid": RFID}) == "ACCEPTED"
            got, payload = cp.received_calls[-1][2], cp.received_calls[-1][3]
            assert got == action
            assert RFID in str(payload)
            assert await link.unlock(station_id_for(cp_id), 1) == "ACCEPTED"
            assert cp.received_calls[-1][2] == "UnlockConnector"
            cp.answers[action] = {"status": "Rejected"}
            assert await link.start(station_id_for(cp_id), 1, {"uid": RFID}) == "REJECTED"

    harness.run(scenario)


def test_link__no_gateway_or_an_offline_charger_is_an_inoperative_evse(
        harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        async with aiohttp.ClientSession() as http:
            link = _link(h, http, LiveState(lambda: 0.0))
            assert await link.start(station_id_for("NOWHERE"), 1, {"uid": RFID}) == \
                "EVSE_INOPERATIVE"
            assert await link.start(station_id_for("CPX"), 1, {"uid": RFID}) == \
                "EVSE_INOPERATIVE"  # configured at this site, not connected
            assert await link.stop({"id": "s1"}) == "REJECTED"

    harness.run(scenario)


def test_link__a_missing_token_is_one_line() -> None:
    with pytest.raises(ValueError, match=r"\$NOPE_TOKEN"):
        GatewayEndpoint("http://x", "NOPE_TOKEN").token()


@pytest.mark.parametrize(("cp_id", "version", "action"), [
    ("CP16", V16, "RemoteStopTransaction"), ("CP201", V201, "RequestStopTransaction")])
def test_link__live_session_followed_and_stop_session_reaches_the_charger(
        harness: Harness, cp_id: str, version: OcppVersion, action: str) -> None:
    live = LiveState(lambda: 0.0)
    seen: list[tuple[str, dict[str, Any] | None]] = []
    live.on_session.append(lambda s, changed: seen.append((s["status"], changed)))

    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            link = _link(h, http, live)
            following = asyncio.create_task(link.follow(stop, 0.05, wait_s=1.0))
            assert await cp.start(RFID) == "Accepted"
            await _until(lambda: live.sessions(), "the session is ACTIVE")
            (active,) = live.sessions()
            await cp.meter_values(1_500)
            await _until(lambda: active["kwh"] == 1.5, "energy grows")
            assert active["total_cost"] == {"excl_vat": 0.525}  # 1.5 kWh at 0.35 EUR
            assert await link.stop(active) == "ACCEPTED"
            name, payload = cp.received_calls[-1][2], cp.received_calls[-1][3]
            assert name == action
            assert str(payload["transactionId"]) == cp.tx_key
            await cp.meter_values(500)
            await cp.stop(reason="Remote", id_token=RFID)
            await _until(lambda: active["status"] == "COMPLETED", "the session is COMPLETED")
            assert await link.stop(active) == "REJECTED"  # no open transaction any more
            stop.set()
            await following
        (receipt,) = [s.receipt for s in h.signed()]
        assert active["id"] == session_ocpi_id(receipt.station_id, receipt.connector_id,
                                               receipt.start_time)  # its CDR's session_id
        assert active["kwh"] == receipt.energy_wh / 1000 == 2.0
        assert active["total_cost"] == {"excl_vat": receipt.cost / 10**6}
        assert active["cdr_token"]["type"] == "APP_USER"

    harness.run(scenario)
    assert [status for status, _ in seen] == ["ACTIVE", "ACTIVE", "ACTIVE", "COMPLETED"]
    assert seen[0][1] is None  # a PUT, then PATCHes of what changed
    assert seen[1][1] is not None and set(seen[1][1]) == {"kwh", "total_cost", "last_updated"}
    assert seen[-1][1] is not None and seen[-1][1]["status"] == "COMPLETED"


def test_link__wrong_admin_token_is_logged_once_statuses_unknown_commands_rejected(
        harness: Harness, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("WRONG_ADMIN_TOKEN", "not-the-admin-token-at-all")
    live = LiveState(lambda: 0.0)

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16", V16)
        await cp.call(c16.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Charging"))
        calls = len(cp.received_calls)
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            link = _link(h, http, live, "WRONG_ADMIN_TOKEN")
            following = asyncio.create_task(link.follow(stop, 0.05, wait_s=1.0))
            assert await link.refresh() == 0
            assert await link.refresh() == 0
            sid = station_id_for("CP16")
            assert await link.start(sid, 1, {"uid": RFID}) == "REJECTED"
            assert await link.unlock(sid, 1) == "REJECTED"
            await asyncio.sleep(0.3)  # the event feed is refused a few times meanwhile
            stop.set()
            await following
        assert live.statuses(station_id_for("CP16")) == {}  # the EVSE stays UNKNOWN
        assert len(cp.received_calls) == calls  # nothing reached the charger

    with caplog.at_level(logging.WARNING, logger="wattnet.ocpi.gateways"):
        harness.run(scenario)
    refusals = [r for r in caplog.records if "refuses our admin token" in r.getMessage()]
    assert len(refusals) == 1
