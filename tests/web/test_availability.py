"""Live availability against real parts: a site gateway (``wattnet gateway run``, as the
simulator starts one) hosting the devnet's WEB-CP-1 with its admin API, a simulated charger
connected to it over OCPP 1.6, and ``wattnet app --gateway-admin`` polling that API (the
source OCPI's EVSE status uses). Before any StatusNotification every connector is unknown; the
charger's StatusNotification (Available, then Charging) changes what the stations list shows;
a connector the charger never reported, and the station no gateway hosts, stay unknown."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from ocpp.v16 import call as c16

from wattnet.chain.localnode import free_port
from wattnet.domain import OcppVersion, station_id_for
from wattnet.sim.chargepoint.client import SimChargePoint
from wattnet.sim.network.node import stop_process
from wattnet.sim.network.plan import Charger
from wattnet.sim.network.stack import PASSWORD, service_env, start_gateway

from .pages import screenshot
from .stack import STATIONS, Network, start_app
from .test_app import open_app, serious_axe_violations

TOKEN_ENV = "WATTNET_GATEWAY_ADMIN_TOKEN"


class Loop:
    """An event loop in its own thread: the charger stays connected between the test's steps."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def site(network: Network, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """WEB-CP-1's gateway (one connector configured): its OCPP URL and its admin API's."""
    monkeypatch.setenv(TOKEN_ENV, secrets.token_hex(16))
    cp, geohash, power, tariff = STATIONS[0]
    charger = Charger(0, cp, OcppVersion.V16, 0, "web", geohash, 10_000, tariff, power,
                      bytes(Account.create().key))
    admin = free_port()
    svc = start_gateway(tmp_path, service_env(network.rpc_url, network.deployment_file), 0,
                        [charger], f"http://127.0.0.1:{free_port()}", network.deployment.chain_id,
                        network.deployment.address("EnergyCredits"), 1, admin_port=admin)
    try:
        yield f"ws://127.0.0.1:{svc.port}/ocpp", f"http://127.0.0.1:{admin}"
    finally:
        svc.stop()


def _row(page: Any, cp: str) -> Any:
    return page.locator(f"#stations tr[data-station='0x{station_id_for(cp).hex()}']")


def test_availability__a_chargers_status_notification_shows_in_the_stations_list(
        page: Any, network: Network, site: tuple[str, str], tmp_path: Path) -> None:
    ocpp, admin = site
    proc, url = start_app(network, tmp_path, extra=("--gateway-admin", admin,
                                                    "--status-poll-s", "0.5"))
    loop = Loop()
    charger = SimChargePoint(ocpp, STATIONS[0][0], OcppVersion.V16, password=PASSWORD)
    try:
        open_app(page, url)
        first, second = _row(page, STATIONS[0][0]), _row(page, STATIONS[1][0])
        first.locator("td", has_text="connectors 1 unknown, 2 unknown").wait_for()
        assert "connectors 1 unknown, 2 unknown" in second.inner_text()

        async def status(value: str) -> None:
            await charger.call(c16.StatusNotification(connector_id=1, error_code="NoError",
                                                      status=value))

        loop.run(charger.connect())
        loop.run(charger.boot())
        loop.run(status("Available"))
        first.locator("td", has_text="connectors 1 available, 2 unknown").wait_for(
            timeout=15_000)
        loop.run(status("Charging"))
        first.locator("td", has_text="connectors 1 charging, 2 unknown").wait_for(
            timeout=15_000)
        assert "available · connectors 1 charging" in first.inner_text()  # registry · live
        assert "connectors 1 unknown, 2 unknown" in second.inner_text()  # no gateway hosts it
        screenshot(page, "stations-live")
        assert serious_axe_violations(page) == []
    finally:
        loop.run(charger.close())
        loop.stop()
        stop_process(proc)
