"""``StationSource`` over the StationRegistry (plain web3, ``$WATTNET_RPC_URL`` and
``$WATTNET_DEPLOYMENT`` as for the oracle): stations from the ``StationRegistered`` events since
the deployment block, their current facts from ``getStation``, prices from ``tariffOf`` for the
configured credit ids, ``last_updated`` from the latest block that touched the station (its
StationRegistered/TariffChanged/StationStatusChanged events). Cached for ``ttl_s`` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from wattnet.chain.web3_client import REGISTRY, ChainClient
from wattnet.errors import ChainError
from wattnet.ocpi.sources import StationView

log = logging.getLogger(__name__)

_TOUCHING = ("StationRegistered", "TariffChanged", "StationStatusChanged")


class RegistryStations:
    def __init__(self, client: ChainClient, credit_ids: Iterable[int], ttl_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._registry = client.contract(REGISTRY)
        self._w3 = client.w3
        self._from_block = client.deployment.block
        self._credits = tuple(credit_ids)
        self._ttl = ttl_s
        self._clock = clock
        self._cached: tuple[float, list[StationView]] | None = None
        self._block_time: dict[int, int] = {}

    def _logs(self, event: str) -> list[Any]:
        return list(getattr(self._registry.events, event)().get_logs(
            from_block=self._from_block))

    def _time(self, block: int) -> int:
        if block not in self._block_time:
            self._block_time[block] = int(self._w3.eth.get_block(block)["timestamp"])
        return self._block_time[block]

    def _read(self) -> list[StationView]:
        touched: dict[bytes, int] = {}
        order: list[bytes] = []
        for event in _TOUCHING:
            for entry in self._logs(event):
                sid = bytes(entry["args"]["stationId"])
                if event == "StationRegistered" and sid not in touched:
                    order.append(sid)
                touched[sid] = max(touched.get(sid, 0), int(entry["blockNumber"]))
        fn = self._registry.functions
        out = []
        for sid in order:
            operator, rated, connectors, active, _reg, _cert, _signer, geohash, _m = \
                fn.getStation(sid).call()
            if int(operator, 16) == 0:
                continue  # released
            tariffs = {c: int(fn.tariffOf(sid, c).call()[0]) for c in self._credits}
            out.append(StationView(
                sid, int(rated), int(connectors), bool(active),
                bytes(geohash).rstrip(b"\x00").decode("ascii", "replace"),
                {c: t for c, t in tariffs.items() if t > 0}, self._time(touched[sid])))
        return out

    def stations(self) -> list[StationView]:
        now = self._clock()
        if self._cached is None or now - self._cached[0] >= self._ttl:
            try:
                self._cached = (now, self._read())
            except (OSError, ValueError) as exc:
                if self._cached is None:
                    raise ChainError(f"cannot read the station registry: {exc}") from exc
                log.warning("registry read failed (%s); serving the last list", exc)
        return self._cached[1]
