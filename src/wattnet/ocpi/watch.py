"""What the CPO pushes besides live state: Locations when the registry changes (PUT) and CDRs
when receipts settle (POST). Every ``push_poll_s`` the watcher reads the station list and the
receipts settled since its last look: a Location whose mapped object (without the EVSE
statuses, which are PATCHed as they change; a station (de)activated on chain counts) differs
from the last one seen is PUT, a newly settled receipt is POSTed as a CDR. It starts from what
exists when the server starts: older objects are there to pull.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from wattnet.ocpi.push import Pusher
from wattnet.ocpi.senders import FOREVER, cdr_of
from wattnet.ocpi.server import Cpo

log = logging.getLogger(__name__)
BATCH = 500


def _without_status(loc: dict[str, Any]) -> str:
    evses = [{k: v for k, v in e.items() if k not in ("status", "last_updated")}
             for e in loc.get("evses", [])]
    return json.dumps({**loc, "evses": evses, "last_updated": None}, sort_keys=True)


class Watcher:
    def __init__(self, cpo: Cpo, pusher: Pusher) -> None:
        self._cpo = cpo
        self._pusher = pusher
        self._locations: dict[str, str] | None = None
        self._since = int(cpo.clock())
        self._seen: set[tuple[bytes, int]] = set()  # pushed receipts settled at ``_since``

    async def tick(self) -> None:
        stations = await asyncio.to_thread(self._cpo.stations.stations)
        current = {}
        for st in stations:
            loc = self._cpo.mapper.location(st, self._cpo.live.statuses(st.station_id))
            current[str(loc["id"])] = (loc, f"{st.active}:{_without_status(loc)}")
        if self._locations is not None:
            for lid, (loc, digest) in current.items():
                if self._locations.get(lid) != digest:
                    self._pusher.location(loc)
        self._locations = {lid: digest for lid, (_, digest) in current.items()}
        by_id = {st.station_id: st for st in stations}
        while True:
            limit = BATCH + len(self._seen)
            rows = await asyncio.to_thread(self._cpo.receipts.page, self._since, FOREVER, 0,
                                           limit)
            new = [r for r in rows if (r.station_id, r.session_id) not in self._seen]
            for r in new:
                cdr = cdr_of(self._cpo, r, by_id.get(r.station_id))
                if cdr is not None:
                    self._pusher.cdr(cdr)
                if r.settled_at > self._since:
                    self._since, self._seen = r.settled_at, set()
                self._seen.add((r.station_id, r.session_id))
            if not new or len(rows) < limit:
                return

    async def run(self, every_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # a bad read must not end the pushes; logged in full
                log.exception("OCPI push watcher: reading stations or receipts failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
