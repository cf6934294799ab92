"""Signed meter data (OCMF): every change, mismatch or replay keeps the receipt from settling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wattnet.chain.readings import NO_READINGS, ReadingsError, commitment_of
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.store_base import Store

from .ocmf_factory import meter_key, payload, public_xy, reading, sign_ocmf
from .oracle_helpers import T0, Station, rows

Make = Callable[..., dict[str, Any]]
START, END = T0 - 7200, T0 - 3600
KEY = meter_key()


@pytest.fixture
def metered(create_station: Callable[..., Station]) -> Station:
    return create_station("CP-1", meter_public_key=public_xy(KEY))


def good_ocmf(**kw: Any) -> str:
    return sign_ocmf(payload(START, END, 100_000, 110_000, **kw), KEY)


def committed(meter: str | None) -> bytes:
    """What an honest gateway puts in the receipt: the commitment to the records it forwards."""
    try:
        return commitment_of(meter, public_xy(KEY))
    except ReadingsError:
        return NO_READINGS


def submit(ingestor: Ingestor, create_receipt: Make, st: Station, meter: str | None,
           session: int = 1, **fields: Any) -> tuple[str, str]:
    values = {"start_time": START, "end_time": END, "energy_wh": 10_000,
              "readings": committed(meter), **fields}
    (out,) = ingestor.process([create_receipt(st, session, meter_data=meter, **values)])
    return out.status, str(out.reason)


def test_meter__valid_ocmf_bound_to_the_station_is_accepted_and_recorded(
    ingestor: Ingestor, store: Store, metered: Station, create_receipt: Make
) -> None:
    assert submit(ingestor, create_receipt, metered, good_ocmf())[0] == "accepted"
    assert rows(store, "SELECT meter_serial, meter_start_wh, meter_end_wh FROM receipts") == [
        ("SN-0001", 100_000, 110_000)]


@pytest.mark.parametrize(
    ("tamper", "needle"),
    [
        (lambda s: s.replace('"MS":', '"MS": '), "signature does not match"),
        (lambda s: s.replace('"RV":110.0', '"RV":111.0'), "signature does not match"),
        (lambda s: s + "\n", "whitespace outside"),
        (lambda s: " " + s, "whitespace outside"),
        (lambda s: s + "|extra", "exactly OCMF|payload|signature"),
        (lambda s: s.replace("OCMF|", "OCMX|"), "unparsable"),
    ],
    ids=["whitespace-in-payload", "changed-value", "trailing-newline", "leading-space",
         "fourth-section", "bad-header"],
)
def test_meter__any_change_to_the_signed_payload_is_quarantined(
    ingestor: Ingestor, store: Store, metered: Station, create_receipt: Make,
    tamper: Callable[[str], str], needle: str,
) -> None:
    status, reason = submit(ingestor, create_receipt, metered, tamper(good_ocmf()))
    assert status == "quarantined" and needle in reason
    assert rows(store, "SELECT status FROM receipts") == [("quarantined",)]


def test_meter__record_signed_by_another_meter_key_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    foreign = sign_ocmf(payload(START, END, 100_000, 110_000), meter_key(2))
    status, reason = submit(ingestor, create_receipt, metered, foreign)
    assert status == "quarantined" and "meter key" in reason


def test_meter__ocmf_for_a_station_without_a_bound_key_is_quarantined(
    ingestor: Ingestor, station: Station, create_receipt: Make
) -> None:
    status, reason = submit(ingestor, create_receipt, station, good_ocmf())
    assert status == "quarantined" and "no meter key is bound" in reason


def test_meter__missing_ocmf_when_the_station_has_a_meter_key_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    status, reason = submit(ingestor, create_receipt, metered, None)
    assert status == "quarantined" and "no meter data" in reason


def test_meter__unknown_signature_algorithm_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    odd = sign_ocmf(payload(START, END, 100_000, 110_000), KEY, "ECDSA-secp384r1-SHA256")
    status, reason = submit(ingestor, create_receipt, metered, odd)
    assert status == "quarantined" and "not supported" in reason


@pytest.mark.parametrize(
    ("readings", "needle"),
    [
        ([reading(START, 100_000, "B")], "begin and an end"),
        ([reading(START, 100_000, "B"), reading(START + 60, 101_000, "B"),
          reading(END, 110_000, "E")], "duplicated begin"),
        ([reading(START + 60, 100_000, "C"), reading(END, 110_000, "E")], "not the begin"),
        ([reading(START, 100_000, "B"), reading(START + 600, 109_000, "C"),
          reading(START + 300, 109_500, "C"), reading(END, 110_000, "E")], "out of time order"),
        ([reading(START, 100_000, "B"), reading(START + 600, 105_000, "C"),
          reading(START + 900, 104_000, "C"), reading(END, 110_000, "E")], "goes backwards"),
        ([reading(START, 100_000, "B"), reading(END, 109_000, "E")], "differs from receipt"),
        ([reading(START - 86_400, 100_000, "B"), reading(END, 110_000, "E")],
         "outside the receipt's session"),
        ([reading(START, 100_000, "B"), reading(T0 + 86_400, 110_000, "E")], "in the future"),
    ],
    ids=["no-end", "two-begins", "no-begin", "time-order", "register-backwards",
         "energy-mismatch", "reading-from-another-session", "future"],
)
def test_meter__bad_readings_are_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make,
    readings: list[dict[str, Any]], needle: str,
) -> None:
    meter = sign_ocmf(payload(START, END, 0, 0, readings=readings), KEY)
    status, reason = submit(ingestor, create_receipt, metered, meter)
    assert status == "quarantined" and needle in reason


def test_meter__record_of_another_charge_point_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    status, reason = submit(ingestor, create_receipt, metered, good_ocmf(charge_point="CP-9"))
    assert status == "quarantined" and "charge point 'CP-9'" in reason


def test_meter__record_replayed_into_another_session_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    meter = good_ocmf()
    assert submit(ingestor, create_receipt, metered, meter, session=1)[0] == "accepted"
    status, reason = submit(ingestor, create_receipt, metered, meter, session=2, connector_id=2)
    assert status == "quarantined" and "replayed" in reason and "session 1" in reason


def test_meter__register_running_backwards_across_sessions_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    assert submit(ingestor, create_receipt, metered, good_ocmf())[0] == "accepted"
    later = sign_ocmf(payload(END + 600, END + 1800, 105_000, 106_000), KEY)
    status, reason = submit(ingestor, create_receipt, metered, later, session=2,
                            start_time=END + 600, end_time=END + 1800, energy_wh=1_000)
    assert status == "quarantined" and "goes backwards" in reason
    fine = sign_ocmf(payload(END + 600, END + 1800, 110_000, 111_000), KEY)
    assert submit(ingestor, create_receipt, metered, fine, session=3, start_time=END + 600,
                  end_time=END + 1800, energy_wh=1_000)[0] == "accepted"


def _per_reading(serial_end: str = "SN-0001", end_key: Any = KEY) -> str:
    """Begin and end as two signed records, one per line (what the gateway forwards when the
    meter signs OCPP's Transaction.Begin and Transaction.End values separately)."""
    begin = sign_ocmf(payload(START, END, 0, 0, readings=[reading(START, 100_000, "B")]), KEY)
    end = sign_ocmf(payload(START, END, 0, 0, serial=serial_end,
                            readings=[reading(END, 110_000, "E")]), end_key)
    return begin + "\n" + end


def test_meter__begin_and_end_in_separate_signed_records_are_accepted(
    ingestor: Ingestor, store: Store, metered: Station, create_receipt: Make
) -> None:
    assert submit(ingestor, create_receipt, metered, _per_reading())[0] == "accepted"
    assert rows(store, "SELECT meter_serial, meter_start_wh, meter_end_wh FROM receipts") == [
        ("SN-0001", 100_000, 110_000)]


@pytest.mark.parametrize(("meter", "needle"), [
    (lambda: _per_reading(serial_end="SN-0002"), "different meters"),
    (lambda: _per_reading(end_key=meter_key(2)), "meter key"),
], ids=["two-serials", "end-signed-by-another-key"])
def test_meter__separate_records_must_all_come_from_the_bound_meter(
    ingestor: Ingestor, metered: Station, create_receipt: Make, meter: Callable[[], str],
    needle: str,
) -> None:
    status, reason = submit(ingestor, create_receipt, metered, meter())
    assert status == "quarantined" and needle in reason


def test_meter__an_end_record_spliced_into_another_session_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    """A station pairs a fresh signed begin with the end record of a session already accepted
    (only the begin payload is the replay key): the spliced session overlaps the first one on
    the same meter, so its register would run backwards, and it is quarantined."""
    assert submit(ingestor, create_receipt, metered, _per_reading())[0] == "accepted"
    old_end = _per_reading().split("\n")[1]
    fresh_begin = sign_ocmf(payload(START, END, 0, 0,
                                    readings=[reading(START + 60, 100_500, "B")]), KEY)
    status, reason = submit(ingestor, create_receipt, metered, fresh_begin + "\n" + old_end,
                            session=2, connector_id=2, start_time=START + 60, energy_wh=9_500)
    assert status == "quarantined" and "overlaps session 1 of the same meter" in reason


# ---------------------------------------------------------------- the readings commitment
def test_meter__a_commitment_to_other_readings_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    """The receipt must commit to exactly the records it carries: those are what a watcher
    fetches and what a proof on chain opens."""
    other = sign_ocmf(payload(START, END, 200_000, 210_000), KEY)
    status, reason = submit(ingestor, create_receipt, metered, good_ocmf(),
                            readings=committed(other))
    assert status == "quarantined" and "commitment does not match" in reason


def test_meter__a_commitment_without_the_readings_is_quarantined(
    ingestor: Ingestor, create_station: Callable[..., Station], create_receipt: Make
) -> None:
    plain = create_station("CP-9")
    status, reason = submit(ingestor, create_receipt, plain, None, readings=committed(good_ocmf()))
    assert status == "quarantined" and "does not carry" in reason


def test_meter__claiming_one_wh_more_than_the_signed_registers_is_quarantined(
    ingestor: Ingestor, metered: Station, create_receipt: Make
) -> None:
    """Within the OCPP rounding tolerance, but provable fraud on chain: never forwarded."""
    status, reason = submit(ingestor, create_receipt, metered, good_ocmf(), energy_wh=10_001)
    assert status == "quarantined" and "exceeds the signed registers" in reason
