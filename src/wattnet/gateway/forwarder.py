"""Forwards queued receipts to the oracle over HTTP until the oracle acknowledges each.

Receipts go a page at a time, as one ``POST /v1/receipts:batch`` per node; the answer holds one
result per receipt. Status accepted/duplicate/quarantined: durably stored there, stop. An
error result: the oracle refuses that receipt; kept locally as rejected with the reason, logged
loudly. Any other answer (5xx, a malformed body), timeouts and connection errors: the page is
retried with exponential backoff and jitter. Nothing is ever deleted.

With an oracle committee the gateway names several nodes: each receipt goes to all of them at
once, and it is delivered when ``required_acks`` of them (default 1) acknowledged it; the
nodes pass on what they accept, so one node being down delays nothing. Rejected only when no
node acknowledged and every node that answered refused it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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
        page: int = 500,
    ) -> None:
        self._store = store
        urls = (oracle_url,) if isinstance(oracle_url, str) else tuple(oracle_url)
        if not urls or not 1 <= required_acks <= len(urls):
            raise ValueError(f"required_acks must be 1..{len(urls)} (one per oracle URL)")
        self._urls = tuple(u.rstrip("/") + "/v1/receipts:batch" for u in urls)
        self._required = required_acks
        self._page = page  # receipts per request (the oracle's max_batch_items is 5,000)
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
        """Send every due receipt once, a page at a time: the page goes to each node as one
        ``/v1/receipts:batch`` request (the node commits it together), and the outcomes are
        recorded in one transaction. Returns how many were acknowledged."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        items = await asyncio.to_thread(self._store.due, self._clock(), self._page)
        if not items:
            return 0
        per_node = await asyncio.gather(*(self._post(url, items) for url in self._urls))
        outcomes = [self._combine([node[i] for node in per_node]) for i in range(len(items))]
        if any(state == ACKED for state, _ in outcomes):
            crashpoint("after_forward_before_ack_recorded")
        now = self._clock()
        marks = [(item, state, reason,
                  now + (self._backoff(item.attempts) if state == PENDING else 0))
                 for item, (state, reason) in zip(items, outcomes, strict=True)]
        await asyncio.to_thread(self._store.mark_many, marks)
        return sum(state == ACKED for state, _ in outcomes)

    def _combine(self, outcomes: list[tuple[str, str | None]]) -> tuple[str, str | None]:
        """A receipt's state from each node's answer."""
        if len(outcomes) == 1:
            return outcomes[0]
        acked = [reason for state, reason in outcomes if state == ACKED]
        if len(acked) >= self._required:
            return ACKED, acked[0]
        if not acked and all(state == REJECTED for state, _ in outcomes):
            return REJECTED, "; ".join(str(reason) for _, reason in outcomes)[:1000]
        return PENDING, f"{len(acked)} of {self._required} oracle acknowledgements: " + "; ".join(
            str(reason) for state, reason in outcomes if state != ACKED)[:500]

    async def _post(self, url: str, items: list[OutboxItem]) -> list[tuple[str, str | None]]:
        """Each item's state after posting the page to one node."""
        assert self._session is not None
        where = url.removesuffix("/v1/receipts:batch")
        body = "[" + ",".join(item.body for item in items) + "]"  # stored JSON, as signed
        try:
            async with self._session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as resp:
                text = await resp.text()
                results = _results(text, len(items)) if resp.status == 200 else None
                if results is None:
                    log.warning("%d receipts: oracle %s answered %d%s; will retry", len(items),
                                where, resp.status, f" ({text[:200]})" if text else "")
                    return [(PENDING, f"HTTP {resp.status} from {where}")] * len(items)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("%d receipts: oracle %s unreachable (%s); will retry", len(items), where,
                        exc)
            return [(PENDING, f"{type(exc).__name__}: {exc}")] * len(items)
        out: list[tuple[str, str | None]] = []
        for item, result in zip(items, results, strict=True):
            status = result.get("status") if isinstance(result, dict) else None
            if status in ACK_STATUSES:
                out.append((ACKED, str(status)))
            elif isinstance(result, dict) and "error" in result:
                log.error("receipt %s/%d REJECTED by the oracle %s: %s; kept locally, not "
                          "retried", item.station_id.hex()[:10], item.session_id, where,
                          str(result["error"])[:500])
                out.append((REJECTED, f"{where}: {str(result['error'])[:500]}"))
            elif status == "deferred":  # the node had no registry reads left for a new station
                out.append((PENDING, f"{where} deferred it: {str(result.get('reason'))[:200]}"))
            else:
                out.append((PENDING, f"{where} answered without a known status: "
                                     f"{str(result)[:200]}"))
        acked = sum(state == ACKED for state, _ in out)
        log.info("%d of %d receipts acknowledged by the oracle %s", acked, len(items), where)
        return out


def _results(text: str, n: int) -> list[Any] | None:
    """The per-item results of a ``:batch`` answer, None unless it has exactly ``n``."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    results = body.get("results") if isinstance(body, dict) else None
    return results if isinstance(results, list) and len(results) == n else None
