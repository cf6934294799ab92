"""App drivers: an EIP-712 ChargeRequest signed by the driver starts a session through
RemoteStart/RequestStartTransaction with a one-time idToken, limited to what the driver signed;
forged, expired, replayed or misdirected requests are refused."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from conftest import CHAIN_ID, SETTLEMENT, Harness
from wattnet.chain.eip712 import address_of_private_key, sign_digest
from wattnet.domain import DriverAccount, OcppVersion, station_id_for
from wattnet.gateway.app import ChargeRequest, app_domain, charge_request_digest

APP_KEY = bytes.fromhex("42" * 32)
APP_DRIVER = address_of_private_key(APP_KEY)
MAX_COST = 700_000  # 2 kWh at the tariff


def _body(key: bytes = APP_KEY, **kw: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(station_id=station_id_for("CP201"), connector_id=1,
                                  driver=APP_DRIVER, credit_id=1, max_cost=MAX_COST, nonce=1,
                                  deadline=int(time.time()) + 300) | kw
    req = ChargeRequest(**fields)
    sig = sign_digest(key, charge_request_digest(app_domain(CHAIN_ID, SETTLEMENT), req))
    return {"request": {"stationId": "0x" + req.station_id.hex(), "connectorId": req.connector_id,
                        "driver": req.driver, "creditId": req.credit_id, "maxCost": req.max_cost,
                        "nonce": req.nonce, "deadline": req.deadline},
            "signature": "0x" + sig.hex()}


async def _post(h: Harness, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    assert h.gateway is not None
    url = f"http://127.0.0.1:{h.gateway.ports['app']}/v1/charge"
    async with aiohttp.ClientSession() as s, s.post(url, json=body) as resp:
        return resp.status, await resp.json()


@pytest.fixture
def app_harness(create_harness: Any) -> Harness:
    h: Harness = create_harness(app_port=0)
    h.source.put(DriverAccount(APP_DRIVER, 1, 10**9, 10**8, 10**9, 0, 0))
    return h


def test_signed_charge_request__starts_a_session_capped_at_max_cost(app_harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP201", OcppVersion.V201)
        assert await _post(h, _body()) == (200, {"status": "Accepted"})
        request = await asyncio.wait_for(cp.remote_start.get(), 2)
        token = request["idToken"]["idToken"]
        assert await cp.start(token) == "Accepted"
        assert h.gateway is not None
        held = h.gateway.cache.reservation(("CP201", cp.tx_key or ""))
        assert held is not None and held.amount == MAX_COST  # not the 10**8 session cap
        await cp.meter_values(1_000)
        await cp.stop()

    app_harness.run(scenario)
    [s] = app_harness.signed()
    assert s.receipt.driver == APP_DRIVER and s.receipt.cost <= MAX_COST


@pytest.mark.parametrize(("body", "message"), [
    (lambda: _body(key=bytes.fromhex("43" * 32)), "not signed by its driver"),
    (lambda: _body(deadline=int(time.time()) - 1), "expired"),
    (lambda: _body(station_id=station_id_for("ELSEWHERE")), "not at this site"),
    (lambda: _body(connector_id=9), "no connector 9"),
    (lambda: _body(credit_id=7), "does not take credit id 7"),
    (lambda: {"request": {"stationId": "0x00"}, "signature": "0x"}, "malformed"),
])
def test_bad_charge_request__refused_and_nothing_started(
    app_harness: Harness, body: Any, message: str
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP201", OcppVersion.V201)
        status, answer = await _post(h, body())
        assert status == 400 and message in answer["error"]
        assert cp.received_calls == []

    app_harness.run(scenario)


def test_replayed_charge_request__refused_even_after_a_restart(app_harness: Harness) -> None:
    body = _body(nonce=77)

    async def first(h: Harness) -> None:
        await h.connected("CP201", OcppVersion.V201)
        assert (await _post(h, body))[0] == 200
        status, answer = await _post(h, body)
        assert status == 400 and "replay" in answer["error"]

    async def after_restart(h: Harness) -> None:
        cp = await h.connected("CP201", OcppVersion.V201)
        status, answer = await _post(h, body)
        assert status == 400 and "replay" in answer["error"]
        assert cp.received_calls == []

    app_harness.run(first)
    app_harness.run(after_restart)


def test_charge_request_for_an_offline_station__is_a_conflict(app_harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        status, answer = await _post(h, _body(nonce=5))
        assert status == 409 and "not connected" in answer["error"]

    app_harness.run(scenario)
