"""Charger-initiated messages get their proper responses (OCPP 1.6 core + security extension,
2.0.1 core/advanced security and the other station-initiated notifications); DataTransfer is
answered with a DataTransfer response (1.6 section 4.3, 2.0.1 use case P02), both versions.
Each message's exchange, schema-checked both ways, is in the conformance walks
(test_conformance16.py, test_conformance201.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conformance import CHARGER_INITIATED
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import get_validator

from conftest import Harness
from wattnet.domain import OcppVersion
from wattnet.gateway.handlers16 import ChargePoint16
from wattnet.gateway.handlers201 import ChargePoint201
from wattnet.gateway.unsolicited import ACKS_16, ACKS_201

V16, V201 = OcppVersion.V16, OcppVersion.V201


@pytest.mark.parametrize(("version", "cls"), [(V16, ChargePoint16), (V201, ChargePoint201)])
def test_every_charger_initiated_action__has_a_handler(version: OcppVersion, cls: type) -> None:
    routed = {getattr(getattr(cls, name), "_on_action", None) for name in dir(cls)}
    assert CHARGER_INITIATED[version] <= routed


@pytest.mark.parametrize(("version", "action", "make"),
                         [(V16, a, m) for a, m in ACKS_16.items()]
                         + [(V201, a, m) for a, m in ACKS_201.items()])
def test_acknowledgements__are_schema_valid_responses(
    version: OcppVersion, action: str, make: Any
) -> None:
    out = snake_to_camel_case(remove_nones(serialize_as_dict(make())))
    validator = get_validator(3, action, "1.6" if version == V16 else "2.0.1")
    assert list(validator.iter_errors(out)) == []


@pytest.mark.parametrize("version", [V16, V201])
def test_data_transfer__registered_vendor_answers_unknown_message_id_otherwise(
    harness: Harness, version: OcppVersion
) -> None:
    seen: list[tuple[str, str | None, Any]] = []

    def vendor(cp_id: str, message_id: str | None, data: Any) -> tuple[str, Any] | None:
        seen.append((cp_id, message_id, data))
        return ("Accepted", "pong") if message_id == "ping" else None

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        h.gateway.vendors["com.wattnet"] = vendor
        cp = await h.connected("CP16" if version == V16 else "CP201", version)
        ask = {"vendorId": "com.wattnet", "messageId": "ping", "data": "hello"}
        assert (await cp.exchange_raw(json.dumps([2, "d1", "DataTransfer", ask]), "d1")) == [
            3, "d1", {"status": "Accepted", "data": "pong"}]
        ask["messageId"] = "pong"
        assert (await cp.exchange_raw(json.dumps([2, "d2", "DataTransfer", ask]), "d2")) == [
            3, "d2", {"status": "UnknownMessageId"}]

    harness.run(scenario)
    assert [s[1] for s in seen] == ["ping", "pong"]
