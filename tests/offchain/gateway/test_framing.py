"""THREATS.md, OCPP central system: malformed frames and schema violations get the CallError the
OCPP-J spec of each version prescribes; the connection and every other station keep working."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Harness
from wattnet.domain import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201

# (raw frame, expected message id, 1.6 code, 2.0.1 code)
FRAME_CASES = [
    ("not json at all", "-1", "FormationViolation", "RpcFrameworkError"),
    ('[2,"t1","Heartbeat",{', "-1", "FormationViolation", "RpcFrameworkError"),  # truncated
    ('{"action":"Heartbeat"}', "-1", "FormationViolation", "RpcFrameworkError"),  # not an array
    ("[]", "-1", "FormationViolation", "RpcFrameworkError"),
    ('[2,"t2","Heartbeat"]', "t2", "FormationViolation", "RpcFrameworkError"),  # 3 elements
    ('[2,"t3","Heartbeat",{},{}]', "t3", "FormationViolation", "RpcFrameworkError"),  # 5
    ('[2,17,"Heartbeat",{}]', "-1", "FormationViolation", "RpcFrameworkError"),  # id not str
    ('[2,"' + "x" * 37 + '","Heartbeat",{}]', "-1", "FormationViolation", "RpcFrameworkError"),
    ('[7,"t4","Heartbeat",{}]', "t4", "FormationViolation", "MessageTypeNotSupported"),
    ('["2","t5","Heartbeat",{}]', "t5", "FormationViolation", "MessageTypeNotSupported"),
    ('[2,"t6","Heartbeat",[]]', "t6", "FormationViolation", "FormatViolation"),  # payload
    ('[2,"t7",42,{}]', "t7", "FormationViolation", "RpcFrameworkError"),  # action not str
]


@pytest.mark.parametrize("version", [V16, V201])
@pytest.mark.parametrize(("frame", "uid", "code16", "code201"), FRAME_CASES)
def test_malformed_frame__gets_the_version_specific_call_error_and_connection_survives(
    harness: Harness, version: OcppVersion, frame: str, uid: str, code16: str, code201: str
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16" if version == V16 else "CP201", version)
        other = await h.connected("CPX", V16)
        reply = await cp.exchange_raw(frame, uid)
        assert reply is not None and reply[0] == 4
        assert reply[1] == uid
        assert reply[2] == (code16 if version == V16 else code201)
        assert isinstance(reply[3], str) and isinstance(reply[4], dict)
        assert "currentTime" in await cp.heartbeat()  # same connection still served
        assert "currentTime" in await other.heartbeat()  # other station untouched

    harness.run(scenario)


def test_binary_frame__is_refused_with_a_frame_error(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP201", V201)
        reply = await cp.exchange_raw(b"\x00\x01garbage")
        assert reply is not None and reply[:3] == [4, "-1", "RpcFrameworkError"]
        assert "currentTime" in await cp.heartbeat()

    harness.run(scenario)


@pytest.mark.parametrize(("version", "action", "code"), [
    (V16, "FlyToTheMoon", "NotImplemented"),  # unknown action
    (V201, "FlyToTheMoon", "NotImplemented"),
    (V16, "RemoteStartTransaction", "NotSupported"),  # known, a central system's to send
    (V201, "RequestStartTransaction", "NotSupported"),
    (V201, "StartTransaction", "NotImplemented"),  # a 1.6 action is unknown to 2.0.1
])
def test_action__unknown_is_not_implemented_known_is_not_supported(
    harness: Harness, version: OcppVersion, action: str, code: str
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16" if version == V16 else "CP201", version)
        reply = await cp.exchange_raw(json.dumps([2, "a1", action, {}]), "a1")
        assert reply is not None and reply[:3] == [4, "a1", code]

    harness.run(scenario)


SCHEMA_CASES = [
    # (version, action, payload, 1.6/2.0.1 code)
    (V16, "Authorize", {"idTag": 42}, "TypeConstraintViolation"),
    (V16, "Authorize", {}, "OccurenceConstraintViolation"),  # the 1.6 spelling
    (V16, "Authorize", {"idTag": "x" * 21}, "TypeConstraintViolation"),  # CiString20
    (V16, "Authorize", {"idTag": "A", "extra": 1}, "FormationViolation"),
    (V16, "StatusNotification", {"connectorId": 1, "errorCode": "Melted", "status": "Available"},
     "PropertyConstraintViolation"),
    (V201, "Authorize", {"idToken": {"idToken": "A", "type": "Telepathy"}},
     "PropertyConstraintViolation"),
    (V201, "Authorize", {}, "OccurrenceConstraintViolation"),
    (V201, "Authorize", {"idToken": {"idToken": 5, "type": "ISO14443"}},
     "TypeConstraintViolation"),
    (V201, "Heartbeat", {"unexpected": True}, "FormatViolation"),
    (V201, "TransactionEvent", {"eventType": "Paused", "timestamp": "2026-01-01T00:00:00Z",
     "triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": "T"}},
     "PropertyConstraintViolation"),
]


@pytest.mark.parametrize(("version", "action", "payload", "code"), SCHEMA_CASES)
def test_schema_violation__gets_the_matching_call_error(
    harness: Harness, version: OcppVersion, action: str, payload: dict[str, object], code: str
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16" if version == V16 else "CP201", version)
        reply = await cp.exchange_raw(json.dumps([2, "s1", action, payload]), "s1")
        assert reply is not None and reply[:3] == [4, "s1", code]
        assert "currentTime" in await cp.heartbeat()

    harness.run(scenario)


@pytest.mark.parametrize("frame", [
    '[3,"nobody-asked",{}]',
    '[4,"nobody-asked","GenericError","x",{}]',
    '[3,"short"]',
    '[4,17,"GenericError"]',
    "[3]",
])
def test_call_result_or_error__is_never_answered(harness: Harness, frame: str) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        assert await cp.exchange_raw(frame, "nobody-asked", timeout=0.5) is None
        assert await cp.exchange_raw(frame, None, timeout=0.3) is None  # not even with "-1"
        assert cp.unanswered == []
        assert "currentTime" in await cp.heartbeat()

    harness.run(scenario)


def test_garbage_storm_on_one_station__other_station_keeps_charging(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        from conftest import RFID

        bad = await h.connected("CPX")
        good = await h.connected("CP201", V201)
        for i in range(50):
            await bad.send_raw(["{", "[2,", "[9]", '[2,"g","Nope",{}]', "\x00"][i % 5])
        assert await good.charge(RFID, 2_000) == "Accepted"
        assert "currentTime" in await bad.heartbeat()

    harness.run(scenario)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=12,
)
_frames = st.one_of(
    st.text(max_size=40),
    _json_values.map(json.dumps),
    st.tuples(st.sampled_from([2, 3, 4, 5, "2"]), st.text(max_size=40),
              st.sampled_from(["Heartbeat", "Authorize", "StartTransaction", "MeterValues",
                               "TransactionEvent", "StopTransaction", "Nope"]),
              _json_values).map(lambda t: json.dumps(list(t))),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(_frames, min_size=1, max_size=25),
       version=st.sampled_from([V16, V201]))
def test_fuzzed_frames__never_crash_never_answer_results_and_the_link_survives(
    create_harness: Any, frames: list[str], version: OcppVersion
) -> None:
    h: Harness = create_harness()

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16" if version == V16 else "CP201", version)
        for frame in frames:
            await cp.send_raw(frame)
        assert "currentTime" in await cp.heartbeat()  # in-order: every frame was processed
        # exactly one reply (CallResult or CallError) per frame that is not itself a result
        expected = sum(1 for f in frames if not _is_result(f))
        assert len(cp.unanswered) == expected, (frames, cp.unanswered)
        assert all(isinstance(r, list) and r[0] in (3, 4) for r in cp.unanswered)

    h.run(scenario)


def _is_result(frame: str) -> bool:
    try:
        msg = json.loads(frame)
    except ValueError:
        return False
    return (isinstance(msg, list) and bool(msg) and not isinstance(msg[0], bool)
            and msg[0] in (3, 4))


def _stop_with_samples(tx_id: int, samples: int) -> str:
    """A 1.6 StopTransaction carrying a long session's per-minute register samples."""
    data = [{"timestamp": f"2026-01-01T{(i // 60) % 24:02d}:{i % 60:02d}:00Z", "sampledValue": [
        {"value": str(10_000 + i), "measurand": "Energy.Active.Import.Register", "unit": "Wh",
         "context": "Sample.Periodic"}]} for i in range(samples)]
    return json.dumps([2, "big-stop", "StopTransaction", {
        "meterStop": 10_000 + samples, "timestamp": "2026-01-02T00:00:00Z",
        "transactionId": tx_id, "transactionData": data}])


def test_large_frame__a_stop_transaction_of_several_mib_is_answered(harness: Harness) -> None:
    from conftest import RFID

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.start(RFID)
        frame = _stop_with_samples(int(cp.tx_key or "0"), 20_000)
        assert len(frame) > 2 * 1024 * 1024
        reply = await cp.exchange_raw(frame, "big-stop", timeout=20)
        assert reply is not None and reply[0] == 3, reply
        assert "currentTime" in await cp.heartbeat()

    harness.run(scenario)


def test_frame_over_the_configured_limit__closes_with_1009_others_served(
    create_harness: Any,
) -> None:
    import asyncio

    h: Harness = create_harness(max_frame_bytes=64 * 1024)

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        other = await h.connected("CPX")
        assert cp._ws is not None
        await cp.send_raw(_stop_with_samples(1, 1_000))  # ~120 KiB
        await asyncio.wait_for(cp._ws.wait_closed(), 5)
        assert cp._ws.close_code == 1009
        assert "currentTime" in await other.heartbeat()

    h.run(scenario)


@pytest.mark.parametrize("version", [V16, V201])
def test_deeply_nested_frames__get_a_call_error_and_the_connection_survives(
    harness: Harness, version: OcppVersion
) -> None:
    frame_code = "FormationViolation" if version == V16 else "RpcFrameworkError"
    # 1.6 DataTransfer data is a string: an array is a type error before any depth matters
    payload_code = "TypeConstraintViolation" if version == V16 else "FormatViolation"

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16" if version == V16 else "CP201", version)
        for deep in ("[" * 100_000, "[" * 50_000 + "]" * 50_000):  # unreadable id
            reply = await cp.exchange_raw(deep)
            assert reply is not None and reply[:3] == [4, "-1", frame_code]
        nested = "[" * 600 + "]" * 600  # parses, but too deep to convert or validate
        body = '{"vendorId":"x","data":' + nested + "}"
        reply = await cp.exchange_raw(f'[2,"deep-1","DataTransfer",{body}]', "deep-1")
        assert reply is not None and reply[:3] == [4, "deep-1", payload_code]
        assert "currentTime" in await cp.heartbeat()

    harness.run(scenario)


def test_charger_dropping_before_its_reply__is_not_an_error(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio
    import logging

    from conftest import RFID

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        service = h.gateway.service
        original = service.start_16

        async def slow_start(*args: Any) -> Any:
            await asyncio.sleep(0.3)  # the charger hangs up meanwhile
            return await original(*args)

        service.start_16 = slow_start  # type: ignore[method-assign]
        cp = await h.connected("CP16")
        await cp.send_raw(json.dumps([2, "s1", "StartTransaction", {
            "connectorId": 1, "idTag": RFID, "meterStart": 0,
            "timestamp": "2026-01-01T00:00:00Z"}]))
        await cp.close()
        await asyncio.sleep(0.6)

    with caplog.at_level(logging.INFO, logger="wattnet"):
        harness.run(scenario)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == []
    assert any("closed before a reply" in r.getMessage() for r in caplog.records)
