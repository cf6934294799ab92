"""THREATS.md, chargers in the field: the energy register may first appear in any event of a
transaction; a session is never billed from a missing value as if it were zero. Each case asserts
the receipt's energy, cost and state, and what reached the oracle."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conftest import RFID, TARIFF, Harness
from wattnet.domain import OcppVersion
from wattnet.sim.chargepoint import SimChargePoint
from wattnet.sim.chargepoint.client import iso

V16, V201 = OcppVersion.V16, OcppVersion.V201
REGISTER = "Energy.Active.Import.Register"


def _mv(*readings: tuple[int, str], t0: float | None = None) -> list[dict[str, Any]] | None:
    """2.0.1 meterValue entries, one per (register Wh, context), one second apart."""
    if not readings:
        return None
    base = time.time() if t0 is None else t0
    return [{"timestamp": iso(base + i), "sampledValue": [{
        "value": wh, "measurand": REGISTER, "context": ctx, "unitOfMeasure": {"unit": "Wh"}}]}
        for i, (wh, ctx) in enumerate(readings)]


async def _session_201(cp: SimChargePoint, started: list[int], updated: list[int],
                       ended: list[int]) -> dict[str, Any]:
    cp.tx_key, cp._seq = f"{cp.cp_id}-tx-billing", -1
    begin = [(wh, "Transaction.Begin") for wh in started]
    r = await cp._event("Started", "Authorized", _mv(*begin), RFID)
    assert r["idTokenInfo"]["status"] == "Accepted"
    for wh in updated:
        await cp._event("Updated", "MeterValuePeriodic", _mv((wh, "Sample.Periodic")))
    contexts = ["Transaction.Begin", "Transaction.End"][-len(ended):] if ended else []
    return await cp._event("Ended", "StopAuthorized",
                           _mv(*zip(ended, contexts, strict=True), t0=time.time() - 1))


# (Started registers, Updated registers, Ended registers, billed energy or None: not billed)
CASES_201 = {
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


@pytest.mark.parametrize("case", list(CASES_201))
def test_201_billing__energy_from_the_first_and_last_register_wherever_they_arrive(
    harness: Harness, case: str
) -> None:
    started, updated, ended, energy = CASES_201[case]

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP201", V201)
        assert await _session_201(cp, started, updated, ended) == {}
        if energy is not None:
            await h.settle(1)

    harness.run(scenario)
    [row] = harness.receipts()
    receipt = row["receipt"]
    if energy is None:  # never a silent 0 Wh: kept, with the reason, not forwarded
        assert (receipt["energyWh"], receipt["cost"]) == (0, 0)
        assert row["_state"] == "rejected" and row["_reason"].startswith("energy: ")
        assert harness.oracle.received == []
    else:
        assert (receipt["energyWh"], receipt["cost"]) == (energy, energy * TARIFF // 1000)
        assert row["_state"] != "rejected"
        assert [r["receipt"]["energyWh"] for r in harness.oracle.received] == [energy]


@pytest.mark.parametrize(("start", "stop", "energy"), [
    (10_000, 14_500, 4_500),
    (99_999_000, 400, None),  # rollover
    (50_000, 40_000, None),  # negative delta
])
def test_16_billing__register_difference_or_not_billed(
    harness: Harness, start: int, stop: int, energy: int | None
) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        cp.meter.register_wh = start
        assert await cp.start(RFID) == "Accepted"
        cp.meter.register_wh = stop
        await cp.stop()
        if energy is not None:
            await h.settle(1)

    harness.run(scenario)
    [row] = harness.receipts()
    receipt = row["receipt"]
    if energy is None:
        assert (receipt["energyWh"], receipt["cost"], row["_state"]) == (0, 0, "rejected")
        assert "went backwards" in row["_reason"]
        assert harness.oracle.received == []
    else:
        assert (receipt["energyWh"], receipt["cost"]) == (energy, energy * TARIFF // 1000)


def test_unbilled_session__releases_its_reservation(harness: Harness) -> None:
    async def scenario(h: Harness) -> None:
        assert h.gateway is not None
        cp = await h.connected("CP201", V201)
        await _session_201(cp, [], [], [])
        assert h.gateway.cache.reservation(("CP201", cp.tx_key or "")) is None
        other = await h.connected("CP16")  # the driver's whole allowance is free again
        assert await other.start(RFID) == "Accepted"
        tx = await h.gateway.service.get("CP16", other.tx_key or "")
        assert tx is not None and tx.reserved == 5_000_000  # the account's per-session cap

    harness.run(scenario)
