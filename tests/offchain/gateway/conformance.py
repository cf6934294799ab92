"""Shared by the conformance modules (and the billing/unsolicited tests): the official OCPP JSON
schemas shipped in the ``ocpp`` package, read straight from their files, and a virtual charger
that checks every request it sends and every response it gets against them.

The gateway validates with the same files through the library's cached validators; these are
built here independently (one validator per file, decimals parsed exactly, as OCPP 1.6's
``multipleOf: 0.1`` needs), so a bug in the gateway's hot path cannot hide itself.
"""

from __future__ import annotations

import decimal
import functools
import json
import time
from importlib import resources
from typing import Any

from jsonschema import validators

from conftest import RFID, TARIFF, Harness
from wattnet.domain import OcppVersion
from wattnet.sim.chargepoint import SimChargePoint
from wattnet.sim.chargepoint.client import iso

V16, V201 = OcppVersion.V16, OcppVersion.V201
NOW = "2026-01-01T00:00:00Z"
REGISTER = "Energy.Active.Import.Register"


@functools.cache
def _validator(version: OcppVersion, action: str, response: bool) -> Any:
    folder = "v16" if version == V16 else "v201"
    suffix = "Response" if response else ("" if version == V16 else "Request")
    path = resources.files("ocpp") / folder / "schemas" / f"{action}{suffix}.json"
    schema = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=decimal.Decimal)
    cls = validators.validator_for(schema)
    return cls(schema)


def schema_errors(version: OcppVersion, action: str, payload: Any, *,
                  response: bool) -> list[str]:
    """What is wrong with ``payload`` as ``action``'s request (or response), per the official
    schema of ``version``; empty if nothing."""
    exact = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    kind = "response" if response else "request"
    return [f"{version.value} {action} {kind}: {e.message}"
            for e in _validator(version, action, response).iter_errors(exact)]


class CheckedCharger(SimChargePoint):
    """A virtual charger whose every exchange is checked against the official schemas:
    requests it sends, CallResults it receives, and calls the gateway sends it."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.violations: list[str] = []
        self.walked: list[tuple[str, str]] = []  # (action, "result" | error code), in order

    async def exchange_raw(self, text: str | bytes, unique_id: str | None = None,
                           timeout: float | None = None) -> list[Any] | None:
        msg = json.loads(text)
        action = msg[2]
        self.violations += schema_errors(self.version, action, msg[3], response=False)
        reply = await super().exchange_raw(text, unique_id, timeout)
        if reply is None:
            self.violations.append(f"{action}: no answer")
        elif reply[0] == 3:
            self.walked.append((action, "result"))
            self.violations += schema_errors(self.version, action, reply[2], response=True)
        else:
            self.walked.append((action, str(reply[2])))
        return reply

    async def _on_call(self, msg: list[Any]) -> None:
        self.violations += schema_errors(self.version, msg[2], msg[3], response=False)
        await super()._on_call(msg)

    async def send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A charger-initiated message as a raw Call; its CallResult payload."""
        uid = next(self._ids)
        reply = await self.exchange_raw(json.dumps([2, uid, action, payload]), uid)
        assert reply is not None and reply[0] == 3, (action, reply)
        result: dict[str, Any] = reply[2]
        return result

    def assert_conformant(self, must_walk: set[str]) -> None:
        assert self.violations == []
        assert [w for w in self.walked if w[1] != "result"] == []  # no CallError anywhere
        assert must_walk <= {a for a, _ in self.walked}, must_walk - {a for a, _ in self.walked}


async def checked(h: Harness, cp_id: str, version: OcppVersion) -> CheckedCharger:
    """A schema-checked charger of the harness's site, connected and booted."""
    cp = await h.connected(cp_id, version, cls=CheckedCharger)
    assert isinstance(cp, CheckedCharger)
    return cp


async def walk_without_session(cp: CheckedCharger) -> None:
    """Heartbeat, Authorize and every message of :data:`UNSOLICITED` for the charger's version,
    each answered as expected."""
    assert "currentTime" in await cp.heartbeat()
    assert await cp.authorize(RFID) == "Accepted"
    for version, action, payload, expected in UNSOLICITED:
        if version == cp.version:
            assert await cp.send(action, payload) == expected, action


async def retry_start_after_reconnect(cp: SimChargePoint) -> dict[str, Any]:
    """The charger never saw StartTransaction's reply: after a reconnect it retries with a new
    message id and the same content. The retry's CallResult payload."""
    frame = json.loads(next(f for f in reversed(cp.sent) if '"StartTransaction"' in f))
    await cp.reconnect()
    frame[1] = "retry-after-reconnect"
    reply = await cp.exchange_raw(json.dumps(frame), frame[1])
    assert reply is not None and reply[0] == 3, reply
    result: dict[str, Any] = reply[2]
    return result


def assert_billed(h: Harness, energy: int | None, unbilled_reason: str) -> None:
    """One receipt: ``energy`` Wh at the tariff, forwarded; or (None) kept unbilled at 0 Wh,
    rejected with a reason containing ``unbilled_reason``, and never forwarded."""
    [row] = h.receipts()
    receipt = row["receipt"]
    if energy is None:  # never a silent 0 Wh
        assert (receipt["energyWh"], receipt["cost"], row["_state"]) == (0, 0, "rejected")
        assert unbilled_reason in row["_reason"]
        assert h.oracle.received == []
    else:
        assert (receipt["energyWh"], receipt["cost"]) == (energy, energy * TARIFF // 1000)
        assert row["_state"] != "rejected"
        assert [r["receipt"]["energyWh"] for r in h.oracle.received] == [energy]


# Every message a station may send, per the specifications' lists of charger-initiated messages.
CHARGER_INITIATED = {
    V16: {"Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
          "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
          "StatusNotification", "StopTransaction",  # core profile
          "SecurityEventNotification", "SignCertificate", "LogStatusNotification",
          "SignedFirmwareStatusNotification"},  # security whitepaper
    V201: {"Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer",
           "FirmwareStatusNotification", "Get15118EVCertificate", "GetCertificateStatus",
           "Heartbeat", "LogStatusNotification", "MeterValues", "NotifyChargingLimit",
           "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
           "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
           "PublishFirmwareStatusNotification", "ReportChargingProfiles",
           "ReservationStatusUpdate", "SecurityEventNotification", "SignCertificate",
           "StatusNotification", "TransactionEvent"},
}


# ---- the charger-initiated messages without a session, with their expected answers ----
# (version, action, request, expected response)
UNSOLICITED: list[tuple[OcppVersion, str, dict[str, Any], dict[str, Any]]] = [
    (V16, "DataTransfer", {"vendorId": "com.example", "messageId": "x", "data": "1"},
     {"status": "UnknownVendorId"}),
    (V201, "DataTransfer", {"vendorId": "com.example", "messageId": "x", "data": {"a": 1}},
     {"status": "UnknownVendorId"}),
    (V16, "SecurityEventNotification", {"type": "InvalidCentralSystemCertificate",
                                        "timestamp": NOW}, {}),
    (V201, "SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": NOW}, {}),
    (V16, "FirmwareStatusNotification", {"status": "Idle"}, {}),
    (V201, "FirmwareStatusNotification", {"status": "Installed"}, {}),
    (V16, "DiagnosticsStatusNotification", {"status": "Idle"}, {}),
    (V16, "LogStatusNotification", {"status": "Idle"}, {}),
    (V201, "LogStatusNotification", {"status": "Idle"}, {}),
    (V16, "SignedFirmwareStatusNotification", {"status": "Downloaded", "requestId": 1}, {}),
    (V201, "NotifyEvent", {"generatedAt": NOW, "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": NOW, "trigger": "Delta", "actualValue": "Occupied",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "Connector"}, "variable": {"name": "AvailabilityState"}}]}, {}),
    (V201, "NotifyReport", {"requestId": 1, "generatedAt": NOW, "seqNo": 0}, {}),
    (V16, "SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
     {"status": "Rejected"}),
    (V201, "SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
     {"status": "Rejected"}),
    (V201, "ClearedChargingLimit", {"chargingLimitSource": "EMS"}, {}),
    (V201, "NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "EMS"}}, {}),
    (V201, "NotifyCustomerInformation", {"data": "none", "seqNo": 0, "generatedAt": NOW,
                                         "requestId": 1}, {}),
    (V201, "NotifyDisplayMessages", {"requestId": 1}, {}),
    (V201, "NotifyMonitoringReport", {"requestId": 1, "seqNo": 0, "generatedAt": NOW}, {}),
    (V201, "PublishFirmwareStatusNotification", {"status": "Idle"}, {}),
    (V201, "ReservationStatusUpdate", {"reservationId": 1,
                                       "reservationUpdateStatus": "Expired"}, {}),
    (V201, "ReportChargingProfiles", {"requestId": 1, "chargingLimitSource": "CSO", "evseId": 1,
                                      "chargingProfile": [{
                                          "id": 1, "stackLevel": 0,
                                          "chargingProfilePurpose": "TxDefaultProfile",
                                          "chargingProfileKind": "Relative",
                                          "chargingSchedule": [{
                                              "id": 1, "chargingRateUnit": "W",
                                              "chargingSchedulePeriod": [
                                                  {"startPeriod": 0, "limit": 7400}]}]}]}, {}),
    (V201, "NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {
        "requestedEnergyTransfer": "AC_single_phase"}}, {"status": "Rejected"}),
    (V201, "NotifyEVChargingSchedule", {"timeBase": NOW, "evseId": 1, "chargingSchedule": {
        "id": 1, "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400}]}},
     {"status": "Accepted"}),
    (V201, "Get15118EVCertificate", {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
                                     "action": "Install", "exiRequest": "AAAA"},
     {"status": "Failed", "exiResponse": ""}),
    (V201, "GetCertificateStatus", {"ocspRequestData": {
        "hashAlgorithm": "SHA256", "issuerNameHash": "ab", "issuerKeyHash": "cd",
        "serialNumber": "01", "responderURL": "http://ocsp.example"}}, {"status": "Failed"}),
    (V16, "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                 "status": "Available"}, {}),
    (V201, "StatusNotification", {"timestamp": NOW, "connectorStatus": "Available",
                                  "evseId": 1, "connectorId": 1}, {}),
    (V201, "MeterValues", {"evseId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [
        {"value": 1000, "measurand": REGISTER}]}]}, {}),
]


# ---- billing cases (THREATS.md: registers may first appear in any event) ----
def meter_value_201(*readings: tuple[int, str], t0: float | None = None
                    ) -> list[dict[str, Any]] | None:
    """2.0.1 meterValue entries, one per (register Wh, context), one second apart."""
    if not readings:
        return None
    base = time.time() if t0 is None else t0
    return [{"timestamp": iso(base + i), "sampledValue": [{
        "value": wh, "measurand": REGISTER, "context": ctx, "unitOfMeasure": {"unit": "Wh"}}]}
        for i, (wh, ctx) in enumerate(readings)]


async def session_201(cp: SimChargePoint, started: list[int], updated: list[int],
                      ended: list[int]) -> dict[str, Any]:
    """One 2.0.1 transaction whose registers arrive only in the events given."""
    cp.tx_key, cp._seq = f"{cp.cp_id}-tx-billing", -1
    begin = [(wh, "Transaction.Begin") for wh in started]
    r = await cp._event("Started", "Authorized", meter_value_201(*begin), RFID)
    assert r["idTokenInfo"]["status"] == "Accepted"
    for wh in updated:
        await cp._event("Updated", "MeterValuePeriodic",
                        meter_value_201((wh, "Sample.Periodic")))
    contexts = ["Transaction.Begin", "Transaction.End"][-len(ended):] if ended else []
    return await cp._event("Ended", "StopAuthorized",
                           meter_value_201(*zip(ended, contexts, strict=True),
                                           t0=time.time() - 1))


# (Started registers, Updated registers, Ended registers, billed energy or None: not billed)
BILLING_201 = {
    "register_in_every_event": ([10_000], [12_000], [14_500], 4_500),
    "first_register_only_in_updated": ([], [10_000, 12_000], [14_500], 4_500),
    "registers_only_in_updated": ([], [10_000, 11_000, 14_500], [], 4_500),
    "registers_only_at_ended": ([], [], [10_000, 14_500], 4_500),
    "register_only_in_started": ([10_000], [], [], None),
    "one_register_only_at_ended": ([], [], [14_500], None),
    "no_register_at_all": ([], [], [], None),
    "meter_rollover": ([99_999_000], [99_999_900], [400], None),
    "negative_delta": ([50_000], [], [40_000], None),
}
# (meterStart, meterStop, billed energy or None)
BILLING_16 = {
    "register_difference": (10_000, 14_500, 4_500),
    "meter_rollover": (99_999_000, 400, None),
    "negative_delta": (50_000, 40_000, None),
}
