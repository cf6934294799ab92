"""Start notices: the oracle learns of every authorized session as it starts.

The oracle charges a driver's sessions in the order it learned of them (docs/security.md,
"Collusion against the honest station"), so a station that tells it first keeps what it
authorized from being spent by a session that another station starts later. The notice is
signed with the station key (``wattnet.chain.start_notice``) and sent in the background: the
charger's answer never waits for it, and charging goes on while the uplink is down (the
session then takes its place when the notice or the receipt arrives).

The oracle's answer: ``held`` (at most the amount asked: the rest is held by sessions it
learned of earlier); the session's reservation is lowered to it, and a session holding nothing
is stopped. Delivery is retried with backoff while the session is open; a restarted gateway
sends its open sessions' notices again (the oracle answers a repeated notice as the first time).

Notices sent within a few milliseconds of each other travel together (``/v1/starts:batch``),
each still answered and retried on its own; an oracle without that route (404/405) is sent
them one by one from then on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp

from wattnet.chain.start_notice import StartNotice, notice_to_json
from wattnet.domain import station_id_for
from wattnet.gateway.signer import Signer
from wattnet.gateway.transactions import Transaction

log = logging.getLogger(__name__)

BATCH_WINDOW_S = 0.005  # notices sent within this share one request
BATCH_MAX = 200

Held = Callable[[str, str, int], Awaitable[None]]  # (cp id, tx key, credits held)


class NoticeSender:
    def __init__(self, oracle_url: str | Sequence[str], signers: Mapping[str, Signer],
                 separator: bytes,
                 on_held: Held, still_open: Callable[[str, str], bool], *,
                 base_delay_s: float = 1.0, max_delay_s: float = 60.0,
                 timeout_s: float = 10.0, rng: random.Random | None = None) -> None:
        urls = (oracle_url,) if isinstance(oracle_url, str) else tuple(oracle_url)
        self._urls = tuple(u.rstrip("/") + "/v1/starts" for u in urls)
        self._queues: dict[str, list[tuple[dict[str, Any], asyncio.Future[Any]]]] = {}
        self._single: set[str] = set()  # oracles without the batch route
        self._signers = signers
        self._separator = separator
        self._on_held = on_held
        self._still_open = still_open
        self._base, self._max = base_delay_s, max_delay_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def announce(self, tx: Transaction) -> None:
        """Send ``tx``'s notice in the background (an authorized, open transaction)."""
        if tx.driver is None or tx.closed or tx.reserved <= 0:
            return
        notice = StartNotice(station_id_for(tx.station), tx.connector_id, tx.driver,
                             tx.credit_id, tx.reserved, tx.start_time)
        signature = self._signers[tx.station].sign_digest(notice.digest(self._separator))
        body = notice_to_json(notice, signature)
        task = asyncio.create_task(self._deliver(tx.station, tx.tx_key, body),
                                   name=f"notice {tx.station}/{tx.tx_key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _deliver(self, cp_id: str, tx_key: str, body: dict[str, Any]) -> None:
        attempt = 0
        while self._still_open(cp_id, tx_key):
            finished, held = await self._post(cp_id, tx_key, body)
            if finished:
                if held is not None and self._still_open(cp_id, tx_key):
                    await self._on_held(cp_id, tx_key, held)
                return
            delay = min(self._max, self._base * 2 ** min(attempt, 16))
            attempt += 1
            await asyncio.sleep(delay * (0.5 + self._rng.random() / 2))

    async def _post(self, cp_id: str, tx_key: str, body: dict[str, Any]
                    ) -> tuple[bool, int | None]:
        """(answered, what the oracle held): not answered is tried again later; answered
        without a figure (the oracle does not take notices, or not this one) changes nothing.
        With several committee nodes, the first that answers decides (failover in order)."""
        for url in self._urls:
            finished, held = await self._post_to(url, cp_id, tx_key, body)
            if finished:
                return finished, held
        return False, None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _post_to(self, url: str, cp_id: str, tx_key: str, body: dict[str, Any]
                       ) -> tuple[bool, int | None]:
        tag = f"{cp_id} tx {tx_key}: start notice"
        if url not in self._single:
            status, answer = await self._batched(url, body)
            if status not in (404, 405):
                return _judge_answer(tag, status, answer)
            self._single.add(url)
            log.info("the oracle at %s takes notices one by one", url)
        try:
            async with self._http().post(url, json=body) as resp:
                text = await resp.text()
                try:
                    answer = json.loads(text) if resp.status == 200 else text
                except ValueError:
                    answer = text
                return _judge_answer(tag, resp.status, answer)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("%s: oracle unreachable (%s); will retry", tag, exc)
        return False, None

    async def _batched(self, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        """(HTTP status, this notice's answer) through the next batch to ``url`` (0: not
        answered)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue = self._queues.setdefault(url, [])
        queue.append((body, future))
        if len(queue) == 1:
            task = asyncio.create_task(self._flush(url), name=f"notices to {url}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        status, answer = await future
        return int(status), answer

    async def _flush(self, url: str) -> None:
        await asyncio.sleep(BATCH_WINDOW_S)  # the notices of the next few ms go along
        while self._queues.get(url):
            items, self._queues[url] = self._queues[url][:BATCH_MAX], self._queues[url][BATCH_MAX:]
            answers: list[tuple[int, Any]] = [(0, None)] * len(items)
            try:
                async with self._http().post(url + ":batch",
                                             json=[body for body, _ in items]) as resp:
                    text = await resp.text()
                    results = None
                    if resp.status == 200:
                        results = json.loads(text).get("results")
                    if isinstance(results, list) and len(results) == len(items):
                        answers = [(200, r) for r in results]
                    elif resp.status != 200:
                        answers = [(resp.status, text)] * len(items)
                    else:
                        log.warning("notices to %s: unexpected answer %s", url, text[:200])
            except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as exc:
                log.warning("notices to %s: oracle unreachable (%s); will retry", url, exc)
            for (_, future), answer in zip(items, answers, strict=True):
                if not future.done():
                    future.set_result(answer)


def _judge_answer(tag: str, status: int, answer: Any) -> tuple[bool, int | None]:
    """(answered, what the oracle held) of one notice's answer."""
    if status == 200:
        if isinstance(answer, dict) and answer.get("status") == "refused":
            log.warning("%s refused by the oracle: %s", tag, answer.get("reason"))
            return True, 0
        if isinstance(answer, dict) and isinstance(answer.get("held"), int):
            return True, int(answer["held"])
        if isinstance(answer, dict) and "unavailable" in answer:
            log.warning("%s: the oracle cannot judge it now (%s); will retry", tag,
                        str(answer["unavailable"])[:200])
            return False, None
        if isinstance(answer, dict) and "error" in answer:
            log.error("%s not taken by the oracle: %s", tag, str(answer["error"])[:300])
            return True, None
        log.warning("%s: unexpected answer %s; will retry", tag, str(answer)[:200])
    elif 400 <= status < 500 or status == 501:
        log.error("%s not taken by the oracle (%d): %s", tag, status, str(answer)[:300])
        return True, None
    elif status:
        log.warning("%s: oracle answered %d; will retry", tag, status)
    return False, None
