"""Pushes to registered receivers: an EVSE's status as a Location PATCH
(``/locations/{country_code}/{party_id}/{location_id}/{evse_uid}``, body ``{status,
last_updated}``) and sessions as PUT ``/sessions/{country_code}/{party_id}/{session_id}`` to the
eMSP that owns the session's token. Best effort: a receiver that is down catches up by pulling
(OCPI requires Pull; Push is optional), so a failed push is logged, not retried."""

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
        cpo.live.on_status.append(self.evse_status)
        cpo.live.on_session.append(self.session)

    def _send(self, partner: Partner, method: str, url: str, body: dict[str, Any]) -> None:
        async def go() -> None:
            try:
                await self._cpo.client.call(method, url, partner.token_b, body)
            except OcpiError as exc:
                log.warning("push %s %s failed: %s", method, url, exc.message)

        task = asyncio.get_running_loop().create_task(go())
        self._cpo.tasks.add(task)
        task.add_done_callback(self._cpo.tasks.discard)

    def _path(self, *ids: str) -> str:
        return "/".join([self._cpo.cfg.country_code, self._cpo.cfg.party_id, *ids])

    def evse_status(self, station_id: bytes, connector: int, status: str, when: str) -> None:
        path = self._path(location_id(station_id), evse_uid(station_id, connector))
        for partner in self._cpo.partners.partners():
            base = partner.url("locations")
            if base:
                self._send(partner, "PATCH", f"{base.rstrip('/')}/{path}",
                           {"status": status, "last_updated": when})

    def session(self, session: dict[str, Any]) -> None:
        owner = (session["cdr_token"]["country_code"].upper(),
                 session["cdr_token"]["party_id"].upper())
        for partner in self._cpo.partners.partners():
            base = partner.url("sessions")
            if base and owner in partner.parties():
                self._send(partner, "PUT", f"{base.rstrip('/')}/{self._path(session['id'])}",
                           session)
