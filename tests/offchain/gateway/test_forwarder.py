"""Forwarding to the oracle: retried until acknowledged, 4xx kept locally as rejected, the
queue survives restarts and an unreachable oracle, nothing is lost or sent as a different body."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from typing import Any

import pytest
from aiohttp import web

from conftest import RFID, FakeOracle, Harness, free_port
from wattnet.chain.receipt_codec import signed_from_json
from wattnet.domain import OcppVersion
from wattnet.gateway.config import GatewayConfigError, config_from_dict
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


def test_oracle_deferred__kept_pending_with_the_reason_and_sent_again(harness: Harness) -> None:
    """A node that defers a receipt (its station is new there and the node's registry-read
    budget is spent: a flood of made-up stations) has not judged it: not rejected, retried."""
    harness.oracle.deferrals = 1

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.charge(RFID, 1_000, steps=1)
        await h.settle(2)  # deferred, then sent again (a rejected one never is)

    harness.run(scenario)
    [row] = harness.outbox()
    assert row[3] == ACKED and harness.oracle.requests == 2


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


# ---- several oracle committee nodes ----
async def _second_oracle(port: int, oracle: FakeOracle) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/v1/receipts:batch", oracle.handle)
    app.router.add_post("/v1/starts", oracle.handle_start)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def _charge_beside_a_second_oracle(create_harness: Any, other: FakeOracle,
                                   first_script: list[int] | None = None,
                                   linger_s: float = 0.0) -> Harness:
    """One 1.6 session at a gateway posting to its own fake oracle (answering ``first_script``
    first) and to ``other`` on a second port; returns after ``other`` got the receipt and
    ``linger_s`` more."""
    port = free_port()
    harness: Harness = create_harness(oracle_peers=(f"http://127.0.0.1:{port}",))
    harness.oracle.script = list(first_script or [])

    async def scenario(h: Harness) -> None:
        runner = await _second_oracle(port, other)
        try:
            cp = await h.connected("CP16")
            await cp.charge(RFID, 1_000, steps=1)
            await h.settle(1)
            while not other.received:
                await asyncio.sleep(0.02)
            await asyncio.sleep(linger_s)
        finally:
            await runner.cleanup()

    harness.run(scenario)
    return harness


def test_committee_nodes__each_receipt_goes_to_every_node(create_harness: Any) -> None:
    other = FakeOracle()
    harness = _charge_beside_a_second_oracle(create_harness, other)
    assert harness.oracle.received == other.received  # the same signed body at both
    assert [row[3] for row in harness.outbox()] == [ACKED]


def test_committee_nodes__one_node_down_delays_nothing(create_harness: Any) -> None:
    """The first node listed is down: the receipt is delivered by the other at once, and the
    start notice fails over to it."""
    harness = create_harness()
    live = harness.config.oracle_url
    object.__setattr__(harness.config, "oracle_url", "http://127.0.0.1:9")  # nothing listens
    object.__setattr__(harness.config, "oracle_peers", (live,))

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP201", OcppVersion.V201)
        await cp.charge(RFID, 2_000, steps=2)
        await h.settle(1)

    harness.run(scenario)
    assert [row[3] for row in harness.outbox()] == [ACKED]
    assert harness.oracle.starts  # the notice reached the live node


def test_committee_nodes__required_acks_wait_for_enough_nodes(create_harness: Any) -> None:
    port = free_port()
    harness = create_harness(oracle_peers=(f"http://127.0.0.1:{port}",), oracle_acks=2)

    async def down(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.charge(RFID, 1_000, steps=1)
        await h.settle(1)
        await asyncio.sleep(0.3)

    harness.run(down)
    [row] = harness.outbox()
    assert row[3] == PENDING and "1 of 2" in (row[5] or "")
    other = FakeOracle()

    async def up(h: Harness) -> None:
        runner = await _second_oracle(port, other)
        try:
            while not other.received:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.1)
        finally:
            await runner.cleanup()

    harness.run(up)
    assert [row[3] for row in harness.outbox()] == [ACKED]


def test_committee_nodes__refused_only_when_every_node_refuses(create_harness: Any) -> None:
    harness = _charge_beside_a_second_oracle(create_harness, FakeOracle(script=[422]),
                                             first_script=[422], linger_s=0.3)
    [row] = harness.outbox()
    assert row[3] == REJECTED and (row[5] or "").count("422") == 2


def test_committee_nodes__one_node_refusing_does_not_block_delivery(create_harness: Any) -> None:
    """One node rejects the receipt (say, a stale registry view), another stores it: the
    receipt is delivered, not dropped as rejected."""
    harness = _charge_beside_a_second_oracle(create_harness, FakeOracle(), first_script=[422])
    assert [row[3] for row in harness.outbox()] == [ACKED]


def test_answer_of_the_wrong_length__acknowledges_nothing_and_is_retried(
        harness: Harness) -> None:
    """A node answering a page with more or fewer results than receipts (a bug, a proxy, a
    liar) cannot have them counted: nothing from that answer is acknowledged, and the page is
    sent again."""
    harness.oracle.wrong_lengths = [+1, -1]

    async def scenario(h: Harness) -> None:
        cp = await h.connected("CP16")
        await cp.charge(RFID, 1_000, steps=1)
        while h.oracle.requests < 2:
            await asyncio.sleep(0.02)
        [row] = h.outbox()
        assert row[3] == PENDING  # two answers of the wrong length so far
        await h.settle(3)  # the third answer is whole

    harness.run(scenario)
    [row] = harness.outbox()
    assert row[3] == ACKED and harness.oracle.requests == 3
    assert len({str(b) for b in harness.oracle.received}) == 1  # the same body each time


def test_page__one_request_per_node_for_many_receipts(harness: Harness) -> None:
    """Receipts queued while the oracle was away go as one batch request, not one each."""
    real_url = harness.config.oracle_url
    object.__setattr__(harness.config, "oracle_url", "http://127.0.0.1:9")  # nothing listens

    async def offline(h: Harness) -> None:
        cp = await h.connected("CP16")
        for _ in range(3):
            await cp.charge(RFID, 1_000, steps=1)

    harness.run(offline)
    assert [row[3] for row in harness.outbox()] == [PENDING] * 3
    with sqlite3.connect(harness.config.data_dir / "gateway.sqlite3") as db:
        db.execute("UPDATE outbox SET next_attempt = 0")  # every backoff has run out
    object.__setattr__(harness.config, "oracle_url", real_url)

    async def online(h: Harness) -> None:
        await h.settle(3)

    harness.run(online)
    assert [row[3] for row in harness.outbox()] == [ACKED] * 3
    assert harness.oracle.requests == 1


@pytest.mark.parametrize(("value", "acks", "error"), [
    ([], 1, "non-empty list"), (["http://a", "http://a"], 1, "twice"),
    (["http://a", "http://b"], 3, "oracle_acks must be 1..2"), (7, 1, "non-empty list")])
def test_committee_nodes__bad_oracle_lists_are_refused_in_one_line(
        value: Any, acks: int, error: str, tmp_path: Any) -> None:
    raw = {"data_dir": "d", "oracle_url": value, "oracle_acks": acks, "chain_id": 1,
           "settlement": "0x" + "11" * 20, "stations": {}}
    with pytest.raises(GatewayConfigError, match=error):
        config_from_dict(raw, tmp_path)


def test_committee_nodes__a_list_names_the_first_and_its_peers(tmp_path: Any) -> None:
    raw = {"data_dir": "d", "oracle_url": ["http://a/", "http://b"], "oracle_acks": 2,
           "chain_id": 1, "settlement": "0x" + "11" * 20, "stations": {}}
    cfg = config_from_dict(raw, tmp_path)
    assert cfg.oracle_urls == ("http://a", "http://b") and cfg.oracle_acks == 2
