"""Remote start from the app off chain: which gateway front door hosts a station (``wattnet app
--gateway``), the relay's one-line answers when no gateway takes the station or none answers,
a receipt's detail for in-browser checks from a real oracle store, and the demo's on-call
chargers' timing (a session no further ahead of the wall clock than the services accept)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from wattnet.api.charge import ChargeDoors
from wattnet.api.sessions import receipt_detail
from wattnet.chain.localnode import free_port
from wattnet.domain import station_id_for
from wattnet.errors import ConfigError
from wattnet.oracle.store import open_store
from wattnet.sim.network.standby import SESSION_S, session_energy_wh, session_start, start_request

from .test_read_api import ALICE, STATION, TX, _receipt


def test_doors__url_equals_charge_points_map_each_station_to_its_gateway() -> None:
    doors = ChargeDoors.parse(("http://gw-a:81/=CP-1, CP-2", "http://gw-b:81=CP-3"))
    assert doors.doors == {"0x" + station_id_for("CP-1").hex(): "http://gw-a:81",
                           "0x" + station_id_for("CP-2").hex(): "http://gw-a:81",
                           "0x" + station_id_for("CP-3").hex(): "http://gw-b:81"}
    assert doors.stations() == sorted(doors.doors)


@pytest.mark.parametrize("spec", ["CP-1", "gw:81=CP-1", "http://gw:81=", "http://gw:81= , "])
def test_doors__a_malformed_gateway_option_is_one_line(spec: str) -> None:
    with pytest.raises(ConfigError, match="give URL=CP1,CP2"):
        ChargeDoors.parse((spec,))


def test_relay__unknown_station_404_and_a_silent_gateway_502() -> None:
    doors = ChargeDoors.from_sites({f"http://127.0.0.1:{free_port()}": ["CP-1"]})
    known = "0x" + station_id_for("CP-1").hex()
    status, answer = asyncio.run(doors.relay({"request": {"stationId": "0x" + "22" * 32}}))
    assert (status, answer["error"]) == (404, "no gateway here takes remote starts for this "
                                              "station")
    assert asyncio.run(doors.relay("not a request"))[0] == 404
    status, answer = asyncio.run(doors.relay({"request": {"stationId": known.upper()
                                                          .replace("0X", "0x")}}))
    assert status == 502 and answer["error"].startswith("the station's gateway did not answer")


def test_receipt_detail__every_signed_field_the_signature_and_the_settlement(
        tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "oracle.sqlite"))
    try:
        with store.transaction() as tx:
            assert tx.insert_receipt(_receipt(ALICE, 9, 5_000))
            tx.execute("UPDATE receipts SET status = 'settled', tx_hash = ?, block = 12",
                       (TX,))
        detail: dict[str, Any] | None = receipt_detail(store, "0x" + STATION.hex(), 9)
        assert receipt_detail(store, "0x" + STATION.hex(), 10) is None
        with pytest.raises(ConfigError, match="is not a station id"):
            receipt_detail(store, "0x1234", 9)
        with pytest.raises(ConfigError, match="out of range"):
            receipt_detail(store, "0x" + STATION.hex(), 2**64)
    finally:
        store.close()
    assert detail is not None
    assert detail["sessionId"] == "9" and detail["driver"] == ALICE
    assert (detail["energyWh"], detail["startTime"], detail["endTime"]) == (12_345, 1_400, 5_000)
    assert detail["cost"] == "4321000" and detail["readings"] == "0x" + "05" * 32
    assert detail["signature"] == "0x" + "01" * 65
    assert (detail["status"], detail["txHash"], detail["block"]) == ("settled", "0x" + TX.hex(),
                                                                     12)


def test_on_call__sessions_start_at_chain_time_within_the_services_skew() -> None:
    assert session_start(head=1_000.0, wall=500.0, ahead_s=10_000) == 1_000.0
    # the chain ran further ahead than the oracle and gateways accept readings: held back
    assert session_start(head=90_000.0, wall=500.0, ahead_s=10_000) == \
        500.0 + 10_000 - SESSION_S - 60
    assert session_energy_wh(11_000) == 11_000 * SESSION_S * 8 // (10 * 3_600)
    assert start_request({"idTag": "abc", "connectorId": 2}) == ("abc", 2)
    assert start_request({"idToken": {"idToken": "xyz", "type": "Central"}}) == ("xyz", 1)
