"""Forwards queued receipts to the oracle over HTTP until the oracle acknowledges each.

200 with status accepted/duplicate/quarantined: durably stored there, stop. 4xx: the oracle
refuses the payload; kept locally as rejected with the reason, logged loudly. 5xx, timeouts and
connection errors: retried with exponential backoff and jitter. Nothing is ever deleted.

With an oracle committee the gateway names several nodes: each receipt goes to all of them at
once, and it is delivered when ``required_acks`` of them (default 1) acknowledged it; the
nodes pass on what they accept, so one node being down delays nothing. Rejected only when no
node acknowledged and every node that answered refused it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp

from wattnet.gateway.crashpoints import crashpoint
from wattnet.gateway.store import ACKED, PENDING, REJECTED, GatewayStore, OutboxItem

log = logging.getLogger(__name__)
ACK_STATUSES = frozenset({"accepted", "duplicate", "quarantined"})


class Forwarder:
    def __init__(
        self,
        store: GatewayStore,
        oracle_url: str | Sequence[str],
        clock: Callable[[], float],
        *,
        required_acks: int = 1,
        rng: random.Random | None = None,
        base_delay_s: float = 1.0,
        max_delay_s: float = 300.0,
        timeout_s: float = 10.0,
    ) -> None:
        self._store = store
        urls = (oracle_url,) if isinstance(oracle_url, str) else tuple(oracle_url)
        if not urls or not 1 <= required_acks <= len(urls):
            raise ValueError(f"required_acks must be 1..{len(urls)} (one per oracle URL)")
        self._urls = tuple(u.rstrip("/") + "/v1/receipts" for u in urls)
        self._required = required_acks
        self._clock = clock
        self._rng = rng or random.Random()
        self._base = base_delay_s
        self._max = max_delay_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="receipt-forwarder")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def _backoff(self, attempts: int) -> float:
        delay = min(self._max, self._base * 2 ** min(attempts, 20))
        return float(delay * (0.5 + self._rng.random() / 2))

    async def _run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        while True:
            try:
                await self.flush()
            except Exception:  # the loop must survive anything; the queue is durable
                log.exception("receipt forwarder pass failed; retrying")
            nxt = await asyncio.to_thread(self._store.next_due_time)
            wait = 30.0 if nxt is None else max(0.05, nxt - self._clock())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(wait, 30.0))

    async def flush(self) -> int:
        """Send every due receipt once, up to a page of them at a time, concurrently (the
        oracle commits concurrent receipts together); record the outcomes in one transaction.
        Returns how many the oracle acknowledged."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        items = await asyncio.to_thread(self._store.due, self._clock())
        if not items:
            return 0
        outcomes = await asyncio.gather(*(self._send(item) for item in items))
        if any(state == ACKED for state, _ in outcomes):
            crashpoint("after_forward_before_ack_recorded")
        now = self._clock()
        marks = [(item, state, reason,
                  now + (self._backoff(item.attempts) if state == PENDING else 0))
                 for item, (state, reason) in zip(items, outcomes, strict=True)]
        await asyncio.to_thread(self._store.mark_many, marks)
        return sum(state == ACKED for state, _ in outcomes)

    async def _send(self, item: OutboxItem) -> tuple[str, str | None]:
        """The receipt's state after posting it to every node at once."""
        if len(self._urls) == 1:
            return await self._post(self._urls[0], item)
        outcomes = await asyncio.gather(*(self._post(url, item) for url in self._urls))
        acked = [reason for state, reason in outcomes if state == ACKED]
        if len(acked) >= self._required:
            return ACKED, acked[0]
        if not acked and all(state == REJECTED for state, _ in outcomes):
            return REJECTED, "; ".join(str(reason) for _, reason in outcomes)[:1000]
        return PENDING, f"{len(acked)} of {self._required} oracle acknowledgements: " + "; ".join(
            str(reason) for state, reason in outcomes if state != ACKED)[:500]

    async def _post(self, url: str, item: OutboxItem) -> tuple[str, str | None]:
        assert self._session is not None
        tag = f"receipt {item.station_id.hex()[:10]}/{item.session_id}"
        if len(self._urls) > 1:
            tag += f" at {url.removesuffix('/v1/receipts')}"
        try:
            async with self._session.post(
                url, data=item.body, headers={"Content-Type": "application/json"}
            ) as resp:
                text = await resp.text()
                if resp.status == 200:
                    body: Any = await resp.json(content_type=None)
                    status = body.get("status") if isinstance(body, dict) else None
                    if status in ACK_STATUSES:
                        log.info("%s acknowledged by the oracle: %s", tag, status)
                        return ACKED, str(status)
                    return PENDING, f"oracle answered 200 without a known status: {text[:200]}"
                if 400 <= resp.status < 500:
                    log.error("%s REJECTED by the oracle (%d): %s; kept locally, not retried",
                              tag, resp.status, text[:500])
                    return REJECTED, f"HTTP {resp.status}: {text[:500]}"
                log.warning("%s: oracle error %d; will retry", tag, resp.status)
                return PENDING, f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("%s: oracle unreachable (%s); will retry", tag, exc)
            return PENDING, f"{type(exc).__name__}: {exc}"
