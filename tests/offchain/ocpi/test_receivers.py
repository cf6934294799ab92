"""Tokens and commands (CPO as receiver), pushes to the eMSP (EVSE status PATCH, session PUT)
and the sessions sender interface, against the test eMSP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattnet.ocpi.live import LiveState
from wattnet.ocpi.mapping import Mapper, evse_uid, location_id, session
from wattnet.oracle.store_base import Store

from . import schemas
from .conftest import T0, Harness, station_rows

Run = Callable[..., None]
STATION = bytes.fromhex(station_rows(3)[1]["station_id"][2:])  # two connectors
LOC = location_id(STATION)
DRIVER = b"\x0d" * 20


def a_token(uid: str = "100012", party: str = "TNM", **over: Any) -> dict[str, Any]:
    return {"country_code": "NL", "party_id": party, "uid": uid, "type": "RFID",
            "contract_id": "NL-TNM-C12345678-X", "issuer": "Test eMSP", "valid": True,
            "whitelist": "ALLOWED", "last_updated": "2026-05-28T10:00:00Z"} | over


@dataclass
class RecordingControl:
    """Stands in for the gateways: records the commands and answers ``result``."""

    result: str = "ACCEPTED"
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def start(self, station_id: bytes, connector: int, token: dict[str, Any]) -> str:
        self.calls.append(("start", station_id, connector, token["uid"]))
        return self.result

    async def stop(self, session: dict[str, Any]) -> str:
        self.calls.append(("stop", session["id"]))
        return self.result

    async def unlock(self, station_id: bytes, connector: int) -> str:
        self.calls.append(("unlock", station_id, connector))
        return self.result


def test_tokens__put_get_patch_and_bad_input_stores_nothing(run: Run, store: Store) -> None:
    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        url = h.url("tokens/NL/TNM/100012")
        status, body, _ = await h.emsp.call(h.http, "PUT", url, json=a_token())
        assert (status, body["status_code"]) == (201, 1000)
        status, body, _ = await h.emsp.call(h.http, "PUT", url, json=a_token(valid=True))
        assert (status, body["status_code"]) == (200, 1000)
        status, body, _ = await h.emsp.call(h.http, "PATCH", url, json={
            "valid": False, "last_updated": "2026-05-28T11:00:00Z"})
        assert body["status_code"] == 1000
        status, body, _ = await h.emsp.call(h.http, "GET", url + "?type=RFID")
        assert body["data"]["valid"] is False and body["data"]["issuer"] == "Test eMSP"
        # bad input: the prescribed code, nothing stored
        cases = [
            ("PUT", h.url("tokens/NL/TNM/999"), a_token("998"), 2001),  # URL and body differ
            ("PUT", h.url("tokens/NL/XYZ/999"), a_token("999", party="XYZ"), 2001),  # not yours
            ("PUT", h.url("tokens/NL/TNM/999"), a_token("999", whitelist="SOMETIMES"), 2001),
            ("PUT", h.url("tokens/NL/TNM/999"), {"uid": "999"}, 2001),
            ("PATCH", h.url("tokens/NL/TNM/999"), {"valid": True,
                                                   "last_updated": "2026-05-28T11:00:00Z"}, 2004),
            ("PATCH", url, {"valid": True}, 2001),  # no last_updated
        ]
        for method, target, payload, code in cases:
            status, body, _ = await h.emsp.call(h.http, method, target, json=payload)
            assert (status, body["status_code"]) == (200, code), (method, target, payload)
        async with h.http.put(h.url("tokens/NL/TNM/999"), data=b"[1,",
                              headers=h.emsp.headers()) as resp:
            assert resp.status == 400
        for uid in ("998", "999"):
            assert h.cpo.partners.token("NL", "TNM", uid, "RFID") is None
        assert h.cpo.partners.token("NL", "TNM", "100012", "RFID")["valid"] is False  # type: ignore[index]
        status, body, _ = await h.emsp.call(h.http, "GET", h.url("tokens/NL/TNM/999"))
        assert (status, body["status_code"]) == (404, 2004)

    run(scenario)


def test_commands__start_stop_unlock_go_to_the_chargers_and_results_come_back(run: Run) -> None:
    control = RecordingControl()
    live = LiveState(lambda: T0)

    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        result_url = f"{h.emsp.base_url}/2.2.1/commands/START_SESSION/42"
        start = {"response_url": result_url, "token": a_token(), "location_id": LOC,
                 "evse_uid": evse_uid(STATION, 2), "connector_id": "1"}
        status, body, _ = await h.emsp.call(h.http, "POST", h.url("commands/START_SESSION"),
                                            json=start, data_schema=schemas.COMMAND_RESPONSE)
        assert status == 200
        assert body["data"] == {"result": "ACCEPTED", "timeout": 30}
        await asyncio.wait(h.cpo.tasks, timeout=5)
        assert control.calls == [("start", STATION, 2, "100012")]
        (got,) = [r for r in h.emsp.received if r.path.endswith("/42")]
        assert (got.method, got.body) == ("POST", {"result": "ACCEPTED"})
        # unknown location: 2003, nothing sent to a charger
        status, body, _ = await h.emsp.call(h.http, "POST", h.url("commands/START_SESSION"),
                                            json=start | {"location_id": "nowhere"})
        assert body["status_code"] == 2003
        status, body, _ = await h.emsp.call(h.http, "POST", h.url("commands/UNLOCK_CONNECTOR"),
                                            json={"response_url": result_url,
                                                  "location_id": LOC,
                                                  "evse_uid": evse_uid(STATION, 9),
                                                  "connector_id": "1"})
        assert body["status_code"] == 2003
        # someone else's token, an invalid token, an unknown session, a reservation
        other = start | {"token": a_token(party="XYZ")}
        body = (await h.emsp.call(h.http, "POST", h.url("commands/START_SESSION"),
                                  json=other))[1]
        assert body["status_code"] == 2001
        body = (await h.emsp.call(h.http, "POST", h.url("commands/START_SESSION"),
                                  json=start | {"token": a_token(valid=False)}))[1]
        assert body["data"]["result"] == "REJECTED"
        body = (await h.emsp.call(h.http, "POST", h.url("commands/STOP_SESSION"), json={
            "response_url": result_url, "session_id": "nope"}))[1]
        assert body["data"]["result"] == "UNKNOWN_SESSION"
        body = (await h.emsp.call(h.http, "POST", h.url("commands/RESERVE_NOW"), json={}))[1]
        assert body["data"]["result"] == "NOT_SUPPORTED"
        # a session of this eMSP's token can be stopped; unlock reaches the charger
        live.put_session(session(Mapper(h.cpo.cfg), STATION, 2, T0, a_token(), DRIVER, 1,
                                 now=T0 + 60, energy_wh=500, cost=175_000))
        sid = f"{LOC[:15]}-2-{T0}"
        body = (await h.emsp.call(h.http, "POST", h.url("commands/STOP_SESSION"), json={
            "response_url": result_url, "session_id": sid}))[1]
        assert body["data"]["result"] == "ACCEPTED"
        body = (await h.emsp.call(h.http, "POST", h.url("commands/UNLOCK_CONNECTOR"), json={
            "response_url": result_url, "location_id": LOC, "evse_uid": evse_uid(STATION, 1),
            "connector_id": "1"}))[1]
        assert body["data"]["result"] == "ACCEPTED"
        await asyncio.wait(h.cpo.tasks, timeout=5)
        assert control.calls[1:] == [("stop", sid), ("unlock", STATION, 1)]

    run(scenario, control=control, live=live)


def test_commands__without_a_gateway_link_are_not_supported(run: Run) -> None:
    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        body = (await h.emsp.call(h.http, "POST", h.url("commands/START_SESSION"), json={}))[1]
        assert body["data"] == {"result": "NOT_SUPPORTED", "timeout": 0}

    run(scenario)


def test_push__evse_status_patch_and_session_put_reach_the_emsp(run: Run) -> None:
    live = LiveState(lambda: T0 + 500)

    async def scenario(h: Harness) -> None:
        await h.emsp.register(h.http, h.versions_url, h.token_a)
        assert live.set_ocpp_status(STATION, 2, "Charging") == "CHARGING"
        assert live.set_ocpp_status(STATION, 2, "SuspendedEV") == "CHARGING"  # no change
        mapper = Mapper(h.cpo.cfg)
        live.put_session(session(mapper, STATION, 2, T0, a_token(), DRIVER, 1, now=T0 + 500,
                                 energy_wh=2_500, cost=875_000))
        live.put_session(session(mapper, STATION, 1, T0, a_token(party="XYZ"), DRIVER, 1,
                                 now=T0 + 500, energy_wh=1, cost=1))  # another eMSP's
        live.put_session(session(mapper, STATION, 1, T0 + 9, None, DRIVER, 1, now=T0 + 500,
                                 energy_wh=1, cost=1))  # a WattNet driver's: not shared
        await asyncio.wait(h.cpo.tasks, timeout=5)
        patches = [r for r in h.emsp.received if r.method == "PATCH"]
        assert [(p.path, p.body) for p in patches] == [(
            f"/2.2.1/locations/DE/WNT/{LOC}/{evse_uid(STATION, 2)}",
            schemas.check(schemas.EVSE_PATCH, {"status": "CHARGING",
                                               "last_updated": "2026-05-28T20:35:00Z"}))]
        puts = [r for r in h.emsp.received if r.method == "PUT"]
        assert [p.path for p in puts] == [f"/2.2.1/sessions/DE/WNT/{LOC[:15]}-2-{T0}"]
        schemas.check(schemas.SESSION, puts[0].body)
        assert puts[0].body["kwh"] == 2.5 and puts[0].body["total_cost"] == {"excl_vat": 0.875}
        # the pulled Location shows the pushed status; sessions pull shows only its own
        status, body, _ = await h.emsp.call(h.http, "GET", h.url(f"locations/{LOC}"),
                                            data_schema=schemas.LOCATION)
        assert status == 200
        assert [e["status"] for e in body["data"]["evses"]] == ["UNKNOWN", "CHARGING"]
        sessions, totals = await h.emsp.pull_all(h.http, "sessions", schemas.SESSION)
        assert [s["id"] for s in sessions] == [f"{LOC[:15]}-2-{T0}"] and totals == [1]

    run(scenario, live=live)
