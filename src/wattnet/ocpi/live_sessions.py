"""Live sessions: the gateways' transaction events (admin API ``GET /v1/transactions``,
``gateway/tx_feed.py``) as OCPI Sessions in ``LiveState``, from where they are pushed.

``open`` -> a Session ACTIVE (PUT), ``meter`` -> kwh and total_cost so far (PATCH), ``end`` ->
COMPLETED with the receipt's energy and billed cost (PATCH). The Session id is derived from the
station, connector and start time (``mapping.session_ocpi_id``), which the settled receipt
carries too: its CDR names the same session_id. A session started by an eMSP's START_SESSION is
recognised by its idToken's hash (``id_token_hash`` of the token's uid, which the gateway
authorized) and carries that token; others carry the driver's APP_USER token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from wattnet.domain import id_token_hash, station_id_for
from wattnet.econ.settlement import session_cost
from wattnet.ocpi.live import LiveState
from wattnet.ocpi.mapping import Mapper, session, session_ocpi_id, session_progress

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Open:
    session_id: str
    credit_id: int
    tariff: int
    start_wh: int | None
    energy_wh: int = 0


class SessionTracker:
    def __init__(self, mapper: Mapper, live: LiveState) -> None:
        self._mapper = mapper
        self._live = live
        self._open: dict[tuple[str, str], _Open] = {}
        self._emsp: dict[str, dict[str, Any]] = {}  # id token hash (hex) -> eMSP token
        self.transaction: dict[str, tuple[str, str]] = {}  # session id -> (cp id, tx key)

    def started_with(self, token: dict[str, Any]) -> None:
        """A START_SESSION goes out with ``token``: the session it opens carries it."""
        self._emsp[id_token_hash(str(token["uid"])).hex()] = token

    def apply(self, ev: dict[str, Any]) -> None:
        """One feed event; malformed ones are logged and skipped."""
        try:
            key = (str(ev["chargePointId"]), str(ev["transaction"]))
            kind = ev["event"]
            if kind == "open":
                self._opened(key, ev)
            elif kind in ("meter", "end") and key in self._open:
                self._progress(key, ev, ended=kind == "end")
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("gateway transaction event %r skipped: %s", ev, exc)

    def _opened(self, key: tuple[str, str], ev: dict[str, Any]) -> None:
        credit_id = int(ev["creditId"])
        if credit_id not in self._mapper.cfg.currencies:
            return  # a credit this CPO does not publish
        station = station_id_for(key[0])
        connector, start = int(ev["connector"]), int(ev["startTime"])
        sid = session_ocpi_id(station, connector, start)
        token = self._emsp.get(str(ev.get("idTokenHash")))
        if token is not None:
            self._live.bind_token(sid, token)
        start_wh = None if ev.get("meterStartWh") is None else int(ev["meterStartWh"])
        self._open[key] = _Open(sid, credit_id, int(ev["tariff"]), start_wh)
        self.transaction[sid] = key
        known = self._live.session(sid)
        if known is not None and known["status"] == "ACTIVE":
            return  # a restarted gateway reporting it again
        driver = bytes.fromhex(str(ev["driver"]).removeprefix("0x"))
        self._live.put_session(session(self._mapper, station, connector, start, token, driver,
                                       credit_id, now=int(ev["at"]), energy_wh=0, cost=0))

    def _progress(self, key: tuple[str, str], ev: dict[str, Any], *, ended: bool) -> None:
        o = self._open[key]
        if ended:
            energy, cost = int(ev["energyWh"]), int(ev["cost"])
            self._open.pop(key)
            self.transaction.pop(o.session_id, None)
        else:
            if o.start_wh is None and ev.get("meterStartWh") is not None:
                o.start_wh = int(ev["meterStartWh"])
            register = int(ev["registerWh"])
            energy = max(0, register - (register if o.start_wh is None else o.start_wh))
            if energy == o.energy_wh:
                return
            cost = int(session_cost(energy, o.tariff))
        o.energy_wh = energy
        self._live.patch_session(o.session_id, session_progress(
            self._mapper, o.credit_id, now=int(ev["at"]), energy_wh=energy, cost=cost,
            end=int(ev["endTime"]) if ended else None))
