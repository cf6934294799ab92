"""``wattnet app``'s HTTP server (aiohttp): the built web app and its read API.

GET /                      app/dist/index.html (the single-page app) and its assets
GET /api/config            chain id, contract addresses, the credits (token, symbol, decimals),
                           the map tiles when configured (wattnet.api.tiles); with a
                           WalletConnect project id, its settings (wattnet.api.walletconnect)
GET /api/stations          the registry's stations (current state, tariffs per credit id)
GET /api/network           network figures: stations, rated power, credits outstanding, owed;
                           sessions settled and their energy: from the event index when the
                           server has one, else from the oracle store (when it has one)
GET /api/sessions/{driver} the driver's sessions from the oracle store; 501 without a store
GET /api/receipts/{station}/{session}  one receipt as signed, with its OCMF meter records
POST /api/charge           a driver's signed ChargeRequest, relayed to the station's gateway
                           (wattnet.api.charge; the gateway checks the signature); 501 without
GET /api/availability      each station's connectors' live status from the gateways' admin APIs
                           (wattnet.api.availability; UNKNOWN where none reports)
GET /api/governance/parameters  every governed parameter: value on chain, bounds, setter
GET /api/governance/proposals   the governor's settings and proposals (state, votes, quorum,
                           timeline, decoded calls), newest first
GET /api/network/epochs    per weekly epoch: sessions settled, energy, fees and their split
                           per credit, WATT scheduled and claimed (the event index; 501 without)
GET /api/operators/{address}/earnings  an operator's earnings per station and epoch (the index)
POST /api/governance/propose    {key, value, description}: the value checked against the key's
                           bounds, the governor's propose arguments (wattnet.api.propose)
GET /healthz               200 when the node answers

Chain reads are blocking web3 calls: they run in the default executor so the server never
stalls. The server holds no key: every write is signed by the user's own wallet in the browser.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aiohttp import web

from wattnet.aio import stop_on_signals
from wattnet.api.availability import Availability
from wattnet.api.chain_reads import ChainReads
from wattnet.api.charge import ChargeDoors, charge_domain
from wattnet.api.figures import network_epochs, operator_earnings
from wattnet.api.governance import parameters, proposals
from wattnet.api.propose import proposal_calls
from wattnet.api.sessions import driver_sessions, receipt_detail, settled_totals
from wattnet.api.tiles import Tiles
from wattnet.api.walletconnect import WalletConnect
from wattnet.errors import ChainError, ConfigError, WattNetError
from wattnet.indexer import reads as index_reads
from wattnet.indexer.reads import proposals_created
from wattnet.oracle.store_base import Store

log = logging.getLogger(__name__)

READS: web.AppKey[ChainReads] = web.AppKey("reads", ChainReads)
STORE: web.AppKey[Store | None] = web.AppKey("store")
DIST: web.AppKey[Path] = web.AppKey("dist", Path)
DOORS: web.AppKey[ChargeDoors | None] = web.AppKey("doors")
LIVE: web.AppKey[Availability] = web.AppKey("live", Availability)
TILES: web.AppKey[Tiles | None] = web.AppKey("tiles")
WC: web.AppKey[WalletConnect | None] = web.AppKey("walletconnect")


async def _off_loop(fn: Callable[[], Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json(fn: Callable[[], Any]) -> web.Response:
    try:
        return web.json_response(await _off_loop(fn))
    except ChainError as exc:
        return _error(502, str(exc))
    except WattNetError as exc:
        return _error(400, str(exc))


async def get_config(request: web.Request) -> web.Response:
    reads, doors = request.app[READS], request.app[DOORS]
    tiles, wc = request.app[TILES], request.app[WC]

    def config() -> dict[str, Any]:
        out: dict[str, Any] = reads.config()
        if tiles is not None:
            out["tiles"] = asdict(tiles)
        if wc is not None:
            out["walletconnect"] = asdict(wc)
        if doors is not None:
            dep = reads.client.deployment
            out["charge"] = {"domain": charge_domain(dep.chain_id, dep.address("EnergyCredits")),
                             "stations": doors.stations()}
        return out
    return await _json(config)


async def get_stations(request: web.Request) -> web.Response:
    reads = request.app[READS]
    return await _json(lambda: [asdict(s) for s in reads.stations()])


async def get_availability(request: web.Request) -> web.Response:
    reads, live = request.app[READS], request.app[LIVE]
    return await _json(lambda: {"gateways": len(live.gateways),
                                "stations": live.of(reads.stations())})


async def get_network(request: web.Request) -> web.Response:
    reads, store = request.app[READS], request.app[STORE]

    def figures() -> dict[str, Any]:
        out: dict[str, Any] = reads.network(reads.stations())
        if reads.index is not None:
            reads.index.step()
            out.update(index_reads.settled_totals(reads.index.store))
        elif store is not None:
            out.update(settled_totals(store))
        return out
    return await _json(figures)


async def get_parameters(request: web.Request) -> web.Response:
    reads = request.app[READS]
    return await _json(lambda: reads.at_head("parameters", lambda: parameters(reads.client)))


async def get_proposals(request: web.Request) -> web.Response:
    reads = request.app[READS]

    def compute() -> dict[str, Any]:
        if reads.index is None:
            return proposals(reads.client)
        reads.index.step()
        return proposals(reads.client, proposals_created(reads.index.store))
    return await _json(lambda: reads.at_head("proposals", compute))


_NO_INDEX = "this app server keeps no event index"


async def get_epochs(request: web.Request) -> web.Response:
    reads = request.app[READS]
    index = reads.index
    if index is None:
        return _error(501, _NO_INDEX)
    return await _json(lambda: reads.at_head(
        "epochs", lambda: network_epochs(reads.client, index)))


async def get_earnings(request: web.Request) -> web.Response:
    index = request.app[READS].index
    if index is None:
        return _error(501, _NO_INDEX)
    who = request.match_info["address"]
    return await _json(lambda: operator_earnings(index, who))


async def post_propose(request: web.Request) -> web.Response:
    reads = request.app[READS]
    try:
        body = await request.json()
        key, value, description = (str(body[k]) for k in ("key", "value", "description"))
    except (ValueError, KeyError, TypeError):
        return _error(400, "send JSON with key, value and description")
    return await _json(lambda: proposal_calls(reads.client, key, value, description))


async def get_sessions(request: web.Request) -> web.Response:
    store = request.app[STORE]
    if store is None:
        return _error(501, "this app server has no oracle store (start it with --oracle-db)")
    driver = request.match_info["driver"]
    return await _json(lambda: [asdict(s) for s in driver_sessions(store, driver)])


async def get_receipt(request: web.Request) -> web.Response:
    store = request.app[STORE]
    if store is None:
        return _error(501, "this app server has no oracle store (start it with --oracle-db)")
    station, session = request.match_info["station"], request.match_info["session"]
    if not session.isdigit():
        return _error(400, f"{session!r} is not a session id")
    try:
        found = await _off_loop(lambda: receipt_detail(store, station, int(session)))
    except WattNetError as exc:
        return _error(400, str(exc))
    if found is None:
        return _error(404, "the oracle has no such receipt")
    return web.json_response(found)


async def post_charge(request: web.Request) -> web.Response:
    doors = request.app[DOORS]
    if doors is None:
        return _error(501, "this app server relays no remote starts (no gateway configured)")
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "the body is not JSON")
    status, answer = await doors.relay(body)
    return web.json_response(answer, status=status)


async def healthz(request: web.Request) -> web.Response:
    reads = request.app[READS]
    try:
        block = await _off_loop(reads.head)
    except ChainError as exc:
        return _error(503, str(exc))
    return web.json_response({"ok": True, "block": block})


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(request.app[DIST] / "index.html",
                            headers={"Cache-Control": "no-cache"})


def make_app(reads: ChainReads, dist: Path, store: Store | None = None,
             doors: ChargeDoors | None = None, live: Availability | None = None,
             tiles: Tiles | None = None,
             walletconnect: WalletConnect | None = None) -> web.Application:
    if not (dist / "index.html").is_file():
        raise ConfigError(f"no built app in {dist}: run `npm ci && npm run build` in app/ "
                          "(make app does both)")
    app = web.Application()
    app[READS] = reads
    app[STORE] = store
    app[DIST] = dist
    app[DOORS] = doors
    app[LIVE] = live or Availability(())
    app.cleanup_ctx.append(lambda _app: app[LIVE].polling())
    app[TILES] = tiles
    app[WC] = walletconnect
    app.router.add_get("/api/config", get_config)
    app.router.add_get("/api/stations", get_stations)
    app.router.add_get("/api/network", get_network)
    app.router.add_get("/api/availability", get_availability)
    app.router.add_get("/api/sessions/{driver}", get_sessions)
    app.router.add_get("/api/receipts/{station}/{session}", get_receipt)
    app.router.add_post("/api/charge", post_charge)
    app.router.add_get("/api/governance/parameters", get_parameters)
    app.router.add_get("/api/governance/proposals", get_proposals)
    app.router.add_get("/api/network/epochs", get_epochs)
    app.router.add_get("/api/operators/{address}/earnings", get_earnings)
    app.router.add_post("/api/governance/propose", post_propose)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", index)
    if (dist / "assets").is_dir():
        app.router.add_static("/assets", dist / "assets")
    return app


async def serve(app: web.Application, host: str, port: int, ready: Callable[[str], None],
                alongside: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; ``alongside`` runs in the same loop meanwhile (a failure
    there is logged, the server stays up)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    stop = stop_on_signals()
    task = asyncio.create_task(alongside()) if alongside is not None else None
    if task is not None:
        task.add_done_callback(_report_failure)
    ready(f"http://{host}:{port}/")
    await stop.wait()
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await runner.cleanup()


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the work beside the app server failed: %r", task.exception())
