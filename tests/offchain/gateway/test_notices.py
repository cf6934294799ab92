"""Start notices (issue 11 item 4): the gateway tells the oracle of each authorized session as
it starts, signed with the station key and naming the session as its receipt will; when the
oracle holds less than the gateway reserved (an earlier session of the driver holds the rest),
the session is capped at that, and stopped when nothing is held."""

from __future__ import annotations

import asyncio

import pytest

from conftest import CHAIN_ID, DRIVER, RFID, SETTLEMENT, TARIFF, Harness
from wattnet.chain.eip712 import Domain, receipt_digest, recover_digest
from wattnet.chain.start_notice import notice_from_json
from wattnet.domain import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201


async def _notices(h: Harness, n: int) -> None:
    for _ in range(250):
        if len(h.oracle.starts) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(h.oracle.starts)} start notices, expected {n}")


@pytest.mark.parametrize(("cp_id", "version"), [("CP16", V16), ("CP201", V201)])
def test_notice__signed_by_the_station_and_names_the_session_of_its_receipt(
        harness: Harness, cp_id: str, version: OcppVersion) -> None:
    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        assert await cp.start(RFID) == "Accepted"
        await _notices(h, 1)
        await cp.meter_values(2_000)
        await cp.stop()
        await h.settle(1)

    harness.run(scenario)
    notice, signature = notice_from_json(harness.oracle.starts[0])
    [signed] = harness.signed()
    r = signed.receipt
    assert notice.key == (r.station_id, r.connector_id, r.start_time)
    assert (notice.driver, notice.credit_id) == (DRIVER, 1)
    assert notice.amount == 5_000_000  # the reservation: the per-session cap
    domain = Domain(CHAIN_ID, SETTLEMENT)
    assert recover_digest(notice.digest(domain), signature) == recover_digest(
        receipt_digest(domain, r), signed.signature)
    assert r.cost == 2_000 * TARIFF // 1000  # held in full: nothing capped


@pytest.mark.parametrize(("cp_id", "version"), [("CP16", V16), ("CP201", V201)])
def test_notice__refused_stops_the_session_and_nothing_is_billed(
        harness: Harness, cp_id: str, version: OcppVersion) -> None:
    harness.oracle.hold = 0

    async def scenario(h: Harness) -> None:
        cp = await h.connected(cp_id, version)
        assert await cp.start(RFID) == "Accepted"
        await asyncio.wait_for(cp.stop_requested.wait(), 5)
        await cp.meter_values(1_000)
        await cp.stop()
        await h.settle(1)

    harness.run(scenario)
    [signed] = harness.signed()
    assert (signed.receipt.energy_wh, signed.receipt.cost) == (0, 0)


def test_notice__partly_held_caps_the_session_at_what_is_held(harness: Harness) -> None:
    harness.oracle.hold = 1_000_000  # 1 of the 5 credits asked: the rest is held elsewhere

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16", V16)
        assert await cp.start(RFID) == "Accepted"
        await _notices(h, 1)
        await asyncio.sleep(0.1)  # the answer is applied
        await cp.meter_values(4_000)  # 1.4 credits: past what is held
        await asyncio.wait_for(cp.stop_requested.wait(), 5)
        await cp.stop()
        await h.settle(1)

    harness.run(scenario)
    [signed] = harness.signed()
    assert signed.receipt.cost <= 1_000_000
    assert signed.receipt.energy_wh == 1_000_000 * 1000 // TARIFF


def test_notice__sessions_starting_together_share_one_request_each_answered(
        harness: Harness) -> None:
    """Notices sent within a few ms go as one ``/v1/starts:batch``; each gets its own answer
    (here: the second is refused, and only its session is stopped)."""
    answers = iter([None, 0])

    async def scenario(h: Harness) -> None:
        a, b = await h.connected("CP16", V16), await h.connected("CP201", V201)
        h.oracle.hold = None
        assert await asyncio.gather(a.start(RFID), b.start(RFID)) == ["Accepted"] * 2
        await _notices(h, 2)
        await asyncio.wait_for(b.stop_requested.wait(), 5)
        assert not a.stop_requested.is_set()

    original = harness.oracle._start

    def scripted(body: dict[str, object]) -> dict[str, object]:
        harness.oracle.hold = next(answers)
        return original(body)  # type: ignore[arg-type]

    harness.oracle._start = scripted  # type: ignore[method-assign]
    harness.run(scenario)
    assert harness.oracle.single_starts == 0
    assert sum(harness.oracle.start_batches) == 2
    assert len(harness.oracle.start_batches) <= 2


def test_notice__an_oracle_without_the_batch_route_is_sent_notices_one_by_one(
        harness: Harness) -> None:
    harness.oracle.starts_batch_route = False
    harness.oracle.hold = 1_000_000

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16", V16)
        assert await cp.start(RFID) == "Accepted"
        await _notices(h, 1)
        await cp.meter_values(100_000)  # far more than the 1 USDC held
        await cp.stop()
        await h.settle(1)

    harness.run(scenario)
    assert (harness.oracle.single_starts, harness.oracle.start_batches) == (1, [])
    [signed] = harness.signed()
    assert signed.receipt.cost <= 1_000_000  # capped at what the oracle held


def test_notice__one_the_oracle_cannot_judge_now_is_sent_again(harness: Harness) -> None:
    harness.oracle.unavailable_starts = 1

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16", V16)
        assert await cp.start(RFID) == "Accepted"
        await _notices(h, 1)  # the second try: the first was answered "unavailable"
        await cp.stop()
        await h.settle(1)

    harness.run(scenario)
    assert len(harness.oracle.start_batches) == 2 and harness.oracle.single_starts == 0
