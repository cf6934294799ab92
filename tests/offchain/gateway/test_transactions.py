"""Transactions to receipts: energy is the register difference, the receipt is signed with the
station key and queued durably before the charger is answered, session ids are never reused,
retransmitted calls are answered the same and counted once, and schema-valid nonsense is
accepted at protocol level and left for the oracle to quarantine."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from conformance import retry_start_after_reconnect

from conftest import CHAIN_ID, DRIVER, RFID, SETTLEMENT, TARIFF, Harness
from wattnet.chain.eip712 import Domain, recover_receipt_signer
from wattnet.domain import OcppVersion, station_id_for
from wattnet.gateway.errors import OutboxError
from wattnet.gateway.signer import KeystoreSigner
from wattnet.sim.chargepoint import CallErrorReply, SimMeter

V16, V201 = OcppVersion.V16, OcppVersion.V201


def _station_address(h: Harness) -> str:
    from conftest import PASSPHRASE

    return KeystoreSigner.from_file(h.keystore, PASSPHRASE).address


@pytest.mark.parametrize(("cp_id", "version"), [("CP16", V16), ("CP201", V201)])
def test_session__receipt_energy_is_the_register_difference_signed_by_the_station_key(
    create_harness: object, cp_id: str, version: OcppVersion
) -> None:
    h: Harness = create_harness(meters={cp_id: SimMeter(register_wh=1_234_567)})  # type: ignore[operator]

    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        assert await cp.charge(RFID, 4_500, steps=3) == "Accepted"
        await h.settle(1)

    h.run(scenario)
    [signed] = h.signed()
    r = signed.receipt
    assert r.energy_wh == 4_500  # not the register 1_239_067
    assert r.cost == 4_500 * TARIFF // 1000
    assert (r.driver, r.credit_id, r.connector_id, r.session_id) == (DRIVER, 1, 1, 1)
    assert r.station_id == station_id_for(cp_id)
    assert r.start_time <= r.end_time
    domain = Domain(CHAIN_ID, SETTLEMENT)
    assert recover_receipt_signer(domain, r, signed.signature) == _station_address(h)
    assert h.oracle.received[0]["receipt"]["energyWh"] == 4_500


def test_stop_transaction__retransmit_is_answered_once(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.start(RFID)
        await cp.meter_values(2_000)
        first = await cp.stop(unique_id="stop-1", id_token=RFID)
        await cp.reconnect()  # the charger did not see the answer and resends after reconnect
        again = await cp.replay_last("StopTransaction")
        assert again == [3, "stop-1", first]
        assert first == {"idTagInfo": {"status": "Accepted"}}
        await h.settle(1)

    harness.run(scenario)
    assert len(harness.signed()) == 1
    assert len(harness.oracle.received) == 1


def test_transaction_event_ended__retransmit_is_answered_once(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP201", V201)
        await cp.start(RFID)
        await cp.meter_values(1_000)
        first = await cp.stop(unique_id="end-1", id_token=RFID)
        await cp.reconnect()
        assert await cp.replay_last("TransactionEvent") == [3, "end-1", first]

    harness.run(scenario)
    assert [s.receipt.energy_wh for s in harness.signed()] == [1_000]


def test_start_transaction__retransmit_gets_the_same_transaction_id(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.start(RFID)
        tx = cp.tx_key
        reply = await cp.replay_last("StartTransaction")
        assert reply is not None and reply[2]["transactionId"] == int(tx or "0")
        other = await h.connected("CPX")
        await other.start(RFID)
        assert other.tx_key != tx  # a new call id gets a new transaction

    harness.run(scenario)


def test_session_id__is_never_reused_across_gateway_restarts(harness: Harness) -> None:
    registers = iter([10_000, 20_000, 30_000])

    async def one_session(h: Harness) -> None:
        # A rebooted charger reuses its call ids; its meter register has moved on.
        cp = await h.connected("CP16", meter=SimMeter(register_wh=next(registers)))
        await cp.charge(RFID, 1_000, steps=1)

    harness.run(one_session)
    harness.run(one_session)  # a fresh gateway process on the same data dir
    harness.run(one_session)
    assert [s.receipt.session_id for s in harness.signed()] == [1, 2, 3]


def test_open_transaction__survives_a_gateway_restart(harness: Harness) -> None:
    async def begin(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.start(RFID)
        await cp.meter_values(700)
        h.meters["tx"] = cp.meter  # keep the charger's meter and tx id for the next run
        h.config.stations["CP16"]
        h.__dict__["tx"] = cp.tx_key

    async def finish(h: Harness) -> None:
        cp = await h.connected("CP16", meter=h.meters["tx"])
        cp.tx_key = h.__dict__["tx"]
        await cp.meter_values(300)
        await cp.stop()
        await h.settle(1)

    harness.run(begin)
    harness.run(finish)
    [s] = harness.signed()
    assert s.receipt.energy_wh == 1_000


def test_receipt__not_stored_means_not_acknowledged(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        store = h.gateway.store
        real = store.close_transaction

        def broken(*a: object, **k: object) -> object:
            raise OutboxError("disk full")

        cp = await h.connected("CP16")
        await cp.start(RFID)
        await cp.meter_values(900)
        store.close_transaction = broken  # type: ignore[method-assign,assignment]
        with pytest.raises(CallErrorReply) as err:
            await cp.stop(unique_id="stop-x")
        assert err.value.code == "InternalError"
        assert store.outbox_rows() == []
        store.close_transaction = real  # type: ignore[method-assign]
        reply = await cp.replay_last("StopTransaction")  # the charger retries the same call
        assert reply is not None and reply[0] == 3
        await h.settle(1)

    harness.run(scenario)
    assert [s.receipt.energy_wh for s in harness.signed()] == [900]


def test_register_going_backwards__accepted_and_kept_unbilled(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16", meter=SimMeter(register_wh=50_000))
        await cp.start(RFID)
        cp.meter.register_wh = 10_000  # the meter lies
        await cp.meter_values(0)
        assert await cp.stop() == {}

    harness.run(scenario)
    assert [(s.receipt.energy_wh, s.receipt.cost) for s in harness.signed()] == [(0, 0)]
    assert [r["_state"] for r in harness.receipts()] == ["rejected"]  # not forwarded


def test_energy_beyond_rated_power__accepted_and_signed_as_measured(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.start(RFID)
        await cp.meter_values(9_000)  # 9 kWh within a second on a 22 kW charger
        await cp.stop()

    harness.run(scenario)
    [s] = harness.signed()
    assert s.receipt.energy_wh == 9_000  # the oracle's plausibility check quarantines it
    assert s.receipt.end_time - s.receipt.start_time <= 2


def test_overlapping_transactions_on_one_connector__both_accepted(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        assert await cp.start(RFID) == "Accepted"
        first = cp.tx_key
        cp.meter.advance(50)  # a new start, not a retry of the first (its meterStart differs)
        assert await cp.start(RFID) == "Accepted"  # same connector, first not stopped
        assert cp.tx_key != first
        await cp.meter_values(100)
        await cp.stop()
        cp.tx_key = first
        await cp.stop()

    harness.run(scenario)
    assert len(harness.signed()) == 2
    assert {s.receipt.connector_id for s in harness.signed()} == {1}


def test_unknown_id_token__start_is_invalid_and_no_receipt_is_built(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        assert await cp.authorize("UNKNOWN-TAG") == "Invalid"
        assert await cp.start("UNKNOWN-TAG") == "Invalid"
        await cp.meter_values(500)
        assert await cp.stop(id_token="UNKNOWN-TAG") == {"idTagInfo": {"status": "Invalid"}}
        cp2 = await h.connected("CP201", V201)
        assert await cp2.start("UNKNOWN-TAG") == "Invalid"
        await cp2.stop()
        assert h.gateway is not None
        tx = await h.gateway.service.get("CP16", cp.tx_key or "")
        assert tx is not None and tx.closed and tx.driver is None

    harness.run(scenario)
    assert harness.signed() == []


def test_stop_for_a_transaction_never_started__answered_without_receipt(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        cp.tx_key = "424242"
        assert await cp.stop() == {}

    harness.run(scenario)
    assert harness.signed() == []


def test_remote_commands__reach_the_charger_in_both_versions(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        c16 = await h.connected("CP16")
        c201 = await h.connected("CP201", V201)
        assert await h.gateway.remote_start("CP16", 1, RFID) == "Accepted"
        assert await h.gateway.remote_start("CP201", 1, RFID) == "Accepted"
        assert await h.gateway.reset("CP16") == "Accepted"
        assert await h.gateway.reset("CP201", hard=True) == "Accepted"
        assert [m[2] for m in c16.received_calls] == ["RemoteStartTransaction", "Reset"]
        assert [m[2] for m in c201.received_calls] == ["RequestStartTransaction", "Reset"]
        assert c201.received_calls[1][3] == {"type": "Immediate"}

    harness.run(scenario)


def test_remote_command__to_an_offline_station_is_a_clear_error(harness: Harness) -> None:
    from wattnet.gateway.errors import StationOfflineError

    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        with pytest.raises(StationOfflineError, match="CPY is not connected"):
            await h.gateway.reset("CPY")

    harness.run(scenario)


def test_reconnect__replaces_the_old_connection(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        a = await h.connected("CP16")
        b = await h.connected("CP16")
        assert "currentTime" in await b.heartbeat()
        with pytest.raises((TimeoutError, Exception)):
            await a.heartbeat()
        assert len(h.gateway.stations) == 1

    harness.run(scenario)


def test_stored_end_result__is_json(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.charge(RFID, 100, steps=1)
        assert h.gateway is not None
        tx = await h.gateway.service.get("CP16", cp.tx_key or "")
        assert tx is not None and json.loads(tx.end_result or "") == {
            "sessionId": 1, "authorized": True}

    harness.run(scenario)


def test_gc_policy__freezes_survivors_and_periodically_collects_everything(
    create_harness: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    calls: list[str] = []
    for name in ("freeze", "unfreeze", "collect"):
        real = getattr(gc, name)

        def spy(*a: Any, _real: Any = real, _name: str = name) -> Any:
            calls.append(f"{_name}{a}")
            return _real(*a)

        monkeypatch.setattr(gc, name, spy)
    h: Harness = create_harness(gc_freeze_interval_s=0.05, gc_full_interval_s=0.12)

    async def scenario(h: Harness) -> None:
        await h.connected("CP16")
        await asyncio.sleep(1.0)

    try:
        h.run(scenario)
    finally:
        monkeypatch.undo()
        gc.unfreeze()
    assert "collect(1,)" in calls and "freeze()" in calls  # cheap pass, then freeze
    full = calls.index("unfreeze()")  # a full collection happens too
    assert calls[full + 1:full + 3] == ["collect()", "freeze()"]


def test_start_transaction__retry_with_a_new_message_id_is_the_same_transaction(
    harness: Harness,
) -> None:
    """A charger that never saw the reply retries after a reconnect with a new message id and
    the same content: same transactionId, no phantom transaction holding the driver's credits."""
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        cp = await h.connected("CP16")
        assert await cp.start(RFID) == "Accepted"
        first = cp.tx_key
        reply = await retry_start_after_reconnect(cp)
        assert reply["transactionId"] == int(first or "0")
        assert reply["idTagInfo"] == {"status": "Accepted"}
        await cp.meter_values(4_000)
        await cp.stop()
        await h.settle(1)
        # a reservation never outlives its transaction: the driver's allowance is whole again
        assert h.gateway.cache.reservation(("CP16", str(int(first or "0") + 1))) is None
        again = await h.connected("CPX")
        assert await again.start(RFID) == "Accepted"
        tx = await h.gateway.service.get("CPX", again.tx_key or "")
        assert tx is not None and tx.reserved == 5_000_000  # the per-session cap, nothing held
        for _ in range(100):  # notices go in the background
            if len(h.oracle.starts) >= 2:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # and no third one comes
        assert len(h.oracle.starts) == 2  # one notice per real transaction

    harness.run(scenario)
    [s] = harness.signed()
    assert (s.receipt.energy_wh, s.receipt.cost) == (4_000, 4_000 * TARIFF // 1000)


def test_reconnect__a_half_open_old_connection_does_not_delay_the_new_one(
    harness: Harness,
) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        old = await h.connected("CP201", V201)
        assert old._ws is not None and old._reader is not None
        old._reader.cancel()
        old._ws.transport.pause_reading()  # the peer is gone: no close frame will come back
        loop = asyncio.get_running_loop()
        began = loop.time()
        new = await h.connected("CP201", V201)
        assert "currentTime" in await new.heartbeat()
        assert loop.time() - began < 5  # not the 10 s closing handshake of the dead link
        assert h.gateway.stations["CP201"]._connection is not None
        assert len(h.gateway.stations) == 1

    harness.run(scenario)
