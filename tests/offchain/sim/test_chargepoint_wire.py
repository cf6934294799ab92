"""The simulated charger's payloads (``wire_payload``) are exactly what the ``ocpp`` library's
own serialization makes of the same calls, for every call the simulator sends."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt201

from wattnet.sim.chargepoint.client import wire_payload

SAMPLES = [{"timestamp": "2026-12-05T10:00:00Z", "sampledValue": [
    {"value": "OCMF|{}|{}", "format": "SignedData", "context": "Transaction.End",
     "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]

CALLS: list[Any] = [
    call16.BootNotification(charge_point_model="SimCharger", charge_point_vendor="WattNet"),
    call201.BootNotification(charging_station=dt201.ChargingStationType(
        model="SimCharger", vendor_name="WattNet"), reason="PowerUp"),
    call16.Heartbeat(), call201.Heartbeat(),
    call16.Authorize(id_tag="RFID1"),
    call201.Authorize(id_token=dt201.IdTokenType(id_token="RFID1", type="ISO14443")),
    call16.StartTransaction(connector_id=1, id_tag="RFID1", meter_start=0,
                            timestamp="2026-12-05T10:00:00Z"),
    call16.MeterValues(connector_id=1, transaction_id=7, meter_value=SAMPLES),
    call16.StopTransaction(meter_stop=900, timestamp="2026-12-05T10:30:00Z", transaction_id=7,
                           reason="Local", id_tag=None, transaction_data=SAMPLES),
    call16.StopTransaction(meter_stop=900, timestamp="2026-12-05T10:30:00Z", transaction_id=7,
                           reason="Local", id_tag="RFID1", transaction_data=None),
    call201.TransactionEvent(event_type="Started", timestamp="2026-12-05T10:00:00Z",
                             trigger_reason="Authorized", seq_no=0,
                             transaction_info={"transactionId": "CP-tx-1"}, meter_value=None,
                             evse={"id": 1, "connectorId": 1},
                             id_token={"idToken": "RFID1", "type": "ISO14443"}),
    call201.TransactionEvent(event_type="Ended", timestamp="2026-12-05T10:30:00Z",
                             trigger_reason="StopAuthorized", seq_no=3,
                             transaction_info={"transactionId": "CP-tx-1"},
                             meter_value=SAMPLES, evse={"id": 1, "connectorId": 1}),
]


@pytest.mark.parametrize("payload", CALLS, ids=lambda c: f"{type(c).__module__[5:8]}."
                         f"{type(c).__name__}")
def test_wire_payload__is_the_library_serialization(payload: Any) -> None:
    assert wire_payload(payload) == snake_to_camel_case(remove_nones(serialize_as_dict(payload)))
