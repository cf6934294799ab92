"""Benchmark of the event index (``wattnet.indexer``) at a few thousand sessions: the app's
devnet on anvil (the governed deploy, two stations), N sessions settled through the real ledger
in batches of a few hundred relayed through the oracle committee (``EnergyCredits.settleSigned``, 3
of 3 nodes, as the live network settles; ``--nodes 0``: the oracle key's ``settlePacked``),
spread over weekly epochs. Then, timed: indexing from scratch into a fresh store
(``wattnet index run --once``'s work: every log, each batch's calldata decoded into sessions),
and the read API at that size: ``/api/network/epochs`` and ``/api/operators/{address}/earnings``
(each request first indexes new blocks, as the server does), 50 rounds, a new block mined
before each (the figures are computed once per block; the memo's answer is shown apart).

Prints a table, and last exactly ``indexer_sessions_per_s=<N>`` and ``api_epochs_ms=<median>``.
Usage: python bench/indexer.py [--sessions N] [--batch N] [--epochs N] [--nodes N] [--db DSN]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from eth_utils.crypto import keccak
from rich.console import Console
from rich.table import Table

from wattnet.api.chain_reads import ChainReads
from wattnet.api.devnet import OPERATOR, STATIONS, start_network
from wattnet.api.devnet_sessions import settle_sessions
from wattnet.api.server import make_app
from wattnet.chain.web3_client import ChainClient
from wattnet.indexer import reads
from wattnet.indexer.follow import Indexer
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store


def _ms(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] * 1000


async def _latency(app: object, paths: tuple[str, ...], n: int,
                   mine: Callable[[], object]) -> list[list[float]]:
    """Seconds per request of each path (a path may repeat: its second request is answered
    from the server's per-block memo), a new block mined (untimed) before each round, so the
    first request of a round indexes that block and computes its figures afresh."""
    out: list[list[float]] = [[] for _ in paths]
    async with TestClient(TestServer(app)) as client:  # type: ignore[arg-type]
        for _ in range(n):
            mine()
            for j, p in enumerate(paths):
                t = time.perf_counter()
                res = await client.get(p)
                body = await res.read()
                out[j].append(time.perf_counter() - t)
                if res.status != 200:
                    raise SystemExit(f"error: {p} answered {res.status}: {body[:200]!r}")
    return out


def _count(store: Store, sql: str) -> int:
    with store.transaction() as tx:
        row = tx.one(sql)
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=250, help="receipts per settlement")
    parser.add_argument("--epochs", type=int, default=4, help="weeks the sessions spread over")
    parser.add_argument("--nodes", type=int, default=3, help="committee nodes (0: oracle key)")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--db", default=None, help="the index's store (default: temp SQLite)")
    args = parser.parse_args()
    console = Console()
    per_epoch = max(1, args.sessions // (len(STATIONS) * args.epochs))
    keys = [keccak(text=f"wattnet-bench-indexer-node:{i}") for i in range(args.nodes)]
    with tempfile.TemporaryDirectory(prefix="wattnet-bench-indexer-") as tmp:
        work = Path(tmp)
        anvil, net = start_network(work)
        try:
            t0 = time.perf_counter()
            settled = settle_sessions(net, per_epoch, args.epochs, batch_size=args.batch,
                                      committee=keys)
            settle_s = time.perf_counter() - t0
            client = ChainClient(net.rpc_url, net.deployment)
            store = open_store(args.db or str(work / "index.sqlite"))
            try:
                indexer = Indexer(client, store)
                first = indexer.cursor() + 1
                t0 = time.perf_counter()
                head = indexer.step()
                index_s = time.perf_counter() - t0
                sessions = _count(store, "SELECT COUNT(*) FROM index_sessions")
                if sessions != len(settled.receipts):
                    raise SystemExit(f"error: indexed {sessions} sessions, settled "
                                     f"{len(settled.receipts)}")
                (work / "dist").mkdir()
                (work / "dist" / "index.html").write_text("<!doctype html>")
                app = make_app(ChainReads(client, indexer), work / "dist")
                epochs, earnings = "/api/network/epochs", f"/api/operators/{OPERATOR}/earnings"
                sums = []
                for _ in range(args.requests):  # the part that grows with the sessions
                    t0 = time.perf_counter()
                    reads.epochs(store)
                    sums.append(time.perf_counter() - t0)
                rpc: Any = client.w3.provider
                fresh, memo, earn = asyncio.run(_latency(
                    app, (epochs, epochs, earnings), args.requests,
                    lambda: rpc.make_request("evm_mine", [])))
            finally:
                store.close()
        finally:
            anvil.stop()
    blocks = head - first + 1
    via = f"committee {args.nodes} of {args.nodes}" if keys else "oracle key"
    db = "PostgreSQL" if args.db and args.db.startswith("postgres") else "SQLite"
    table = Table(title=f"event index: {sessions:,} sessions in {len(settled.tx_hashes)} "
                  f"batches over {args.epochs} epochs, {via}, {db}")
    for col in ("what", "value"):
        table.add_column(col, justify="right" if col == "value" else "left")
    table.add_row("settling them on anvil (signing, relaying), s", f"{settle_s:.1f}")
    table.add_row(f"indexing from scratch: {blocks:,} blocks, s", f"{index_s:.2f}")
    table.add_row("  blocks per second", f"{blocks / index_s:,.0f}")
    table.add_row("  sessions per second", f"{sessions / index_s:,.0f}")
    for name, xs in (("/api/network/epochs at a new block", fresh),
                     ("  of which summing the index (reads.epochs)", sums),
                     ("  again at the same block (memo)", memo),
                     ("/api/operators/{a}/earnings", earn)):
        table.add_row(f"{name}: median / p99 of {args.requests}, ms",
                      f"{statistics.median(xs) * 1000:.2f} / {_ms(xs, 0.99):.2f}")
    console.print(table)
    print(f"indexer_blocks_per_s={blocks / index_s:.0f}")
    print(f"api_earnings_ms={statistics.median(earn) * 1000:.1f} p99={_ms(earn, 0.99):.1f}")
    print(f"api_epochs_p99_ms={_ms(fresh, 0.99):.1f}")
    print(f"indexer_sessions_per_s={sessions / index_s:.0f}")
    print(f"api_epochs_ms={statistics.median(fresh) * 1000:.1f}")


if __name__ == "__main__":
    main()
