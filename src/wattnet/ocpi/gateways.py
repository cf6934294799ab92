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
- STOP_SESSION needs the OCPP transaction of the session, which the admin API does not list
  yet: answered REJECTED.

The admin API's answers map onto OCPI CommandResultType: 200 ACCEPTED; the charger refused
(409 with its status) REJECTED; charger not connected EVSE_INOPERATIVE; no answer in time (504)
TIMEOUT; anything else FAILED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from wattnet.domain import station_id_for
from wattnet.ocpi.live import LiveState

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
                 live: LiveState) -> None:
        self._http = http
        self._gateways = [(g.url.rstrip("/"), g.token()) for g in gateways]
        self._live = live
        self._where: dict[bytes, tuple[str, str, str]] = {}  # station -> (url, token, cp id)

    async def refresh(self) -> int:
        """Read every gateway's charge points and statuses; returns how many answered."""
        answered = 0
        for url, token in self._gateways:
            try:
                async with self._http.get(f"{url}/v1/stations", headers=_auth(token)) as resp:
                    rows = await resp.json() if resp.status == 200 else None
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.warning("gateway %s: no station list (%s)", url, exc)
                continue
            if not isinstance(rows, list):
                log.warning("gateway %s: station list refused", url)
                continue
            answered += 1
            for row in rows:
                self._station(url, token, row)
        return answered

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
        return await self._operate(station_id, "start",
                                   {"connector": connector, "id_token": str(token.get("uid"))})

    async def stop(self, session: dict[str, Any]) -> str:
        log.warning("STOP_SESSION %s: the gateways do not list OCPP transactions yet",
                    session.get("id"))
        return "REJECTED"

    async def unlock(self, station_id: bytes, connector: int) -> str:
        return await self._operate(station_id, "unlock", {"connector": connector})

    async def _operate(self, station_id: bytes, op: str, body: dict[str, Any]) -> str:
        if station_id not in self._where:
            await self.refresh()
        found = self._where.get(station_id)
        if found is None:
            return "EVSE_INOPERATIVE"  # no gateway serves it
        url, token, cp_id = found
        try:
            async with self._http.post(f"{url}/v1/stations/{cp_id}/{op}", json=body,
                                       headers=_auth(token)) as resp:
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
    if status == 409:
        refused = isinstance(answer, dict) and answer.get("status") is not None
        return "REJECTED" if refused else "EVSE_INOPERATIVE"
    return "FAILED"
