"""The HTTP API (aiohttp).

POST /v1/receipts         one ``signed_to_json`` object -> 200 {"status", "reason"} after the
                          durable write; 400 {"error"} malformed/badly signed; 503 storage down
                          or "deferred" (its station is new here and the node's registry-read
                          budget is spent: send it again).
POST /v1/receipts:batch   a JSON array of them -> 200 {"results": [...]} (each item as above,
                          a rejected item as {"error"}), one transaction for the whole batch.
POST /v1/starts           a start notice (``wattnet.chain.start_notice``) -> 200 {"status":
                          "reserved"} or {"status": "refused", "reason"}; 400 {"error"} malformed
                          or not the station's; 503 when it cannot be judged now; 501 when
                          this oracle has no credit ledger (it then keeps arrival order only).
POST /v1/starts:batch     a JSON array of notices -> 200 {"results": [...]}, each as above: the
                          answer, {"error"} (malformed or not the station's), or
                          {"unavailable"} (cannot be judged now: send that one again); judged
                          and recorded in the same groups as single notices.
GET  /v1/readings/{stationId}/{sessionId}
                          the signed meter records a stored receipt commits to, for anyone who
                          checks or challenges it on chain (docs/oracle.md); 404 when unknown.
GET  /metrics             Prometheus text.        GET /healthz   200 when storage answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from wattnet.chain.start_notice import NoticeError
from wattnet.oracle.errors import DirectoryUnavailable, SettlementError, StorageUnavailable
from wattnet.oracle.ingest import DEFERRED, REJECTED, GroupCommitter, Malformed
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.notices import NoticeDesk
from wattnet.oracle.store_base import Store

log = logging.getLogger(__name__)

COMMITTER: web.AppKey[GroupCommitter] = web.AppKey("committer", GroupCommitter)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
STORE: web.AppKey[Store] = web.AppKey("store", Store)
MAX_ITEMS: web.AppKey[int] = web.AppKey("max_items", int)
NOTICES: web.AppKey[NoticeDesk | None] = web.AppKey("notices")
GOSSIP: web.AppKey[Callable[[list[Any]], None] | None] = web.AppKey("gossip")
GOSSIP_HEADER = "X-WattNet-Gossip"  # a receipt a committee peer passed on: not passed on again


def _pass_on(request: web.Request, items: list[Any], statuses: list[str]) -> None:
    """A committee node passes receipts it accepted to its peers (``committee_api.Gossip``)."""
    gossip = request.app[GOSSIP]
    if gossip is None or request.headers.get(GOSSIP_HEADER):
        return
    accepted = [obj for obj, status in zip(items, statuses, strict=True) if status == "accepted"]
    if accepted:
        gossip(accepted)


async def _decode(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return Malformed(f"body is not JSON: {exc}", raw[:2048].decode("utf-8", "replace"))


Unavailable = (StorageUnavailable, DirectoryUnavailable)


def _unavailable(exc: Exception) -> web.Response:
    return web.json_response({"error": str(exc)}, status=503)


async def post_receipt(request: web.Request) -> web.Response:
    started = time.perf_counter()
    obj = await _decode(request)
    try:
        (outcome,) = await request.app[COMMITTER].submit([obj])
    except Unavailable as exc:
        return _unavailable(exc)
    request.app[METRICS].observe_ack(time.perf_counter() - started)
    _pass_on(request, [obj], [outcome.status])
    status = {REJECTED: 400, DEFERRED: 503}.get(outcome.status, 200)
    return web.json_response(outcome.to_json(), status=status)


async def post_batch(request: web.Request) -> web.Response:
    started = time.perf_counter()
    obj = await _decode(request)
    if isinstance(obj, dict) and set(obj) == {"receipts"}:
        obj = obj["receipts"]
    if not isinstance(obj, list):
        (outcome,) = await request.app[COMMITTER].submit(
            [obj if isinstance(obj, Malformed) else Malformed("batch body must be a JSON array",
                                                               json.dumps(obj)[:2048])]
        )
        return web.json_response(outcome.to_json(), status=400)
    limit = request.app[MAX_ITEMS]
    if len(obj) > limit:
        return web.json_response(
            {"error": f"batch of {len(obj)} items is above the limit of {limit}; split it"},
            status=413,
        )
    try:
        outcomes = await request.app[COMMITTER].submit(obj)
    except Unavailable as exc:
        return _unavailable(exc)
    request.app[METRICS].observe_ack(time.perf_counter() - started)
    _pass_on(request, obj, [o.status for o in outcomes])
    return web.json_response({"results": [o.to_json() for o in outcomes]})


async def post_start(request: web.Request) -> web.Response:
    desk = request.app[NOTICES]
    if desk is None:
        return web.json_response({"error": "this oracle does not take start notices (no credit "
                                           "ledger configured)"}, status=501)
    obj = await _decode(request)
    if isinstance(obj, Malformed):
        return web.json_response({"error": obj.reason}, status=400)
    try:
        answer = await desk.admit_async(obj)
    except NoticeError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except (*Unavailable, SettlementError) as exc:
        return _unavailable(exc)
    return web.json_response(answer.to_json())


async def post_starts_batch(request: web.Request) -> web.Response:
    """Many notices in one request (a gateway's notices of the last few milliseconds): each
    goes through the same desk as a single notice, so the answers are the same."""
    desk = request.app[NOTICES]
    if desk is None:
        return web.json_response({"error": "this oracle does not take start notices (no credit "
                                           "ledger configured)"}, status=501)
    obj = await _decode(request)
    if isinstance(obj, Malformed) or not isinstance(obj, list):
        reason = obj.reason if isinstance(obj, Malformed) else "body must be a JSON array"
        return web.json_response({"error": reason}, status=400)
    limit = request.app[MAX_ITEMS]
    if len(obj) > limit:
        return web.json_response(
            {"error": f"batch of {len(obj)} notices is above the limit of {limit}; split it"},
            status=413)
    answers = await asyncio.gather(*(desk.admit_async(o) for o in obj), return_exceptions=True)
    results: list[dict[str, Any]] = []
    for answer in answers:
        if isinstance(answer, NoticeError):
            results.append({"error": str(answer)})
        elif isinstance(answer, (*Unavailable, SettlementError)):
            results.append({"unavailable": str(answer)})
        elif isinstance(answer, BaseException):
            raise answer
        else:
            results.append(answer.to_json())
    return web.json_response({"results": results})


def path_key(request: web.Request) -> tuple[bytes, int] | None:
    """(station id, session id) of a ``/{station}/{session}`` path, None when malformed."""
    try:
        station = bytes.fromhex(request.match_info["station"].removeprefix("0x"))
        session = int(request.match_info["session"])
    except ValueError:
        return None
    return (station, session) if len(station) == 32 and 0 <= session < 2**64 else None


async def get_readings(request: web.Request) -> web.Response:
    key = path_key(request)
    if key is None:
        return web.json_response(
            {"error": "use /v1/readings/<0x + 64 hex station id>/<session id 0..2**64-1>"},
            status=400)
    station_id, session_id = key
    try:
        found = request.app[STORE].readings(station_id, session_id)
    except StorageUnavailable as exc:
        return _unavailable(exc)
    if found is None:
        return web.json_response({"error": "no receipt stored for this station and session"},
                                 status=404)
    return web.json_response(found)


async def get_metrics(request: web.Request) -> web.Response:
    return web.Response(text=request.app[METRICS].render(),
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Prometheus-Format": "0.0.4"})


async def get_health(request: web.Request) -> web.Response:
    try:
        request.app[STORE].ping()
    except StorageUnavailable as exc:
        return _unavailable(exc)
    return web.json_response({"ok": True})


def build_app(
    committer: GroupCommitter, metrics: Metrics, store: Store, max_body_bytes: int,
    max_items: int, on_cleanup: Callable[[], None] | None = None,
    notices: NoticeDesk | None = None, gossip: Callable[[list[Any]], None] | None = None,
) -> web.Application:
    app = web.Application(client_max_size=max_body_bytes)
    app[COMMITTER] = committer
    app[METRICS] = metrics
    app[STORE] = store
    app[MAX_ITEMS] = max_items
    app[NOTICES] = notices
    app[GOSSIP] = gossip
    app.router.add_post("/v1/starts", post_start)
    app.router.add_post("/v1/starts:batch", post_starts_batch)
    app.router.add_post("/v1/receipts", post_receipt)
    app.router.add_post("/v1/receipts:batch", post_batch)
    app.router.add_get("/v1/readings/{station}/{session}", get_readings)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", get_health)
    if on_cleanup is not None:
        cleanup = on_cleanup

        async def _cleanup(_: web.Application) -> None:
            cleanup()

        app.on_cleanup.append(_cleanup)
    return app
