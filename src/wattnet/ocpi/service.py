"""``wattnet ocpi run``: the CPO server on the oracle's database, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from wattnet.aio import stop_on_signals
from wattnet.ocpi.client import PartnerClient
from wattnet.ocpi.config import OcpiConfig, OcpiConfigError
from wattnet.ocpi.gateways import GatewayLink
from wattnet.ocpi.live import ChargerControl, LiveState
from wattnet.ocpi.live_sessions import SessionTracker
from wattnet.ocpi.mapping import Mapper
from wattnet.ocpi.partners import PartnerStore
from wattnet.ocpi.push import Pusher
from wattnet.ocpi.server import Cpo, build_app
from wattnet.ocpi.sources import JsonStations, SettledReceipts, StationSource
from wattnet.ocpi.watch import Watcher
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store

log = logging.getLogger(__name__)


def station_source(cfg: OcpiConfig) -> StationSource:
    if cfg.stations.startswith("json:"):
        return JsonStations(Path(cfg.stations[5:]))
    if cfg.stations == "web3":
        from wattnet.chain.web3_client import ChainClient
        from wattnet.ocpi.registry_web3 import RegistryStations

        return RegistryStations(ChainClient.from_env(), cfg.currencies)
    raise OcpiConfigError(f"stations: {cfg.stations!r}; use json:<file> or web3")


def open_partners(cfg: OcpiConfig, clock: Callable[[], float] = time.time) -> tuple[
        Store, PartnerStore]:
    store = open_store(cfg.database, cfg.pg_schema)
    partners = PartnerStore(store, clock)
    try:
        partners.migrate()
    except BaseException:
        store.close()
        raise
    return store, partners


async def serve(cfg: OcpiConfig, ready: Callable[[str], None] | None = None,
                control: ChargerControl | None = None, live: LiveState | None = None,
                stop: asyncio.Event | None = None) -> None:
    store, partners = open_partners(cfg)
    live = live or LiveState(time.time)
    try:
        stop = stop or stop_on_signals()
        async with aiohttp.ClientSession() as http:
            loops = []
            if control is None and cfg.gateways:
                link = GatewayLink(http, cfg.gateways, live, SessionTracker(Mapper(cfg), live))
                control = link
                loops += [link.poll(cfg.gateway_poll_s, stop),
                          link.follow(stop, cfg.gateway_poll_s)]
            cpo = Cpo(cfg, partners, PartnerClient(http, (cfg.country_code, cfg.party_id),
                                                   cfg.push_timeout_s),
                      station_source(cfg), SettledReceipts(store, tuple(cfg.currencies)),
                      live, time.time, control)
            loops.append(Watcher(cpo, Pusher(cpo)).run(cfg.push_poll_s, stop))
            polling = asyncio.gather(*loops)
            runner = web.AppRunner(build_app(cpo), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, cfg.host, cfg.port).start()
            log.info("OCPI CPO %s*%s listening on %s:%d", cfg.country_code, cfg.party_id,
                     cfg.host, cfg.port)
            if ready is not None:
                ready(cfg.versions_url)
            await stop.wait()
            await polling
            await runner.cleanup()
    finally:
        store.close()
