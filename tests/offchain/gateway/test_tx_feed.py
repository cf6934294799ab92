"""The admin API's transaction event feed (gateway/tx_feed.py): only authorized transactions,
in order, a reader that fell behind told so, a reader from before a restart served from the
start, and the long poll woken by a new event."""

from __future__ import annotations

import asyncio

from wattnet.gateway.transactions import Transaction
from wattnet.gateway.tx_feed import TxFeed


def _tx(key: str, driver: str | None = "0x" + "11" * 20) -> Transaction:
    return Transaction("CP1", key, 1, 1_000, 5_000, driver=driver, credit_id=1, tariff=350_000,
                       reserved=10)


def test_feed__authorized_transactions_only_in_order() -> None:
    feed = TxFeed(lambda: 7.0)
    feed.opened(_tx("1", driver=None))  # not authorized: no receipt, no session
    feed.metered("CP1", "1", 5_000, 5_100, 1_010)
    feed.opened(_tx("2"))
    feed.metered("CP1", "2", 5_000, 5_500, 1_020)
    feed.ended(_tx("2"), 4, 600, 210, 1_030)
    feed.ended(_tx("2"), 4, 600, 210, 1_030)  # a replayed end: once
    events, nxt, gap = feed.since(0, 100)
    assert [(e["event"], e["transaction"]) for e in events] == [
        ("open", "2"), ("meter", "2"), ("end", "2")]
    assert events[2]["sessionId"] == 4 and events[2]["energyWh"] == 600
    assert (nxt, gap) == (3, False)
    assert feed.since(1, 1)[0][0]["event"] == "meter"


def test_feed__a_reader_behind_the_ring_or_before_a_restart() -> None:
    feed = TxFeed(lambda: 0.0, size=2)
    for key in ("1", "2", "3"):
        feed.opened(_tx(key))
    events, _, gap = feed.since(0, 100)
    assert gap and [e["transaction"] for e in events] == ["2", "3"]
    events, nxt, gap = feed.since(99, 100)  # a cursor of the gateway's previous life
    assert [e["transaction"] for e in events] == ["2", "3"] and nxt == 3


def test_feed__long_poll_wakes_on_a_new_event() -> None:
    async def scenario() -> list[str]:
        feed = TxFeed(lambda: 0.0)
        waiting = asyncio.create_task(feed.wait(0, 5.0))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        feed.opened(_tx("9"))
        await asyncio.wait_for(waiting, 1.0)
        return [e["transaction"] for e in feed.since(0, 10)[0]]

    assert asyncio.run(scenario()) == ["9"]
