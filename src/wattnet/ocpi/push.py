"""Pushes to registered receivers (the modules a partner listed with role RECEIVER):

- ``locations``: an EVSE's status as PATCH ``/{country_code}/{party_id}/{location_id}/{evse_uid}``
  (``{status, last_updated}``); a new or changed Location (registry change) as PUT
  ``/{country_code}/{party_id}/{location_id}``.
- ``sessions``: a new Session as PUT ``/{country_code}/{party_id}/{session_id}``, its progress
  and end as PATCH of the same URL, to the partners that see it (``Cpo.sees_session``).
- ``cdrs``: a CDR as POST to the receiver's URL, to every partner (all see every CDR).

Pushes to one URL go out in order (a PATCH never overtakes its PUT). Best effort: a receiver
that is down catches up by pulling (OCPI requires Pull; Push is optional), so a failed push is
logged, not retried.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from wattnet.ocpi.envelope import OcpiError
from wattnet.ocpi.mapping import evse_uid, location_id
from wattnet.ocpi.partners import Partner
from wattnet.ocpi.server import Cpo

log = logging.getLogger(__name__)


class Pusher:
    def __init__(self, cpo: Cpo) -> None:
        self._cpo = cpo
        self._last: dict[str, asyncio.Task[None]] = {}  # URL -> its latest push
        cpo.live.on_status.append(self.evse_status)
        cpo.live.on_session.append(self.session)

    def _send(self, partner: Partner, method: str, url: str, body: dict[str, Any]) -> None:
        before = self._last.get(url)

        async def go() -> None:
            if before is not None:
                await asyncio.wait([before])
            try:
                await self._cpo.client.call(method, url, partner.token_b, body)
            except OcpiError as exc:
                log.warning("push %s %s failed: %s", method, url, exc.message)

        task = asyncio.get_running_loop().create_task(go())
        self._last[url] = task
        self._cpo.tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._cpo.tasks.discard(t)
            if self._last.get(url) is t:
                del self._last[url]

        task.add_done_callback(done)

    def _path(self, *ids: str) -> str:
        return "/".join([self._cpo.cfg.country_code, self._cpo.cfg.party_id, *ids])

    def _each(self, module: str) -> list[tuple[Partner, str]]:
        return [(p, base.rstrip("/")) for p in self._cpo.partners.partners()
                if (base := p.url(module))]

    def evse_status(self, station_id: bytes, connector: int, status: str, when: str) -> None:
        path = self._path(location_id(station_id), evse_uid(station_id, connector))
        for partner, base in self._each("locations"):
            self._send(partner, "PATCH", f"{base}/{path}",
                       {"status": status, "last_updated": when})

    def location(self, loc: dict[str, Any]) -> None:
        for partner, base in self._each("locations"):
            self._send(partner, "PUT", f"{base}/{self._path(str(loc['id']))}", loc)

    def session(self, session: dict[str, Any], changed: dict[str, Any] | None) -> None:
        for partner, base in self._each("sessions"):
            if self._cpo.sees_session(partner, session):
                self._send(partner, "PUT" if changed is None else "PATCH",
                           f"{base}/{self._path(session['id'])}",
                           dict(session) if changed is None else changed)

    def cdr(self, cdr: dict[str, Any]) -> None:
        for partner, base in self._each("cdrs"):
            self._send(partner, "POST", base, cdr)
