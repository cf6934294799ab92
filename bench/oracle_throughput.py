"""Oracle throughput: receipts verified and durably stored per second on one core.

Pinned to one CPU. Receipts from 200 stations are signed up front and encoded as the JSON
bodies of POST /v1/receipts:batch (1,000 per request). Timed stages, each over the same bodies:

  parse        JSON decode + field checks + EIP-712 struct hash (verify.parse_wire)
  verify       ... + station lookup (cached) + secp256k1 recovery
  pipeline     ... + plausibility + dedupe + INSERT + COMMIT (SQLite, WAL, synchronous=FULL):
               the oracle's ingest path without the HTTP layer (Ingestor.process)
  pipeline (PostgreSQL)  the same on PostgreSQL: --pg DSN, WATTNET_BENCH_PG_DSN, or else the
               local server of tools/ci_postgres.sh (started if need be; --no-pg skips it)
  http         the full service over loopback: aiohttp server on this core, the client
               (pre-encoded bodies, 4 connections) in a child process on another core

Each stage runs ``--repeat`` times (fresh database each time) and the best run counts, as
timeit does: the machine is shared, and the best run is the one least disturbed by others.
The last two lines are ``oracle_receipts_per_s=<SQLite pipeline>`` and
``oracle_receipts_per_s_postgres=<PostgreSQL pipeline>`` (or why it was skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from wattnet.chain.eip712 import Domain, address_of_private_key, sign_receipt
from wattnet.chain.receipt_codec import signed_to_json
from wattnet.domain import SessionReceipt, SignedReceipt, StationInfo, station_id_for
from wattnet.oracle.config import OracleConfig, PlausibilityLimits
from wattnet.oracle.directory import CachedStationDirectory, InMemoryStationDirectory
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.store_base import Store
from wattnet.oracle.store_postgres import PostgresStore
from wattnet.oracle.store_sqlite import SqliteStore
from wattnet.oracle.verify import Verifier, parse_wire

CHAIN_ID = 31337
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
STATIONS = 200
BATCH = 1_000
NOW = 1_750_000_000


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})


def build(n: int) -> tuple[InMemoryStationDirectory, list[bytes]]:
    domain = Domain(CHAIN_ID, CONTRACT).separator
    directory = InMemoryStationDirectory()
    keys = []
    for i in range(STATIONS):
        key = (i + 1).to_bytes(32, "big")
        operator = address_of_private_key(b"\x77" * 32)
        directory.put(StationInfo(station_id_for(f"BENCH-{i}"), operator,
                                  address_of_private_key(key), 22_000, 2, True))
        keys.append(key)
    driver = address_of_private_key(b"\x42" * 32)
    items = []
    for j in range(n):
        s = j % STATIONS
        seq = j // STATIONS
        start = NOW - 10_000_000 + seq * 1_000
        r = SessionReceipt(station_id_for(f"BENCH-{s}"), seq, 1, driver, 1, 5_000, start,
                           start + 900, 1_750_000)
        items.append(signed_to_json(SignedReceipt(r, sign_receipt(keys[s], domain, r))))
    bodies = [json.dumps(items[i:i + BATCH]).encode() for i in range(0, n, BATCH)]
    return directory, bodies


def config(db: str) -> OracleConfig:
    return OracleConfig(chain_id=CHAIN_ID, settlement_contract=CONTRACT, database=db,
                        plausibility=PlausibilityLimits(max_stations_per_operator=10_000),
                        max_batch_items=BATCH)


def stage_parse(bodies: list[bytes]) -> int:
    n = 0
    for body in bodies:
        for obj in json.loads(body):
            parse_wire(obj)
            n += 1
    return n


def stage_verify(directory: InMemoryStationDirectory, bodies: list[bytes]) -> int:
    verifier = Verifier(Domain(CHAIN_ID, CONTRACT).separator, CachedStationDirectory(directory))
    n = 0
    for body in bodies:
        for obj in json.loads(body):
            verifier.verify(parse_wire(obj))
            n += 1
    return n


def stage_pipeline(directory: InMemoryStationDirectory, bodies: list[bytes], db: Path,
                   pg_dsn: str | None = None) -> int:
    store: Store
    if pg_dsn:
        store = PostgresStore(pg_dsn, schema=f"bench_{uuid.uuid4().hex[:12]}")
    else:
        store = SqliteStore(db)
    store.migrate()
    cfg = config(str(db))
    verifier = Verifier(Domain(CHAIN_ID, CONTRACT).separator, CachedStationDirectory(directory))
    ingestor = Ingestor(store, verifier, cfg, Metrics(), lambda: float(NOW))
    n = 0
    for body in bodies:
        outcomes = ingestor.process(json.loads(body))
        assert all(o.status == "accepted" for o in outcomes), outcomes[:3]
        n += len(outcomes)
    if isinstance(store, PostgresStore):
        store.drop_schema()
    store.close()
    return n


def _client(url: str, bodies: list[bytes], conns: int, out: Any) -> None:
    pin(1)
    import aiohttp

    async def run() -> None:
        queue = list(bodies)
        async with aiohttp.ClientSession() as session:
            async def worker() -> None:
                while queue:
                    body = queue.pop()
                    async with session.post(url, data=body) as resp:
                        answer = await resp.json()
                        assert resp.status == 200 and all(
                            r["status"] == "accepted" for r in answer["results"])

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(conns)))
            out.put(time.perf_counter() - started)

    asyncio.run(run())


def stage_http(directory: InMemoryStationDirectory, bodies: list[bytes], db: Path) -> float:
    from aiohttp import web

    from wattnet.oracle.fakechain import FakeSettlementChain
    from wattnet.oracle.service import OracleService

    store = SqliteStore(db)
    store.migrate()
    service = OracleService(config(str(db)), store=store, directory=directory,
                            chain=FakeSettlementChain(db.with_suffix(".chain")),
                            clock=lambda: float(NOW))
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()

    async def serve() -> float:
        runner = web.AppRunner(service.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        child = ctx.Process(target=_client, args=(
            f"http://127.0.0.1:{port}/v1/receipts:batch", bodies, 4, out))
        child.start()
        while child.is_alive() or out.empty():
            await asyncio.sleep(0.05)
            if not child.is_alive() and out.empty():
                raise RuntimeError("benchmark client failed")
        elapsed: float = out.get()
        child.join()
        await runner.cleanup()
        return elapsed

    return asyncio.run(serve())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="receipts per stage")
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage (best counts)")
    parser.add_argument("--pg", metavar="DSN", default=os.environ.get("WATTNET_BENCH_PG_DSN"),
                        help="PostgreSQL to time the pipeline on (server on the other core) "
                        "[default: tools/ci_postgres.sh's]")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL stage")
    parser.add_argument("--no-http", action="store_true", help="skip the loopback HTTP stage")
    args = parser.parse_args()
    pg_skipped = "--no-pg" if args.no_pg else None
    if not args.pg and not args.no_pg:
        args.pg, pg_skipped = local_postgres()
    pin(0)
    console = Console()
    console.print(f"signing {args.n} receipts from {STATIONS} stations ...")
    directory, bodies = build(args.n)
    table = Table(title=f"oracle ingest, one core, {args.n} receipts, batches of {BATCH}, "
                        f"best of {args.repeat}")
    table.add_column("stage")
    table.add_column("receipts/s", justify="right")
    table.add_column("us/receipt", justify="right")
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="wattnet-bench-") as tmp:
        stages: list[tuple[str, Any]] = [
            ("parse", lambda r: stage_parse(bodies)),
            ("verify", lambda r: stage_verify(directory, bodies)),
            ("pipeline (SQLite, fsync)", lambda r: stage_pipeline(directory, bodies,
                                                                   Path(tmp) / f"p{r}.db")),
        ]
        if args.pg:
            stages.append(("pipeline (PostgreSQL)", lambda r: stage_pipeline(
                directory, bodies, Path(tmp) / "unused.db", args.pg)))
        for name, fn in stages:
            for r in range(args.repeat):
                started = time.perf_counter()
                n = fn(r)
                elapsed = time.perf_counter() - started
                results[name] = max(results.get(name, 0.0), n / elapsed)
        if not args.no_http:
            for r in range(args.repeat):
                elapsed = stage_http(directory, bodies, Path(tmp) / f"h{r}.db")
                results["http batch endpoint (loopback)"] = max(
                    results.get("http batch endpoint (loopback)", 0.0), args.n / elapsed)
    for name, rate in results.items():
        table.add_row(name, f"{rate:,.0f}", f"{1e6 / rate:.1f}")
    console.print(table)
    sys.stdout.flush()
    print(f"oracle_receipts_per_s={int(results['pipeline (SQLite, fsync)'])}")
    if "pipeline (PostgreSQL)" in results:
        print(f"oracle_receipts_per_s_postgres={int(results['pipeline (PostgreSQL)'])}")
    else:
        print(f"oracle_receipts_per_s_postgres=skipped ({pg_skipped})")


def local_postgres() -> tuple[str | None, str | None]:
    """(DSN, None) of the server tools/ci_postgres.sh starts (or finds running), or
    (None, why not)."""
    tool = Path(__file__).resolve().parents[1] / "tools" / "ci_postgres.sh"
    try:
        done = subprocess.run([str(tool)], capture_output=True, text=True, timeout=300,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{tool.name} failed: {exc}"
    line = done.stdout.strip().splitlines()[-1:] or [""]
    if done.returncode != 0 or "=" not in line[0]:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"{tool.name} exited {done.returncode}: {last}"
    print(f"PostgreSQL: the server of {tool.name} (stop it with `{tool.name} stop`)",
          file=sys.stderr)
    return line[0].split("=", 1)[1], None


if __name__ == "__main__":
    main()
