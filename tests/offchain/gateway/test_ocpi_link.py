"""The OCPI server's link to the gateways (issue 16): EVSE status read from the admin API after
the charger's StatusNotification (both versions), and START_SESSION / UNLOCK_CONNECTOR carried
out at the charger, each admin answer mapped onto OCPI's CommandResultType."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201

from conftest import RFID, Harness
from wattnet.domain import OcppVersion, station_id_for
from wattnet.ocpi.gateways import GatewayEndpoint, GatewayLink
from wattnet.ocpi.live import LiveState

TOKEN = "admin-token-0123456789abcdef"
V16, V201 = OcppVersion.V16, OcppVersion.V201


@pytest.fixture
def harness(create_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("WATTNET_GATEWAY_ADMIN_TOKEN", TOKEN)
    return create_harness(admin_port=0)


def _link(h: Harness, http: aiohttp.ClientSession, live: LiveState) -> GatewayLink:
    assert h.gateway is not None
    return GatewayLink(http, [GatewayEndpoint(f"http://127.0.0.1:{h.gateway.ports['admin']}")],
                       live)


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
