"""OCPI test harness: the CPO server on the oracle's real store (SQLite), a station list, the
test eMSP on its own port, both served over real HTTP on localhost."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from wattnet.ocpi.client import PartnerClient
from wattnet.ocpi.config import OcpiConfig, config_from_dict
from wattnet.ocpi.live import ChargerControl, LiveState
from wattnet.ocpi.partners import PartnerStore
from wattnet.ocpi.push import Pusher
from wattnet.ocpi.server import Cpo, build_app
from wattnet.ocpi.sources import JsonStations, SettledReceipts
from wattnet.oracle.schema import RECEIPT_COLUMNS
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store

from .emsp import TestEmsp

T0 = 1_780_000_000  # 2026-05-28
GEOHASHES = ("u33dc0cp", "u281z7j5", "u0yjjd6j", "spey61yh", "gcpvj0du")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def station_rows(n: int) -> list[dict[str, Any]]:
    return [{"station_id": "0x" + bytes([i + 1] * 32).hex(), "rated_power_w": 11_000 + i,
             "connectors": 1 + i % 2, "active": i != 3, "geohash": GEOHASHES[i % 5],
             "tariffs": {"1": 350_000 + i, "7": 1}, "updated_at": T0 + 60 * i} for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "oracle.sqlite3"))
    yield s
    s.close()


def settle(store: Store, station: bytes, session_id: int, *, energy_wh: int, cost: int,
           start: int, settled_at: int, credit_id: int = 1, meter_data: str | None = None,
           driver: bytes = b"\x0d" * 20) -> None:
    """A receipt row as the oracle's batcher leaves it once settled on chain."""
    values = {c: None for c in RECEIPT_COLUMNS} | {
        "station_id": station, "session_key": session_id.to_bytes(8, "big"), "connector_id": 1,
        "driver": driver, "credit_id": str(credit_id), "energy_wh": energy_wh,
        "start_time": start, "end_time": start + 3600, "cost": str(cost), "referrer": bytes(20),
        "signature": bytes(65), "meter_data": meter_data, "struct_hash": session_id.to_bytes(32,
                                                                                         "big"),
        "signer": bytes(20), "operator": bytes(20), "status": "settled", "received_at": start,
        "updated_at": settled_at}
    with store.transaction() as tx:
        tx.execute(f"INSERT INTO receipts ({', '.join(RECEIPT_COLUMNS)}) VALUES "
                   f"({', '.join('?' for _ in RECEIPT_COLUMNS)})", [values[c] for c in
                                                                    RECEIPT_COLUMNS])


@dataclass
class Harness:
    cpo: Cpo
    emsp: TestEmsp
    http: aiohttp.ClientSession
    token_a: str
    pusher: Pusher

    @property
    def versions_url(self) -> str:
        return self.cpo.cfg.versions_url

    def url(self, path: str) -> str:
        return self.cpo.url("2.2.1", path)


Scenario = Callable[[Harness], Awaitable[None]]


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., OcpiConfig]:
    def make(n_stations: int = 3, **over: Any) -> OcpiConfig:
        path = tmp_path / "stations.json"
        path.write_text(json.dumps(station_rows(n_stations)))
        raw = {"country_code": "DE", "party_id": "WNT", "base_url": f"http://127.0.0.1:"
               f"{free_port()}", "database": str(tmp_path / "oracle.sqlite3"),
               "stations": f"json:{path}", "currencies": {"1": {"currency": "EUR",
                                                                "decimals": 6}}} | over
        return config_from_dict(raw)

    return make


@pytest.fixture
def run(store: Store, make_config: Callable[..., OcpiConfig]) -> Callable[..., None]:
    def go(scenario: Scenario, config: OcpiConfig | None = None,
           control: ChargerControl | None = None, clock: Callable[[], float] = lambda: T0 + 9999,
           live: LiveState | None = None) -> None:
        cfg = config or make_config()

        async def main() -> None:
            partners = PartnerStore(store, clock)
            partners.migrate()
            emsp_port = free_port()
            emsp = TestEmsp(f"http://127.0.0.1:{emsp_port}")
            async with aiohttp.ClientSession() as http:
                cpo = Cpo(cfg, partners, PartnerClient(http, (cfg.country_code, cfg.party_id),
                                                       5.0),
                          JsonStations(Path(cfg.stations[5:])),
                          SettledReceipts(store, tuple(cfg.currencies)),
                          live or LiveState(clock), clock, control)
                pusher = Pusher(cpo)
                port = int(cfg.base_url.rsplit(":", 1)[1])
                async with TestServer(build_app(cpo), port=port), \
                        TestServer(emsp.app(), port=emsp_port):
                    await scenario(Harness(cpo, emsp, http, partners.issue_token_a(), pusher))
                    if cpo.tasks:
                        await asyncio.wait(cpo.tasks, timeout=5)

        asyncio.run(main())

    return go
