"""OCPP 2.0.1 conformance, as a foreign charger checking every message against the official
JSON schemas would see it: the charger-initiated messages of the core and advanced-security
profiles and the other station-initiated notifications, a session with the retry and reconnect
cases, and the billing cases (registers only in Started, only in Updated, only at Ended,
rollover, negative delta), each asserting the receipt's energy and cost."""

from __future__ import annotations

import pytest
from conformance import (
    BILLING_201,
    CHARGER_INITIATED,
    V201,
    assert_billed,
    checked,
    session_201,
    walk_without_session,
)

from conftest import RFID, TARIFF, Harness


def test_conformance201__every_charger_initiated_message_and_a_retried_session(
    harness: Harness,
) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        cp = await checked(h, "CP201", V201)  # BootNotification
        await walk_without_session(cp)
        cp.meter.register_wh = 10_000
        assert await cp.start(RFID) == "Accepted"  # TransactionEvent Started
        await cp.meter_values(2_000)  # Updated
        await cp.reconnect()  # the Updated reply was lost: resent as is, counted once
        assert (await cp.replay_last("TransactionEvent") or [None])[0] == 3
        assert await h.gateway.remote_stop("CP201", cp.tx_key or "") == "Accepted"
        await cp.meter_values(2_500)
        ended = await cp.stop(unique_id="end-1", id_token=RFID)
        await cp.reconnect()
        assert await cp.replay_last("TransactionEvent") == [3, "end-1", ended]
        await h.settle(1)
        cp.assert_conformant(CHARGER_INITIATED[V201])
        assert [m[2] for m in cp.received_calls] == ["RequestStopTransaction"]

    harness.run(scenario)
    [signed] = harness.signed()
    assert (signed.receipt.energy_wh, signed.receipt.cost) == (4_500, 4_500 * TARIFF // 1000)
    assert len(harness.oracle.received) == 1 and len(harness.oracle.starts) == 1


@pytest.mark.parametrize("case", list(BILLING_201))
def test_conformance201_billing__energy_from_the_first_and_last_register_wherever_they_arrive(
    harness: Harness, case: str
) -> None:
    started, updated, ended, energy = BILLING_201[case]

    async def scenario(h: Harness) -> None:
        cp = await checked(h, "CP201", V201)
        assert await session_201(cp, started, updated, ended) == {}
        if energy is not None:
            await h.settle(1)
        cp.assert_conformant({"TransactionEvent"})

    harness.run(scenario)
    assert_billed(harness, energy, "energy: ")
