"""The admin API's remote operations against virtual chargers over real sockets: what the
charger received for each version, what the API answered, and every bad call refused with one
line while the gateway keeps serving."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from conformance import checked

from conftest import Harness
from wattnet.domain import OcppVersion
from wattnet.gateway.config import config_from_dict
from wattnet.gateway.errors import GatewayConfigError
from wattnet.gateway.smart_charging import ChargingSchedule
from wattnet.sim.chargepoint import SimChargePoint

V16, V201 = OcppVersion.V16, OcppVersion.V201
TOKEN = "admin-token-0123456789abcdef"
NIGHT = ChargingSchedule("W", ((0, 11_000.0), (22 * 3600, 22_000.0)), daily=True)


@pytest.fixture
def admin_harness(create_harness: Callable[..., Harness],
                  monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setenv("WATTNET_GATEWAY_ADMIN_TOKEN", TOKEN)
    return create_harness(admin_port=0, charging_schedules={"night": NIGHT})


async def api(h: Harness, method: str, path: str, body: Any = None, *,
              token: str | None = TOKEN, raw: str | None = None) -> tuple[int, Any]:
    assert h.gateway is not None
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    url = f"http://127.0.0.1:{h.gateway.ports['admin']}{path}"
    async with aiohttp.ClientSession() as s, s.request(
        method, url, json=body if raw is None else None, data=raw, headers=headers
    ) as r:
        return r.status, await r.json()


def last_call(cp: SimChargePoint) -> tuple[str, dict[str, Any]]:
    msg = cp.received_calls[-1]
    return msg[2], msg[3]


# (op, parameters, {version: (action the charger receives, fields of its payload)})
OPS: list[tuple[str, dict[str, Any], dict[OcppVersion, tuple[str, dict[str, Any]]]]] = [
    ("start", {"connector": 2, "id_token": "ADMIN0001"}, {
        V16: ("RemoteStartTransaction", {"idTag": "ADMIN0001", "connectorId": 2}),
        V201: ("RequestStartTransaction", {"idToken": {"idToken": "ADMIN0001",
                                                       "type": "Central"}, "evseId": 2})}),
    ("stop", {"transaction": 7}, {
        V16: ("RemoteStopTransaction", {"transactionId": 7}),
        V201: ("RequestStopTransaction", {"transactionId": "7"})}),
    ("reset", {"hard": True}, {V16: ("Reset", {"type": "Hard"}),
                               V201: ("Reset", {"type": "Immediate"})}),
    ("reset", {}, {V16: ("Reset", {"type": "Soft"}), V201: ("Reset", {"type": "OnIdle"})}),
    ("availability", {"operative": False, "connector": 1}, {
        V16: ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}),
        V201: ("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}})}),
    ("unlock", {"connector": 2}, {V16: ("UnlockConnector", {"connectorId": 2}),
                                  V201: ("UnlockConnector", {"evseId": 2, "connectorId": 1})}),
    ("trigger", {"message": "StatusNotification", "connector": 1}, {
        V16: ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}),
        V201: ("TriggerMessage", {"requestedMessage": "StatusNotification",
                                  "evse": {"id": 1}})}),
    ("clear-profile", {"profile_id": 3}, {
        V16: ("ClearChargingProfile", {"id": 3}),
        V201: ("ClearChargingProfile", {"chargingProfileId": 3})}),
]


@pytest.mark.parametrize(("cp_id", "version"), [("CP16", V16), ("CP201", V201)])
def test_admin__each_operation_reaches_the_charger_as_its_versions_message(
    admin_harness: Harness, cp_id: str, version: OcppVersion
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await checked(h, cp_id, version)  # each call checked against the official schema
        for op, params, expected in OPS:
            status, body = await api(h, "POST", f"/v1/stations/{cp_id}/{op}", params)
            action, fields = expected[version]
            assert status == 200, (op, body)
            assert (body["action"], body["version"]) == (action, version.value)
            assert body["status"] == ("Unlocked" if op == "unlock" else "Accepted")
            got_action, payload = last_call(cp)
            assert got_action == action, op
            assert payload.items() >= fields.items(), (op, payload)
        assert cp.violations == []

    admin_harness.run(scenario)


@pytest.mark.parametrize(("cp_id", "version", "key"), [
    ("CP16", V16, "HeartbeatInterval"), ("CP201", V201, "OCPPCommCtrlr.HeartbeatInterval")])
def test_admin__set_config_then_get_config_reads_the_new_value_from_the_charger(
    admin_harness: Harness, cp_id: str, version: OcppVersion, key: str
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/set-config",
                                 {"key": key, "value": "120"})
        assert (status, body["status"]) == (200, "Accepted"), body
        assert cp.config[key] == "120"
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/get-config", {"keys": [key]})
        assert status == 200 and body["status"] is None
        if version == V16:
            assert body["action"] == "GetConfiguration"
            assert body["result"]["configurationKey"] == [
                {"key": key, "readonly": False, "value": "120"}]
        else:
            assert body["action"] == "GetVariables"
            [row] = body["result"]["getVariableResult"]
            assert (row["attributeStatus"], row["attributeValue"]) == ("Accepted", "120")
            assert last_call(cp)[1]["getVariableData"] == [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]
        # An unknown key: the charger says so; 1.6 lists it, 2.0.1 sets it UnknownVariable (409).
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/set-config",
                                 {"key": "Nope.Nothing", "value": "1"})
        assert status == 409
        assert body["status"] == ("NotSupported" if version == V16 else "UnknownVariable")
        assert "answered" in body["error"]

    admin_harness.run(scenario)


@pytest.mark.parametrize(("cp_id", "version"), [("CP16", V16), ("CP201", V201)])
def test_admin__set_profile_sends_the_configured_schedule_or_one_given_per_call(
    admin_harness: Harness, cp_id: str, version: OcppVersion
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await checked(h, cp_id, version)
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/set-profile",
                                 {"schedule": "night", "connector": 1})
        assert (status, body["status"], body["action"]) == (200, "Accepted",
                                                            "SetChargingProfile"), body
        _, payload = last_call(cp)
        if version == V16:
            assert payload["connectorId"] == 1
            profile = payload["csChargingProfiles"]
            schedule = profile["chargingSchedule"]
        else:
            assert payload["evseId"] == 1
            profile = payload["chargingProfile"]
            [schedule] = profile["chargingSchedule"]
        assert (profile["chargingProfileKind"], profile["recurrencyKind"]) == ("Recurring",
                                                                              "Daily")
        assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
        assert schedule["startSchedule"].endswith("T00:00:00Z")
        assert [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]] == [
            (0, 11_000), (79_200, 22_000)]
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/set-profile", {
            "periods": [[0, 16], [1800, 8]], "unit": "A", "profile_id": 9, "stack_level": 2})
        assert status == 200, body
        _, payload = last_call(cp)
        profile = payload["csChargingProfiles" if version == V16 else "chargingProfile"]
        schedule = profile["chargingSchedule"]
        schedule = schedule if version == V16 else schedule[0]
        assert (profile["stackLevel"], profile["chargingProfileKind"]) == (2, "Relative")
        assert schedule["chargingRateUnit"] == "A"
        assert [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]] == [
            (0, 16), (1800, 8)]
        assert cp.violations == []

    admin_harness.run(scenario)


@pytest.mark.parametrize(("cp_id", "version"), [("CP16", V16), ("CP201", V201)])
def test_admin__charger_refusal_and_call_error_come_back_as_clear_json_errors(
    admin_harness: Harness, cp_id: str, version: OcppVersion
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        cp.answers["Reset"] = {"status": "Rejected"}
        cp.answers["UnlockConnector"] = ("NotSupported", "this station has no lock motor")
        cp.answers["TriggerMessage"] = {"status": "Bogus"}  # not in the schema's enum
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/reset", {})
        assert (status, body["status"]) == (409, "Rejected")
        assert body["error"] == f"charge point {cp_id} answered Reset with Rejected"
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/unlock", {"connector": 1})
        assert status == 502
        assert body["error"] == (f"charge point {cp_id} answered UnlockConnector with "
                                 "NotSupported: this station has no lock motor")
        status, body = await api(h, "POST", f"/v1/stations/{cp_id}/trigger",
                                 {"message": "Heartbeat"})
        assert status == 502 and "answered TriggerMessage with" in body["error"]
        assert [m[2] for m in cp.received_calls] == ["Reset", "UnlockConnector", "TriggerMessage"]

    admin_harness.run(scenario)


def test_admin__a_charger_that_does_not_answer_is_a_504_and_the_next_call_works(
    create_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATTNET_GATEWAY_ADMIN_TOKEN", TOKEN)
    h = create_harness(admin_port=0, response_timeout_s=0.3)

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        cp.answers["Reset"] = None
        status, body = await api(h, "POST", "/v1/stations/CP16/reset", {})
        assert (status, body) == (504, {"error": "charge point CP16 did not answer Reset in time"})
        status, body = await api(h, "POST", "/v1/stations/CP16/unlock", {"connector": 1})
        assert (status, body["status"]) == (200, "Unlocked")
        assert [m[2] for m in cp.received_calls] == ["Reset", "UnlockConnector"]

    h.run(scenario)


def test_admin__bad_calls_are_refused_with_one_line_and_the_gateway_keeps_serving(
    admin_harness: Harness
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        path = "/v1/stations/CP16/reset"
        bad: list[tuple[int, tuple[Any, ...], dict[str, Any], str]] = [
            (401, ("POST", path, {}), {"token": None}, "missing or wrong admin token"),
            (401, ("POST", path, {}), {"token": TOKEN + "x"}, "missing or wrong admin token"),
            (401, ("GET", "/v1/stations"), {"token": "short"}, "missing or wrong admin token"),
            (404, ("POST", "/v1/stations/NOPE/reset", {}), {}, "no charge point 'NOPE'"),
            (409, ("POST", "/v1/stations/CPX/reset", {}), {}, "CPX is not connected"),
            (400, ("POST", "/v1/stations/CP16/explode", {}), {}, "unknown operation 'explode'"),
            (400, ("POST", path), {"raw": "{not json"}, "the body is not JSON"),
            (400, ("POST", path, [1, 2]), {}, "the body must be a JSON object"),
            (400, ("POST", path, {"hard": "yes"}), {}, "'hard' must be bool"),
            (400, ("POST", "/v1/stations/CP16/unlock", {"connector": 3}), {},
             "station CP16 has connectors 1..2; got 3"),
            (400, ("POST", "/v1/stations/CP16/unlock", {"connector": 0}), {},
             "has connectors 1..2"),
            (400, ("POST", "/v1/stations/CP16/unlock", {}), {}, "'connector' is required"),
            (400, ("POST", "/v1/stations/CP16/trigger", {"message": "Nope"}), {},
             "TriggerMessage would be invalid: 'Nope' is not one of"),
            (400, ("POST", "/v1/stations/CP16/set-profile", {"schedule": "noon"}), {},
             "no charging schedule 'noon' in the gateway config (known: night)"),
            (400, ("POST", "/v1/stations/CP16/set-profile", {"periods": [[60, 1]]}), {},
             "the first starting at 0"),
            (400, ("POST", "/v1/stations/CP16/get-config", {"keys": [1]}), {},
             "'keys' must be a list of strings"),
        ]
        for want, args, kw, text in bad:
            status, body = await api(h, *args, **kw)
            assert status == want, (args, body)
            assert text in body["error"] and "\n" not in body["error"], (args, body)
        assert cp.received_calls == []  # nothing bad reached the charger
        status, body = await api(h, "GET", "/v1/stations")
        assert status == 200
        rows = {r["chargePointId"]: r for r in body}
        assert rows["CP16"] == {"chargePointId": "CP16", "connected": True,
                                "version": "ocpp1.6", "connectors": 2, "status": {}}
        assert rows["CPX"]["connected"] is False
        assert (await api(h, "POST", path, {"hard": True}))[0] == 200
        assert last_call(cp) == ("Reset", {"type": "Hard"})
        assert await cp.heartbeat()  # the charger is still served

    admin_harness.run(scenario)


def test_admin_config__schedules_parsed_and_bad_ones_refused(tmp_path: Any) -> None:
    base = {"data_dir": "d", "oracle_url": "http://x", "chain_id": 1,
            "settlement": "0x00000000000000000000000000000000000000Aa", "admin_port": 9100}
    cfg = config_from_dict(base | {"charging_schedules": {
        "night": {"unit": "W", "periods": [[0, 11000], [79200, 22000]], "daily": True}}},
        tmp_path)
    assert cfg.charging_schedules["night"] == NIGHT and cfg.admin_port == 9100
    for bad, text in [({"x": {"unit": "kW", "periods": [[0, 1]]}}, "unit must be W or A"),
                      ({"x": {"periods": [[0, 1], [0, 2]]}}, "distinct, ascending"),
                      ({"x": {"periods": "all"}}, "a schedule is"),
                      ([1], "must map names")]:
        with pytest.raises(GatewayConfigError, match=text):
            config_from_dict(base | {"charging_schedules": bad}, tmp_path)


def test_admin__no_token_in_the_environment_refuses_to_start(
    create_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATTNET_GATEWAY_ADMIN_TOKEN", "too-short")
    h = create_harness(admin_port=0)
    with pytest.raises(GatewayConfigError, match="at least 16 characters"):
        h.run(lambda h: _nothing())


async def _nothing() -> None:
    return None


async def wattnet(h: Harness, *args: str, token: str = TOKEN) -> tuple[int, str, str]:
    """``wattnet gateway admin ...`` as a real process against the running gateway."""
    import asyncio
    import os
    import sys

    assert h.gateway is not None
    env = os.environ | {"WATTNET_GATEWAY_ADMIN_TOKEN": token,
                        "WATTNET_GATEWAY_ADMIN_URL": f"http://127.0.0.1:{h.gateway.ports['admin']}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wattnet.cli.main", "gateway", "admin", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_admin_cli__runs_operations_and_fails_in_one_line(admin_harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP201", V201)
        code, out, err = await wattnet(h, "reset", "CP201", "hard:=true")
        assert (code, err) == (0, "")
        assert out.strip() == "CP201 Reset (ocpp2.0.1): Accepted"
        assert last_call(cp) == ("Reset", {"type": "Immediate"})
        code, out, _ = await wattnet(h, "set-config", "CP201", "value:=90", "--json",
                                     "key=OCPPCommCtrlr.HeartbeatInterval")
        assert code == 0 and json.loads(out)["status"] == "Accepted"
        assert cp.config["OCPPCommCtrlr.HeartbeatInterval"] == "90"
        code, out, _ = await wattnet(h, "stations", "--json")
        assert {r["chargePointId"]: r["connected"] for r in json.loads(out)}["CP201"] is True
        for args, token, text in [
            (("reset", "CP201"), "wrong-token-0123456789", "gateway answered 401: missing"),
            (("unlock", "CP201", "connector:=9"), TOKEN, "gateway answered 400: station CP201 has"),
            (("reset", "CPX"), TOKEN, "gateway answered 409: charge point CPX is not connected"),
            (("reset", "CP201", "hard:=yes"), TOKEN, "hard:=yes: the value after := must be JSON"),
        ]:
            code, out, err = await wattnet(h, *args, token=token)
            assert code == 2, (args, out, err)
            assert err.startswith("error: " + text) and err.count("\n") == 1, (args, err)
            assert "Traceback" not in err
        assert [m[2] for m in cp.received_calls] == ["Reset", "SetVariables"]

    admin_harness.run(scenario)
