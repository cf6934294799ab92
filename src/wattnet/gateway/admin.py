"""The operator's admin HTTP API: remote operations on connected charge points.

``GET /v1/stations`` lists the site's charge points (connected or not, OCPP version, the last
status each connector or EVSE reported, as ``{"<id>": {"status", "at"}}``);
``GET /v1/transactions?after=<seq>&wait=<s>&limit=<n>`` answers ``{"events", "next", "gap"}``:
the live session events after ``after`` (:mod:`wattnet.gateway.tx_feed`), waiting up to ``wait``
seconds (at most 30) for one when there is none; ``POST /v1/stations/{cp}/{op}`` with a JSON
object of parameters runs one operation of :mod:`wattnet.gateway.remote_ops` on that charger and
answers what the charger said.

Every request carries ``Authorization: Bearer <token>`` (the token from the environment variable
the config names, compared in constant time). Errors are ``{"error": "<one line>"}``: 401 missing
or wrong token, 404 unknown charge point, 400 unknown operation or bad parameters, 409 charger not
connected or refusing (its status in ``status``), 502 a CallError or an invalid answer, 504 no
answer in time.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from websockets.exceptions import ConnectionClosed

from wattnet.gateway.config import StationConfig
from wattnet.gateway.errors import AdminInputError, ChargerRefusedError
from wattnet.gateway.remote_ops import DONE, OPS, Context, build, outcome
from wattnet.gateway.site_chargepoint import SiteChargePoint
from wattnet.gateway.smart_charging import ChargingSchedule
from wattnet.gateway.tx_feed import TxFeed

log = logging.getLogger(__name__)


def _error(http_status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=http_status)


class AdminApi:
    def __init__(self, token: str, stations: Mapping[str, StationConfig],
                 connected: Callable[[str], SiteChargePoint | None],
                 schedules: Mapping[str, ChargingSchedule], clock: Callable[[], float],
                 statuses: Callable[[str], Mapping[int, tuple[str, float]]] = lambda cp: {},
                 feed: TxFeed | None = None) -> None:
        self._token = token.encode()
        self._stations = stations
        self._connected = connected
        self._schedules = schedules
        self._clock = clock
        self._statuses = statuses
        self._feed = feed or TxFeed(clock)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not hmac.compare_digest(given.encode(), self._token):
            log.warning("admin API: refused a request from %s (token)", request.remote)
            response = _error(401, "missing or wrong admin token (Authorization: Bearer …)")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        try:
            result: web.StreamResponse = await handler(request)
        except web.HTTPException:
            raise
        except Exception:  # a bug of ours: logged in full, answered in one line
            log.exception("admin API: %s %s failed", request.method, request.path)
            return _error(500, "the gateway failed to carry out this request; see its log")
        return result

    async def stations(self, request: web.Request) -> web.Response:
        rows = []
        for cp_id in sorted(self._stations):
            cp = self._connected(cp_id)
            rows.append({"chargePointId": cp_id, "connected": cp is not None,
                         "version": None if cp is None else cp.version.value,
                         "connectors": self._stations[cp_id].connectors,
                         "status": {str(n): {"status": s, "at": at} for n, (s, at)
                                    in sorted(self._statuses(cp_id).items())}})
        return web.json_response(rows)

    async def transactions(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", "0"))
            wait = min(float(request.query.get("wait", "0")), 30.0)
            limit = max(1, min(int(request.query.get("limit", "500")), 5000))
        except ValueError:
            return _error(400, "after, limit: integers; wait: seconds")
        await self._feed.wait(after, wait)
        events, nxt, gap = self._feed.since(after, limit)
        return web.json_response({"events": events, "next": nxt, "gap": gap})

    async def operate(self, request: web.Request) -> web.Response:
        cp_id, op = request.match_info["cp"], request.match_info["op"]
        station = self._stations.get(cp_id)
        if station is None:
            return _error(404, f"no charge point {cp_id!r} at this site")
        if op not in OPS:
            return _error(400, f"unknown operation {op!r}; use one of {', '.join(OPS)}")
        try:
            raw = await request.json() if request.can_read_body else {}
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"the body is not JSON: {exc}")
        if not isinstance(raw, dict):
            return _error(400, "the body must be a JSON object of parameters")
        cp = self._connected(cp_id)
        if cp is None:
            return _error(409, f"charge point {cp_id} is not connected; try when it is online")
        try:
            payload = build(op, raw, station, Context(cp.version, self._schedules, self._clock()))
        except AdminInputError as exc:
            return _error(400, str(exc))
        action = type(payload).__name__
        try:
            result = await cp.request(payload)
        except ChargerRefusedError as exc:
            return _error(502, str(exc))
        except TimeoutError:
            return _error(504, f"charge point {cp_id} did not answer {action} in time")
        except ConnectionClosed:
            return _error(409, f"charge point {cp_id} disconnected before answering {action}")
        status = outcome(result)
        log.info("admin %s on %s: %s -> %s", op, cp_id, action, status or "answered")
        body = {"chargePointId": cp_id, "op": op, "action": action,
                "version": cp.version.value, "status": status, "result": result}
        if status is not None and status not in DONE:
            return _error(409, f"charge point {cp_id} answered {action} with {status}", **body)
        return web.json_response(body)

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._auth], client_max_size=64 * 1024)
        app.router.add_get("/v1/stations", self.stations)
        app.router.add_get("/v1/transactions", self.transactions)
        app.router.add_post("/v1/stations/{cp}/{op}", self.operate)
        return app
