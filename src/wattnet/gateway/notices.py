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
"""

from __future__ import annotations

import asyncio
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

Held = Callable[[str, str, int], Awaitable[None]]  # (cp id, tx key, credits held)


class NoticeSender:
    def __init__(self, oracle_url: str | Sequence[str], signers: Mapping[str, Signer],
                 separator: bytes,
                 on_held: Held, still_open: Callable[[str, str], bool], *,
                 base_delay_s: float = 1.0, max_delay_s: float = 60.0,
                 timeout_s: float = 10.0, rng: random.Random | None = None) -> None:
        urls = (oracle_url,) if isinstance(oracle_url, str) else tuple(oracle_url)
        self._urls = tuple(u.rstrip("/") + "/v1/starts" for u in urls)
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

    async def _post_to(self, url: str, cp_id: str, tx_key: str, body: dict[str, Any]
                       ) -> tuple[bool, int | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        tag = f"{cp_id} tx {tx_key}: start notice"
        try:
            async with self._session.post(url, json=body) as resp:
                text = await resp.text()
                if resp.status == 200:
                    answer = await resp.json(content_type=None)
                    if isinstance(answer, dict) and answer.get("status") == "refused":
                        log.warning("%s refused by the oracle: %s", tag, answer.get("reason"))
                        return True, 0
                    if isinstance(answer, dict) and isinstance(answer.get("held"), int):
                        return True, int(answer["held"])
                    log.warning("%s: unexpected answer %s; will retry", tag, text[:200])
                elif 400 <= resp.status < 500 or resp.status == 501:
                    log.error("%s not taken by the oracle (%d): %s", tag, resp.status, text[:300])
                    return True, None
                else:
                    log.warning("%s: oracle answered %d; will retry", tag, resp.status)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("%s: oracle unreachable (%s); will retry", tag, exc)
        return False, None
