"""THREATS.md, signed meter data: OCMF (P-256) passed on with the receipt when it proves the
session; any change, missing/duplicated/out-of-order reading, other meter, unknown algorithm,
unbound key, replay into another session or station, or future time: rejected."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import RFID, Harness
from wattnet.chain.readings import NO_READINGS, readings_of
from wattnet.domain import OcppVersion
from wattnet.gateway.config import station_from_dict
from wattnet.gateway.errors import GatewayConfigError, MeterDataError
from wattnet.gateway.ocmf import verify_session_meter_data
from wattnet.gateway.store import ACKED, REJECTED
from wattnet.sim.chargepoint import SimMeter

T0 = int(time.time()) - 600


def _session(meter: SimMeter, wh: int = 5_000, t0: int = T0) -> tuple[str, str]:
    begin = meter.ocmf("B", t0, RFID)
    meter.advance(wh)
    return begin, meter.ocmf("E", t0 + 300, RFID)


def _verify(records: tuple[str, ...], meter: SimMeter, **kw: Any) -> int:
    args: dict[str, Any] = dict(public_key=meter.public_key_xy_hex(), meter_serial=meter.serial,
                                start_time=T0, end_time=T0 + 300, now=T0 + 600)
    return verify_session_meter_data(records, **(args | kw)).energy_wh


def test_valid_begin_and_end__verify_and_give_the_register_difference() -> None:
    m = SimMeter.signing(register_wh=10_000)
    assert _verify(_session(m), m) == 5_000
    assert _verify(_session(m), m, public_key=m.public_key_der_hex()) == 5_000  # DER form too


def _edit_payload(record: str, edit: Any) -> str:
    head, payload, sig = record.split("|")
    return "|".join([head, edit(payload), sig])


@pytest.mark.parametrize("tamper", [
    lambda p: p.replace('"RV":', '"RV": '),  # whitespace only
    lambda p: p.replace(":15.0,", ":16.0,"),  # the register
    lambda p: p.replace("SIM-METER-1", "SIM-METER-2"),  # another serial, same key
])
def test_changed_signed_payload__rejected(tamper: Any) -> None:
    m = SimMeter.signing(register_wh=10_000)
    begin, end = _session(m)
    with pytest.raises(MeterDataError, match=r"signature|rejected"):
        _verify((begin, _edit_payload(end, tamper)), m)


def test_missing_end_or_begin_reading__rejected() -> None:
    m = SimMeter.signing()
    begin, end = _session(m)
    with pytest.raises(MeterDataError, match="end reading"):
        _verify((begin,), m)
    with pytest.raises(MeterDataError, match="begin reading"):
        _verify((end,), m)
    with pytest.raises(MeterDataError, match="no signed meter data"):
        _verify((), m)


def test_duplicated_or_out_of_order_readings__rejected() -> None:
    m = SimMeter.signing()
    begin, end = _session(m)
    with pytest.raises(MeterDataError, match="twice"):
        _verify((begin, begin, end), m)
    with pytest.raises(MeterDataError, match=r"out of order|begin"):
        _verify((end, begin), m)
    second_begin = m.ocmf("B", T0 + 10, RFID)
    with pytest.raises(MeterDataError, match=r"out of order|more than one begin"):
        _verify((begin, second_begin, end), m)
    late_begin = SimMeter(m.serial, m.register_wh, m.key).ocmf("B", T0 + 400, RFID)
    with pytest.raises(MeterDataError, match="out of order"):
        _verify((late_begin, end), m, end_time=T0 + 500)


def test_reading_from_another_meter_serial__rejected() -> None:
    m = SimMeter.signing(serial="OTHER-METER")
    with pytest.raises(MeterDataError, match="serial"):
        _verify(_session(m), m, meter_serial="SIM-METER-1")


def test_key_not_bound_to_the_station__rejected() -> None:
    m, stranger = SimMeter.signing(), SimMeter.signing()
    with pytest.raises(MeterDataError, match="does not verify"):
        _verify(_session(stranger), m)


def test_unknown_signature_algorithm__rejected() -> None:
    m = SimMeter.signing()
    begin, end = _session(m)
    head, payload, sig = end.split("|")
    sig_obj = json.loads(sig) | {"SA": "ECDSA-secp256k1-SHA256"}
    with pytest.raises(MeterDataError, match=r"algorithm|rejected"):
        _verify((begin, f"{head}|{payload}|{json.dumps(sig_obj)}"), m)
    sig_obj["SA"] = "RSA-PSS-MD5"
    with pytest.raises(MeterDataError):
        _verify((begin, f"{head}|{payload}|{json.dumps(sig_obj)}"), m)


def test_future_or_out_of_session_timestamps__rejected() -> None:
    m = SimMeter.signing()
    with pytest.raises(MeterDataError, match="future"):
        _verify(_session(m, t0=T0 + 10_000), m, end_time=T0 + 20_000)
    with pytest.raises(MeterDataError, match="outside this session"):
        _verify(_session(m, t0=T0 - 5_000), m)


@pytest.mark.parametrize("certified", [True, False])
def test_signed_meter_values_201__passed_on_with_the_receipt(create_harness: Any,
                                                             certified: bool) -> None:
    """A certified meter's receipt commits to the records it forwards (what a proof opens); a
    declared, uncertified key commits nothing (it earns no weight and is nothing to prove)."""
    meter = SimMeter.signing("MTR-201", register_wh=70_000)
    h: Harness = create_harness(meters={"CPM": meter}, certified=("CPM",) if certified else ())

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CPM", OcppVersion.V201)
        assert await cp.charge(RFID, 3_000, steps=3) == "Accepted"
        await h.settle(1)

    h.run(scenario)
    [row] = h.outbox()
    assert row[3] == ACKED
    sent = h.oracle.received[0]
    records = sent["meterData"].split("\n")
    assert len(records) == 2 and all(r.startswith("OCMF|") for r in records)
    assert sent["receipt"]["energyWh"] == 3_000
    expected = readings_of(records, meter.public_key_xy_hex()).commitment() if certified \
        else NO_READINGS
    assert sent["receipt"]["readings"] == "0x" + expected.hex()


def test_inflated_ocpp_meter__receipt_rejected_locally_not_forwarded(create_harness: Any) -> None:
    meter = SimMeter.signing("MTR-201", register_wh=70_000)
    h: Harness = create_harness(meters={"CPM": meter})

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CPM", OcppVersion.V201, inflate=1.2)  # OCPP lies, meter not
        assert await cp.charge(RFID, 3_000, steps=3) == "Accepted"

    h.run(scenario)
    [row] = h.outbox()
    assert row[3] == REJECTED and "signed meter" in (row[5] or "")
    assert h.oracle.received == []


@pytest.mark.parametrize("second_station", ["CPM", "CPN"])
def test_signed_record_replayed_into_another_session_or_station__rejected(
    create_harness: Any, second_station: str
) -> None:
    meter = SimMeter.signing("MTR-201", register_wh=70_000)
    # CPN is configured with the same meter key and serial: only the replay check can catch it
    h: Harness = create_harness(meters={"CPM": meter, "CPN": meter})

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CPM", OcppVersion.V201)
        assert await cp.charge(RFID, 1_000, steps=1) == "Accepted"
        first = next(json.loads(t) for t in cp.sent if '"Started"' in t)
        begin_record = first[3]["meterValue"][0]["sampledValue"][0]["signedMeterValue"]
        cp = await h.connected(second_station, OcppVersion.V201, meter=meter)
        cp.meter.register_wh = 70_000
        key, cp.meter.key = cp.meter.key, None  # this start carries no signed reading...
        await cp.start(RFID)
        cp.meter.key = key
        # ...then the session claims the first session's signed begin record
        await cp._event("Updated", "MeterValuePeriodic", [{
            "timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{
                "value": 70_000, "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"}, "signedMeterValue": begin_record}]}])
        cp.meter.register_wh = 71_000
        await cp.stop()

    h.run(scenario)
    rows = h.outbox()
    assert [r[3] for r in rows] == [ACKED, REJECTED]
    assert "already used by another session" in (rows[1][5] or "")


@pytest.mark.parametrize("inflate", [1.0, 1.2])
def test_signed_data_16__verified_and_passed_on_or_rejected_when_ocpp_lies(
    create_harness: Any, inflate: float
) -> None:
    meter = SimMeter.signing("MTR-16", register_wh=5_000)
    h: Harness = create_harness(meters={"CPS": meter})

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CPS", OcppVersion.V16, inflate=inflate)
        assert await cp.charge(RFID, 2_000, steps=2) == "Accepted"
        if inflate == 1.0:
            await h.settle(1)

    h.run(scenario)
    [row] = h.outbox()
    if inflate == 1.0:
        assert row[3] == ACKED
        records = h.oracle.received[0]["meterData"].split("\n")
        assert [r.startswith("OCMF|") for r in records] == [True, True]
    else:
        assert row[3] == REJECTED and "signed meter" in (row[5] or "")


@pytest.mark.parametrize(("raw", "needle"), [
    ({"meter_certified": "yes", "meter_public_key": "00" * 64}, "true or false"),
    ({"meter_certified": True}, "needs the meter_public_key"),
])
def test_meter_certified__bad_config_is_one_clear_error(tmp_path: Path, raw: dict[str, Any],
                                                       needle: str) -> None:
    """A misconfigured flag would make every receipt slashable or unrewarded: refused at load."""
    base = {"security_profile": 3, "keystore": "k.json"}
    with pytest.raises(GatewayConfigError, match=needle):
        station_from_dict("CPM", base | raw, tmp_path)
