"""The gateway process: WebSocket listeners, the handshake checks, and connected stations.

One plain listener (security profile 1) and one TLS listener (profiles 2 and 3, TLS 1.2+) share
one handler. The charge point id is the last path segment; the subprotocol (``ocpp2.0.1`` or
``ocpp1.6``) picks the handler class. Refusals (auth, downgrade, certificate, subprotocol) are
HTTP answers to the handshake, so a refused client never gets to send an OCPP message.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from wattnet.aio import stop_on_signals
from wattnet.chain.eip712 import Domain
from wattnet.domain import OcppVersion
from wattnet.gateway.admin import AdminApi
from wattnet.gateway.app import AppFrontDoor, app_domain, new_app_token
from wattnet.gateway.config import GatewayConfig
from wattnet.gateway.credits import CreditCache, CreditSource
from wattnet.gateway.errors import StationOfflineError
from wattnet.gateway.forwarder import Forwarder
from wattnet.gateway.handlers16 import ChargePoint16
from wattnet.gateway.handlers201 import ChargePoint201
from wattnet.gateway.notices import NoticeSender
from wattnet.gateway.security import (
    REFUSAL_STATUS,
    AuthGuard,
    charge_point_id_from_path,
    server_ssl_context,
)
from wattnet.gateway.sessions import SessionService
from wattnet.gateway.signer import Signer
from wattnet.gateway.site_chargepoint import SiteChargePoint, VendorHandler
from wattnet.gateway.store import GatewayStore
from wattnet.gateway.transactions import Transaction
from wattnet.gateway.tx_feed import TxFeed

log = logging.getLogger(__name__)


def _no_notice(tx: Transaction) -> None:
    """Not forwarding (tests of the site alone): the oracle hears of nothing."""


SUBPROTOCOLS = (OcppVersion.V201.value, OcppVersion.V16.value)  # our preference order


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        source: CreditSource,
        signers: Mapping[str, Signer],
        *,
        clock: Callable[[], float] = time.time,
        id_generator: Callable[[], str] = lambda: str(uuid.uuid4()),
        forward: bool = True,
        retry_base_s: float = 1.0,
    ) -> None:
        missing = set(config.stations) - set(signers)
        if missing:
            raise StationOfflineError(f"no signer for stations {sorted(missing)}")
        self.config = config
        self.clock = clock
        self.id_generator = id_generator
        self.store = GatewayStore(config.data_dir / "gateway.sqlite3")
        self.cache = CreditCache(source, clock, refresh_s=config.credit_refresh_s,
                                 pending_ttl_s=config.pending_cost_ttl_s)
        self.forwarder = Forwarder(self.store, config.oracle_urls, clock,
                                   required_acks=config.oracle_acks, base_delay_s=retry_base_s)
        self.notices = NoticeSender(config.oracle_urls, signers,
                                    Domain(config.chain_id, config.settlement).separator,
                                    self._on_held, lambda cp, tx: self.service.is_open(cp, tx),
                                    base_delay_s=retry_base_s)
        self.feed = TxFeed(clock)  # live session events for the admin API (OCPI sessions)
        announce = self.notices.announce if forward else _no_notice

        def started(tx: Transaction) -> None:
            announce(tx)
            self.feed.opened(tx)

        self.service = SessionService(config, self.store, self.cache, signers, clock,
                                      on_receipt=self.forwarder.wake, on_start=started,
                                      on_meter=self.feed.metered, on_end=self.feed.ended)
        self.stations: dict[str, SiteChargePoint] = {}
        self.auth = AuthGuard(config.stations, workers=config.auth_workers,
                              queue=config.auth_queue,
                              failures_per_id=config.auth_failures_per_id,
                              failures_per_source=config.auth_failures_per_source,
                              window_s=config.auth_window_s)
        # vendorId -> handler(cp_id, message_id, data) -> (status, data) or None for an
        # unknown message id; DataTransfer from other vendors is answered UnknownVendorId.
        self.vendors: dict[str, VendorHandler] = {}
        self._servers: list[Server] = []
        self._forward = forward
        self.ports: dict[str, int] = {}
        self._http_runners: list[web.AppRunner] = []
        self._gc_task: asyncio.Task[None] | None = None

    # ---- lifecycle ----
    async def start(self) -> None:
        restored = await self.service.restore()
        if restored:
            log.info("restored %d open transactions", restored)
        common: dict[str, Any] = dict(
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            subprotocols=[*SUBPROTOCOLS],
            compression=None,
            ping_interval=self.config.ws_ping_interval,
            ping_timeout=self.config.ws_ping_interval,
            max_size=self.config.max_frame_bytes,
            max_queue=2,  # frames buffered per connection: memory <= 2 x max_frame_bytes
            server_header=None,
            backlog=1024,
        )
        if self.config.port is not None:
            srv = await serve(self._handle, self.config.host, self.config.port, **common)
            self._servers.append(srv)
            self.ports["ws"] = next(iter(srv.sockets)).getsockname()[1]
        if self.config.tls is not None:
            ctx = server_ssl_context(self.config.tls)
            srv = await serve(self._handle, self.config.host, self.config.tls.port, ssl=ctx,
                              **common)
            self._servers.append(srv)
            self.ports["wss"] = next(iter(srv.sockets)).getsockname()[1]
        if self.config.app_port is not None:
            door = AppFrontDoor(app_domain(self.config.chain_id, self.config.settlement),
                                self.config.stations, self._claim_nonce,
                                self.start_for_app_driver, self.clock)
            self.ports["app"] = await self._serve_http(door.application(), self.config.app_port)
        if self.config.admin_port is not None:
            admin = AdminApi(self.config.admin_token(), self.config.stations, self.stations.get,
                             self.config.charging_schedules, self.clock, self.service.statuses,
                             self.feed)
            self.ports["admin"] = await self._serve_http(admin.application(),
                                                         self.config.admin_port)
        if self._forward:
            self.forwarder.start()
        if self.config.gc_freeze_interval_s:
            self._gc_task = asyncio.create_task(self._gc_loop(
                self.config.gc_freeze_interval_s, self.config.gc_full_interval_s))
        log.info("gateway listening on %s", self.ports)

    async def _serve_http(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._http_runners.append(runner)
        site = web.TCPSite(runner, self.config.host, port)
        await site.start()
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._gc_task is not None:
            self._gc_task.cancel()
        for srv in self._servers:
            srv.close()
        for srv in self._servers:
            await srv.wait_closed()
        for runner in self._http_runners:
            await runner.cleanup()
        await self.forwarder.stop()
        await self.notices.stop()
        self.service.close()
        self.store.close()
        self.auth.close()

    def freeze_heap(self) -> None:
        """After warm-up: move long-lived objects out of the GC's generations (fewer pauses)."""
        gc.collect()
        gc.freeze()

    async def _gc_loop(self, every: float, full_every: float) -> None:
        """With 10k connections a full collection scans millions of objects (~0.4 s on this
        class of machine). Survivors (connections, stations) are frozen every ``every`` seconds
        after a cheap young-generation pass; once per ``full_every`` everything is unfrozen and
        collected, so cycles of closed connections are still reclaimed."""
        last_full = self.clock()
        while True:
            await asyncio.sleep(every)
            if self.clock() - last_full >= full_every:
                gc.unfreeze()
                gc.collect()
                last_full = self.clock()
            else:
                gc.collect(1)
            gc.freeze()

    # ---- handshake ----
    def _select_subprotocol(self, connection: ServerConnection,
                            subprotocols: list[str]) -> str | None:
        for proto in SUBPROTOCOLS:
            if proto in subprotocols:
                return proto
        return None

    async def _process_request(self, connection: ServerConnection,
                               request: Request) -> Response | None:
        cp_id = charge_point_id_from_path(request.path)
        peer = connection.transport.get_extra_info("peername")
        ssl_obj: ssl.SSLObject | None = connection.transport.get_extra_info("ssl_object")
        refusal = await self.auth.check(
            self.config.stations.get(cp_id), cp_id, request.headers.get("Authorization"),
            tls=ssl_obj is not None, peercert=ssl_obj.getpeercert() if ssl_obj else None,
            source=str(peer[0]) if peer else "?",
        )
        if refusal is None:
            # No supported subprotocol offered: OCPP-J 1.6 section 3.1.2 / 2.0.1 part 4
            # section 3.1.2: complete the handshake without one, then close (see _handle).
            return None
        log.warning("refused %r from %s: %s", cp_id, peer, refusal.value)
        status = REFUSAL_STATUS[refusal]
        response = connection.respond(status, status.phrase + "\n")
        if status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
        return response

    # ---- connections ----
    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        cp_id = charge_point_id_from_path(connection.request.path)
        if connection.subprotocol not in SUBPROTOCOLS:
            log.warning("%s offered no supported OCPP subprotocol; closing", cp_id)
            await connection.close(CloseCode.PROTOCOL_ERROR, "no supported OCPP subprotocol")
            return
        v201 = str(connection.subprotocol) == OcppVersion.V201.value
        cls: type[ChargePoint16 | ChargePoint201] = ChargePoint201 if v201 else ChargePoint16
        cp = cls(cp_id, connection, self.service, self.clock, self.config.heartbeat_interval,
                 self.config.response_timeout_s)
        cp._unique_id_generator = self.id_generator
        cp.vendors = self.vendors
        old = self.stations.get(cp_id)
        self.stations[cp_id] = cp
        if old is not None:
            # The old link may be half-open (a closing handshake would wait close_timeout for
            # a peer that is gone): drop it at once; the new connection is served right away.
            log.warning("%s reconnected; dropping its previous connection", cp_id)
            old._connection.transport.abort()
        log.info("%s connected (%s)", cp_id, connection.subprotocol)
        try:
            await cp.serve()
        except Exception as exc:  # a closed socket ends this station only
            log.info("%s connection ended: %r", cp_id, exc)
        finally:
            if self.stations.get(cp_id) is cp:
                del self.stations[cp_id]
            log.info("%s disconnected", cp_id)

    def _station(self, cp_id: str) -> ChargePoint16 | ChargePoint201:
        cp = self.stations.get(cp_id)
        if not isinstance(cp, ChargePoint16 | ChargePoint201):
            raise StationOfflineError(f"charge point {cp_id} is not connected")
        return cp

    # ---- commands ----
    async def remote_start(self, cp_id: str, connector_id: int, id_token: str) -> str:
        return await self._station(cp_id).remote_start(connector_id, id_token)

    async def start_for_app_driver(self, cp_id: str, connector_id: int, driver: str,
                                   credit_id: int | None = None,
                                   max_cost: int | None = None) -> str:
        """Start a session for an app driver with a one-time idToken bound to the driver.

        The caller must have authenticated the driver: :class:`AppFrontDoor` does, from an
        EIP-712 ChargeRequest signed by the driver."""
        token = new_app_token()
        self.cache.bind_one_time_token(token, driver, credit_id, max_cost)
        return await self.remote_start(cp_id, connector_id, token)

    async def _claim_nonce(self, driver: str, nonce: int) -> bool:
        return await asyncio.to_thread(self.store.claim_nonce, driver, nonce)

    async def remote_stop(self, cp_id: str, tx_key: str) -> str:
        return await self._station(cp_id).remote_stop(tx_key)

    async def _on_held(self, cp_id: str, tx_key: str, held: int) -> None:
        """The oracle's answer to a start notice: lower the reservation, stop if it must."""
        if not await self.service.hold(cp_id, tx_key, held):
            return
        log.warning("%s tx %s: the driver's credits are held by an earlier session; stopping",
                    cp_id, tx_key)
        try:
            await self.remote_stop(cp_id, tx_key)
        except Exception as exc:  # offline or refused: the receipt is capped at what is held
            log.warning("%s tx %s: stop request failed (%s)", cp_id, tx_key, exc)

    async def reset(self, cp_id: str, hard: bool = False) -> str:
        return await self._station(cp_id).reset(hard)


async def wait_forever(gateway: Gateway) -> None:
    """Run until SIGTERM or SIGINT, then close listeners, the forwarder and the database."""
    done = stop_on_signals()
    await gateway.start()
    try:
        await done.wait()
    finally:
        log.info("gateway stopping")
        await gateway.stop()
