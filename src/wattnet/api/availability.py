"""Live availability for the web app: each connector's status as the site gateways report it.

The same source the OCPI server uses (:mod:`wattnet.ocpi.gateways`): every ``every_s`` seconds
:class:`~wattnet.ocpi.gateways.GatewayLink` lists each gateway's charge points from its admin
API (``GET /v1/stations``, the bearer token in ``$WATTNET_GATEWAY_ADMIN_TOKEN`` or the
variable named), and the last StatusNotification of each connected charger's connectors lands
in a :class:`~wattnet.ocpi.live.LiveState` as an OCPI status (AVAILABLE, CHARGING, RESERVED,
INOPERATIVE, OUTOFORDER). A connector no gateway reported is UNKNOWN; so is every connector
while no gateway is configured (``gateways`` is then 0 and the page shows the registry's state
alone). A charger that disconnects keeps its last status, as OCPI's EVSEs do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from wattnet.errors import ConfigError
from wattnet.ocpi.gateways import GatewayEndpoint, GatewayLink
from wattnet.ocpi.live import LiveState

UNKNOWN = "UNKNOWN"


@dataclass
class Availability:
    gateways: Sequence[GatewayEndpoint]
    every_s: float = 5.0
    clock: Callable[[], float] = time.time
    live: LiveState = field(init=False)

    def __post_init__(self) -> None:
        self.live = LiveState(self.clock)

    @classmethod
    def parse(cls, specs: Sequence[str], every_s: float) -> Availability:
        """``URL`` or ``URL=TOKEN_ENV`` options (``wattnet app --gateway-admin``); the tokens
        must be set now, not at the first poll."""
        gateways = []
        for spec in specs:
            url, sep, env = spec.partition("=")
            if not url.startswith(("http://", "https://")) or (sep and not env):
                raise ConfigError(f"--gateway-admin {spec!r}: give the gateway's admin API URL, "
                                  "optionally =ENV_VAR naming its token's variable")
            g = GatewayEndpoint(url, env) if env else GatewayEndpoint(url)
            try:
                g.token()
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            gateways.append(g)
        return cls(gateways, every_s)

    def of(self, stations: Sequence[Any]) -> dict[str, list[str]]:
        """Each station's connectors (1..n), by station id hex: their live status."""
        out = {}
        for s in stations:
            known = self.live.statuses(bytes.fromhex(s.id[2:]))
            out[s.id] = [known.get(n, (UNKNOWN, 0))[0] for n in range(1, s.connectors + 1)]
        return out

    async def polling(self) -> AsyncIterator[None]:
        """Poll the gateways while the app serves (an aiohttp cleanup context)."""
        if not self.gateways:
            yield
            return
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            link = GatewayLink(http, self.gateways, self.live)
            task = asyncio.create_task(link.poll(self.every_s, stop))
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(task, return_exceptions=True)
