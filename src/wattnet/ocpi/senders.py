"""Sender interfaces: locations, tariffs, sessions and cdrs (GET, paginated).

``offset``/``limit``/``date_from``/``date_to`` as in the spec (``last_updated`` in
[date_from, date_to)); the answer carries ``X-Total-Count`` (matches of the filter),
``X-Limit`` (this server's page size cap) and, unless it is the last page, a ``Link`` to the next
page with the same filters. A malformed or negative parameter is OCPI 2001.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from wattnet.ocpi.envelope import OcpiError, StatusCode
from wattnet.ocpi.mapping import location_id, session_ocpi_id
from wattnet.ocpi.server import CPO, Cpo, partner_of
from wattnet.ocpi.sources import SettledReceipt, StationView
from wattnet.ocpi.types import parse_datetime

FOREVER = 2**62


@dataclass(frozen=True, slots=True)
class Page:
    offset: int
    limit: int
    since: float
    until: float


def page_of(request: web.Request, cap: int) -> Page:
    q = request.query
    try:
        offset = int(q.get("offset", "0"))
        limit = min(int(q.get("limit", str(cap))), cap)
        since = parse_datetime(q["date_from"]) if "date_from" in q else 0.0
        until = parse_datetime(q["date_to"]) if "date_to" in q else float(FOREVER)
    except ValueError as exc:
        raise OcpiError(StatusCode.INVALID_PARAMETERS, f"pagination: {exc}") from exc
    if offset < 0 or limit < 1:
        raise OcpiError(StatusCode.INVALID_PARAMETERS,
                        "pagination: offset must be >= 0 and limit >= 1")
    return Page(offset, limit, since, until)


def paged(cpo: Cpo, request: web.Request, page: Page, items: list[Any],
          total: int) -> web.Response:
    response = cpo.ok(items)
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Limit"] = str(cpo.cfg.page_limit)
    nxt = page.offset + len(items)
    if items and nxt < total:
        query = {**request.query, "offset": str(nxt), "limit": str(page.limit)}
        url = cpo.cfg.base_url.rstrip("/") + request.path + "?" + urlencode(query)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


def _within(page: Page, obj: dict[str, Any]) -> bool:
    return page.since <= parse_datetime(str(obj["last_updated"])) < page.until


async def _stations(cpo: Cpo) -> list[StationView]:
    return await asyncio.to_thread(cpo.stations.stations)


async def _list(request: web.Request,
                build: Callable[[Cpo, list[StationView]], list[dict[str, Any]]]) -> web.Response:
    cpo = request.app[CPO]
    partner_of(request)
    page = page_of(request, cpo.cfg.page_limit)
    matching = [o for o in build(cpo, await _stations(cpo)) if _within(page, o)]
    return paged(cpo, request, page, matching[page.offset:page.offset + page.limit],
                 len(matching))


def _locations(cpo: Cpo, stations: list[StationView]) -> list[dict[str, Any]]:
    return [cpo.mapper.location(s, cpo.live.statuses(s.station_id)) for s in stations]


def _tariffs(cpo: Cpo, stations: list[StationView]) -> list[dict[str, Any]]:
    return [t for s in stations for t in cpo.mapper.tariffs(s)]


async def get_locations(request: web.Request) -> web.Response:
    return await _list(request, _locations)


async def get_tariffs(request: web.Request) -> web.Response:
    return await _list(request, _tariffs)


async def get_location_object(request: web.Request) -> web.Response:
    """One Location, EVSE or Connector; HTTP 404 with OCPI 2003 when unknown."""
    cpo = request.app[CPO]
    partner_of(request)
    m = request.match_info
    station = next((s for s in await _stations(cpo)
                    if location_id(s.station_id) == m["location_id"].lower()), None)
    if station is None:
        raise OcpiError(StatusCode.UNKNOWN_LOCATION, "unknown location", http=404)
    obj: dict[str, Any] = cpo.mapper.location(station, cpo.live.statuses(station.station_id))
    if "evse_uid" in m:
        evses = [e for e in obj["evses"] if e["uid"] == m["evse_uid"].lower()]
        if not evses:
            raise OcpiError(StatusCode.UNKNOWN_LOCATION, "unknown EVSE", http=404)
        obj = evses[0]
        if "connector_id" in m:
            conns = [c for c in obj["connectors"] if c["id"] == m["connector_id"]]
            if not conns:
                raise OcpiError(StatusCode.UNKNOWN_LOCATION, "unknown connector", http=404)
            obj = conns[0]
    return cpo.ok(obj)


async def get_sessions(request: web.Request) -> web.Response:
    cpo = request.app[CPO]
    partner = partner_of(request)
    page = page_of(request, cpo.cfg.page_limit)
    matching = [s for s in cpo.live.sessions() if _within(page, s)
                and cpo.sees_session(partner, s)]
    return paged(cpo, request, page, matching[page.offset:page.offset + page.limit],
                 len(matching))


async def get_cdrs(request: web.Request) -> web.Response:
    """Settled receipts as CDRs. Every partner sees every CDR of the network (WattNet settles
    on a public chain: the same facts are public there); eMSP tokens show as their own."""
    cpo = request.app[CPO]
    partner_of(request)
    page = page_of(request, cpo.cfg.page_limit)
    since, until = int(page.since), int(min(page.until, FOREVER))
    total, rows = await asyncio.to_thread(
        lambda: (cpo.receipts.count(since, until),
                 cpo.receipts.page(since, until, page.offset, page.limit)))
    stations = {s.station_id: s for s in await _stations(cpo)}
    cdrs = [c for r in rows if (c := cdr_of(cpo, r, stations.get(r.station_id)))]
    return paged(cpo, request, page, cdrs, total)


def cdr_of(cpo: Cpo, r: SettledReceipt, st: StationView | None) -> dict[str, Any] | None:
    """A settled receipt's CDR, naming the eMSP token its session was started with."""
    token = cpo.live.token_of(session_ocpi_id(r.station_id, r.connector_id, r.start_time))
    return cpo.mapper.cdr(r, st, token)


def add_routes(app: web.Application, base: str) -> None:
    r = app.router
    r.add_get(f"{base}/locations", get_locations)
    r.add_get(f"{base}/locations/{{location_id}}", get_location_object)
    r.add_get(f"{base}/locations/{{location_id}}/{{evse_uid}}", get_location_object)
    r.add_get(f"{base}/locations/{{location_id}}/{{evse_uid}}/{{connector_id}}",
              get_location_object)
    r.add_get(f"{base}/tariffs", get_tariffs)
    r.add_get(f"{base}/sessions", get_sessions)
    r.add_get(f"{base}/cdrs", get_cdrs)

