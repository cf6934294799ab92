"""Forwarding to the oracle: retried until acknowledged, 4xx kept locally as rejected, the
queue survives restarts and an unreachable oracle, nothing is lost or sent as a different body."""

from __future__ import annotations

import asyncio
import random

from conftest import RFID, Harness
from wattnet.chain.receipt_codec import signed_from_json
from wattnet.gateway.forwarder import Forwarder
from wattnet.gateway.store import ACKED, PENDING, REJECTED


def test_oracle_5xx__retried_until_acknowledged(harness: Harness) -> None:
    harness.oracle.script = [503, 500, 502]

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.charge(RFID, 1_000, steps=1)
        await h.settle(4)

    harness.run(scenario)
    [row] = harness.outbox()
    assert row[3] == ACKED and row[4] == 4
    bodies = {str(b) for b in harness.oracle.received}
    assert len(bodies) == 1  # the same body every time


def test_oracle_4xx__stored_as_rejected_with_the_reason_and_not_retried(harness: Harness) -> None:
    harness.oracle.script = [422]

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.charge(RFID, 1_000, steps=1)
        await h.settle(1)
        await asyncio.sleep(0.4)  # several retry periods

    harness.run(scenario)
    [row] = harness.outbox()
    assert row[3] == REJECTED and "422" in (row[5] or "")
    assert len(harness.oracle.received) == 1


def test_oracle_unreachable__receipt_waits_in_the_queue_across_a_restart(
    harness: Harness,
) -> None:
    real_url = harness.config.oracle_url
    object.__setattr__(harness.config, "oracle_url", "http://127.0.0.1:9")  # nothing listens

    async def offline(h: Harness) -> None:
        cp = await h.connected("CP201", __import__("wattnet.domain").domain.OcppVersion.V201)
        await cp.charge(RFID, 2_000, steps=2)
        await asyncio.sleep(0.3)

    harness.run(offline)
    [row] = harness.outbox()
    assert row[3] == PENDING and row[4] >= 1
    object.__setattr__(harness.config, "oracle_url", real_url)

    async def online(h: Harness) -> None:
        await h.settle(1)

    harness.run(online)
    assert harness.outbox()[0][3] == ACKED
    assert signed_from_json(harness.oracle.received[0]).receipt.energy_wh == 2_000


def test_backoff__grows_and_is_capped() -> None:
    f = Forwarder.__new__(Forwarder)
    f._rng, f._base, f._max = random.Random(1), 1.0, 300.0
    delays = [f._backoff(n) for n in range(12)]
    assert delays[0] <= 1.0 and delays[3] >= 4.0
    assert max(delays) <= 300.0
