"""OCPI pull throughput: a partner pulls every Location (1,000 stations, 2 EVSEs each) and every
CDR (10,000 settled receipts in SQLite) page by page (limit 100) over localhost HTTP.

Run: .venv/bin/python bench/ocpi_pull.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from wattnet.ocpi.client import PartnerClient
from wattnet.ocpi.config import config_from_dict
from wattnet.ocpi.live import LiveState
from wattnet.ocpi.partners import PartnerStore
from wattnet.ocpi.server import Cpo, build_app
from wattnet.ocpi.sources import JsonStations, SettledReceipts
from wattnet.oracle.schema import RECEIPT_COLUMNS
from wattnet.oracle.store import open_store

STATIONS, RECEIPTS, T0 = 1_000, 10_000, 1_780_000_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pull(http: aiohttp.ClientSession, url: str, token: str) -> tuple[int, int, float]:
    auth = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
    objects = pages = 0
    started = time.perf_counter()
    next_url: str | None = url + "?limit=100"
    while next_url:
        async with http.get(next_url, headers=auth) as resp:
            body = await resp.json()
            objects += len(body["data"])
            pages += 1
            link = resp.headers.get("Link")
        next_url = link.split(">")[0].lstrip("<") if link else None
    return objects, pages, time.perf_counter() - started


async def main(tmp: Path) -> None:
    rows = [{"station_id": "0x" + i.to_bytes(32, "big").hex(), "rated_power_w": 22_000,
             "connectors": 2, "geohash": "u33dc0cp", "tariffs": {"1": 390_000}}
            for i in range(1, STATIONS + 1)]
    (tmp / "stations.json").write_text(json.dumps(rows))
    port = _port()
    cfg = config_from_dict({"country_code": "DE", "party_id": "WNT",
                            "base_url": f"http://127.0.0.1:{port}",
                            "database": str(tmp / "oracle.sqlite3"),
                            "stations": f"json:{tmp / 'stations.json'}",
                            "currencies": {1: {"currency": "EUR", "decimals": 6}}})
    store = open_store(cfg.database)
    with store.transaction() as tx:
        tx.executemany(
            f"INSERT INTO receipts ({', '.join(RECEIPT_COLUMNS)}) VALUES "
            f"({', '.join('?' for _ in RECEIPT_COLUMNS)})",
            [[{"station_id": (1 + n % STATIONS).to_bytes(32, "big"),
               "session_key": n.to_bytes(8, "big"), "connector_id": 1, "driver": bytes(20),
               "credit_id": "1", "energy_wh": 10_000, "start_time": T0 + n,
               "end_time": T0 + n + 3600, "cost": "3900000", "referrer": bytes(20),
               "signature": bytes(65), "struct_hash": n.to_bytes(32, "big"),
               "signer": bytes(20), "operator": bytes(20), "status": "settled",
               "received_at": T0, "updated_at": T0 + n}.get(c) for c in RECEIPT_COLUMNS]
             for n in range(RECEIPTS)])
    partners = PartnerStore(store, time.time)
    partners.migrate()
    token_a = partners.issue_token_a()
    partners.register(token_a, "bench-token-c", "b", "http://x/versions", "2.2.1", {}, [
        {"role": "EMSP", "country_code": "NL", "party_id": "TNM",
         "business_details": {"name": "bench"}}])
    async with aiohttp.ClientSession() as http:
        cpo = Cpo(cfg, partners, PartnerClient(http, ("DE", "WNT"), 5.0),
                  JsonStations(tmp / "stations.json"), SettledReceipts(store, (1,)),
                  LiveState(time.time), time.time)
        runner = web.AppRunner(build_app(cpo), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("| module | objects | pages | seconds | objects/s |")
        print("| --- | --- | --- | --- | --- |")
        for module in ("locations", "tariffs", "cdrs"):
            n, pages, secs = await _pull(http, cpo.url("2.2.1", module), "bench-token-c")
            print(f"| {module} | {n} | {pages} | {secs:.2f} | {n / secs:,.0f} |")
        await runner.cleanup()
    store.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(main(Path(d)))
