"""Transaction events for the admin API (``GET /v1/transactions``): how the OCPI server follows
live sessions (docs/ocpi.md "Live sessions").

The session service reports three events of an authorized transaction: ``open`` (a restarted
gateway reports its open transactions again), ``meter`` (a newer energy register) and ``end``
(closed, with the receipt's session id, energy and billed cost). Each gets a sequence number;
a reader asks for the events after the last one it saw, optionally waiting (long poll) until
one arrives. Memory only, the newest ``size`` events: a reader that falls further behind is told
so (``gap``) and catches up from the open transactions' ``open`` events the ring still holds and
from the CDRs (settled receipts) later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from wattnet.gateway.transactions import Transaction


class TxFeed:
    def __init__(self, clock: Callable[[], float], size: int = 10_000) -> None:
        self._clock = clock
        self._events: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0
        self._open: set[tuple[str, str]] = set()
        self._changed = asyncio.Event()

    def _add(self, kind: str, station: str, tx_key: str, **fields: Any) -> None:
        self._seq += 1
        self._events.append({"seq": self._seq, "event": kind, "chargePointId": station,
                             "transaction": tx_key, "at": int(self._clock()), **fields})
        self._changed.set()
        self._changed = asyncio.Event()

    def opened(self, tx: Transaction) -> None:
        """An authorized transaction is open (also after a restart)."""
        if tx.driver is None or tx.closed:
            return
        self._open.add((tx.station, tx.tx_key))
        self._add("open", tx.station, tx.tx_key, connector=tx.connector_id,
                  startTime=tx.start_time, meterStartWh=tx.meter_start_wh, driver=tx.driver,
                  creditId=tx.credit_id, tariff=tx.tariff,
                  idTokenHash=None if tx.id_token_hash is None else tx.id_token_hash.hex())

    def metered(self, station: str, tx_key: str, start_wh: int | None, register_wh: int,
                at: int) -> None:
        if (station, tx_key) in self._open:
            self._add("meter", station, tx_key, meterStartWh=start_wh, registerWh=register_wh,
                      readAt=at)

    def ended(self, tx: Transaction, session_id: int | None, energy_wh: int, cost: int,
              end_time: int) -> None:
        if (tx.station, tx.tx_key) not in self._open:
            return
        self._open.discard((tx.station, tx.tx_key))
        self._add("end", tx.station, tx.tx_key, sessionId=session_id, energyWh=energy_wh,
                  cost=cost, endTime=end_time)

    def since(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
        """(events after ``after``, up to ``limit``; the cursor to ask with next; whether events
        after ``after`` were dropped from the ring). A cursor beyond the newest event is a
        reader's from before a gateway restart: it gets everything held."""
        if after > self._seq:
            after = 0
        first = self._events[0]["seq"] if self._events else self._seq + 1
        gap = after + 1 < first and after < self._seq
        out = [e for e in self._events if e["seq"] > after][:limit]
        return out, out[-1]["seq"] if out else max(after, 0), gap

    async def wait(self, after: int, timeout_s: float) -> None:
        """Return once there is an event after ``after``, or after ``timeout_s``."""
        if self._seq != after or timeout_s <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout_s)
