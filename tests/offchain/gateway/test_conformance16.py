"""OCPP 1.6-J conformance, as a foreign charger checking every message against the official
JSON schemas would see it: the charger-initiated messages of the core profile and the security
extension, a session with the retry and reconnect cases, and the billing cases, each asserting
the receipt's energy and cost."""

from __future__ import annotations

import pytest
from conformance import (
    BILLING_16,
    CHARGER_INITIATED,
    V16,
    assert_billed,
    checked,
    retry_start_after_reconnect,
    walk_without_session,
)

from conftest import RFID, TARIFF, Harness


def test_conformance16__every_charger_initiated_message_and_a_retried_session(
    harness: Harness,
) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        cp = await checked(h, "CP16", V16)  # BootNotification
        await walk_without_session(cp)
        cp.meter.register_wh = 10_000
        assert await cp.start(RFID) == "Accepted"
        first = cp.tx_key
        assert (await retry_start_after_reconnect(cp))["transactionId"] == int(first or "0")
        await cp.meter_values(2_000)
        assert await h.gateway.remote_stop("CP16", first or "") == "Accepted"
        await cp.meter_values(2_500)
        stop = await cp.stop(unique_id="stop-1", id_token=RFID)
        await cp.reconnect()  # the StopTransaction reply was lost too: resent as is
        assert await cp.replay_last("StopTransaction") == [3, "stop-1", stop]
        await h.settle(1)
        cp.assert_conformant(CHARGER_INITIATED[V16])
        assert [m[2] for m in cp.received_calls] == ["RemoteStopTransaction"]

    harness.run(scenario)
    [signed] = harness.signed()
    assert (signed.receipt.energy_wh, signed.receipt.cost) == (4_500, 4_500 * TARIFF // 1000)
    assert len(harness.oracle.received) == 1 and len(harness.oracle.starts) == 1


@pytest.mark.parametrize("case", list(BILLING_16))
def test_conformance16_billing__register_difference_or_not_billed(
    harness: Harness, case: str
) -> None:
    start, stop, energy = BILLING_16[case]

    async def scenario(h: Harness) -> None:
        cp = await checked(h, "CP16", V16)
        cp.meter.register_wh = start
        assert await cp.start(RFID) == "Accepted"
        cp.meter.register_wh = stop
        await cp.stop()
        if energy is not None:
            await h.settle(1)
        cp.assert_conformant({"StartTransaction", "StopTransaction"})

    harness.run(scenario)
    assert_billed(harness, energy, "went backwards")


def test_schema_check__reads_the_official_files_and_catches_what_a_foreign_client_would() -> None:
    from conformance import V201, schema_errors

    ok = {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 60}
    assert schema_errors(V16, "BootNotification", ok, response=True) == []
    assert schema_errors(V16, "BootNotification", ok | {"interval": "60"}, response=True) == [
        "ocpp1.6 BootNotification response: '60' is not of type 'integer'"]
    missing = schema_errors(V201, "BootNotification", {"status": "Accepted"}, response=True)
    assert missing and all("is a required property" in m for m in missing)
    # OCPP 1.6 limits are multiples of 0.1: exact decimals, not binary floats, decide.
    period = {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                  "limit": 7.4}]}}}
    assert schema_errors(V16, "SetChargingProfile", period, response=False) == []
    period["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = 7.45
    assert schema_errors(V16, "SetChargingProfile", period, response=False) != []
