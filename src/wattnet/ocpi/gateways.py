"""The gateway link: OCPI commands carried out through the gateways' admin API, and EVSE status
read from it (docs/ocpi.md, docs/gateway.md "Admin API").

``ocpi.yaml`` names the gateways (``gateways: [{url, token_env}]``: each site's admin API and the
environment variable holding its bearer token). Every ``poll_s`` seconds the link lists each
gateway's charge points (``GET /v1/stations``): which gateway serves which station, and the last
status each connector reported, which goes to ``LiveState`` (and from there to the partners'
EVSE status pushes). Commands go to the gateway that serves the station:

- START_SESSION: ``start`` with the eMSP token's ``uid`` as the idTag/idToken. The gateway then
  authorizes it like any card, against the credits and mandate bound to that token on chain
  (an eMSP's drivers pay as drivers: "How an eMSP's drivers pay").
- UNLOCK_CONNECTOR: ``unlock``.
- STOP_SESSION: ``stop`` with the session's OCPP transaction (RemoteStopTransaction /
  RequestStopTransaction), known from the gateway's transaction events.

Live sessions: one long poll per gateway follows its transaction events
(``GET /v1/transactions``) into the ``SessionTracker`` (``live_sessions.py``).

The admin API's answers map onto OCPI CommandResultType: 200 ACCEPTED; the charger refused
(409 with its status) REJECTED; charger not connected EVSE_INOPERATIVE; no answer in time (504)
TIMEOUT; anything else FAILED. A gateway that refuses our admin token (401) is logged once (until
it takes the token again): its stations' EVSEs stay UNKNOWN and commands to them are REJECTED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from wattnet.domain import station_id_for
from wattnet.ocpi.live import LiveState

if TYPE_CHECKING:  # live_sessions -> mapping -> config -> this module
    from wattnet.ocpi.live_sessions import SessionTracker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GatewayEndpoint:
    """A site gateway's admin API and the environment variable holding its token."""

    url: str
    token_env: str = "WATTNET_GATEWAY_ADMIN_TOKEN"

    def token(self) -> str:
        value = os.environ.get(self.token_env)
        if not value:
            raise ValueError(f"set the gateway admin token for {self.url} in ${self.token_env}")
        return value


class GatewayLink:
    """``ChargerControl`` over the gateways' admin APIs, and the EVSE status poller."""

    def __init__(self, http: aiohttp.ClientSession, gateways: Sequence[GatewayEndpoint],
                 live: LiveState, tracker: SessionTracker | None = None) -> None:
        self._http = http
        self._gateways = [(g.url.rstrip("/"), g.token()) for g in gateways]
        self._live = live
        self.tracker = tracker
        self._where: dict[bytes, tuple[str, str, str]] = {}  # station -> (url, token, cp id)
        self._refused: set[str] = set()  # gateways that answered 401 to our token

    def _refusal(self, url: str, status: int) -> None:
        if status == 401 and url not in self._refused:
            self._refused.add(url)
            log.error("gateway %s refuses our admin token (401): its EVSEs stay UNKNOWN and "
                      "commands to them are REJECTED; fix the token in ocpi.yaml `gateways`", url)
        elif status != 401 and url in self._refused:
            self._refused.discard(url)
            log.info("gateway %s takes our admin token again", url)

    async def _get(self, url: str, token: str, path: str,
                   timeout: aiohttp.ClientTimeout | None = None) -> Any:
        """The JSON of a 200 answer; None otherwise (a refused token is logged once)."""
        try:
            async with self._http.get(f"{url}{path}", headers=_auth(token),
                                      timeout=timeout) as resp:
                self._refusal(url, resp.status)
                return await resp.json() if resp.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("gateway %s: GET %s failed (%s)", url, path.split("?")[0], exc)
            return None

    async def refresh(self) -> int:
        """Read every gateway's charge points and statuses; returns how many answered."""
        answered = 0
        for url, token in self._gateways:
            rows = await self._get(url, token, "/v1/stations")
            if not isinstance(rows, list):
                continue
            answered += 1
            for row in rows:
                self._station(url, token, row)
        return answered

    async def follow(self, stop: asyncio.Event, retry_s: float, wait_s: float = 20.0) -> None:
        """Follow every gateway's transaction events into the tracker until ``stop``."""
        await asyncio.gather(*(self._follow(url, token, stop, retry_s, wait_s)
                               for url, token in self._gateways))

    async def _follow(self, url: str, token: str, stop: asyncio.Event, retry_s: float,
                      wait_s: float) -> None:
        after = 0
        timeout = aiohttp.ClientTimeout(total=wait_s + 10)
        while not stop.is_set():
            poll = asyncio.ensure_future(self._get(
                url, token, f"/v1/transactions?after={after}&wait={wait_s}", timeout))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not poll.done():
                poll.cancel()
                return
            answer = poll.result()
            if not isinstance(answer, dict) or not isinstance(answer.get("events"), list):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry_s)
                continue
            if answer.get("gap"):
                log.warning("gateway %s: transaction events were lost (we fell behind); "
                            "their sessions show up as CDRs when they settle", url)
            for ev in answer["events"]:
                if self.tracker is not None and isinstance(ev, dict):
                    self.tracker.apply(ev)
            after = int(answer.get("next", after))

    def _station(self, url: str, token: str, row: Any) -> None:
        try:
            cp_id = str(row["chargePointId"])
            statuses = {int(n): str(v["status"]) for n, v in dict(row.get("status", {})).items()}
        except (KeyError, TypeError, ValueError):
            return
        station = station_id_for(cp_id)
        self._where[station] = (url, token, cp_id)
        for connector, status in statuses.items():
            if connector > 0 and row.get("connected"):
                self._live.set_ocpp_status(station, connector, status)

    async def poll(self, every_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    # ---- ChargerControl ----
    async def start(self, station_id: bytes, connector: int, token: dict[str, Any]) -> str:
        if self.tracker is not None:
            self.tracker.started_with(token)
        return await self._operate(station_id, "start",
                                   {"connector": connector, "id_token": str(token.get("uid"))})

    async def stop(self, session: dict[str, Any]) -> str:
        found = None if self.tracker is None else \
            self.tracker.transaction.get(str(session.get("id")))
        if found is None:
            log.warning("STOP_SESSION %s: no open transaction of it at a gateway",
                        session.get("id"))
            return "REJECTED"
        cp_id, tx_key = found
        # 1.6 transaction ids are integers; a 2.0.1 id of digits is sent as its text anyway
        return await self._operate(station_id_for(cp_id), "stop", {
            "transaction": int(tx_key) if tx_key.isdigit() else tx_key})

    async def unlock(self, station_id: bytes, connector: int) -> str:
        return await self._operate(station_id, "unlock", {"connector": connector})

    async def _operate(self, station_id: bytes, op: str, body: dict[str, Any]) -> str:
        if station_id not in self._where:
            await self.refresh()
        found = self._where.get(station_id)
        if found is None:  # no gateway serves it, or one that refuses us might
            return "REJECTED" if self._refused else "EVSE_INOPERATIVE"
        url, token, cp_id = found
        try:
            async with self._http.post(f"{url}/v1/stations/{cp_id}/{op}", json=body,
                                       headers=_auth(token)) as resp:
                self._refusal(url, resp.status)
                answer = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("gateway %s: %s on %s failed (%s)", url, op, cp_id, exc)
            return "FAILED"
        return _result(status, answer)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _result(status: int, answer: Any) -> str:
    if status == 200:
        return "ACCEPTED"
    if status == 504:
        return "TIMEOUT"
    if status == 401:
        return "REJECTED"
    if status == 409:
        refused = isinstance(answer, dict) and answer.get("status") is not None
        return "REJECTED" if refused else "EVSE_INOPERATIVE"
    return "FAILED"
