"""The read API from the index: ``/api/network/epochs`` and ``/api/operators/{a}/earnings``
on the devnet with settled sessions, their figures equal to the ledger's; 501 without an index;
``wattnet index run --once`` and its one-line error."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from wattnet.api.chain_reads import ChainReads
from wattnet.api.devnet import OPERATOR, Network
from wattnet.api.devnet_sessions import Settled
from wattnet.api.server import make_app
from wattnet.indexer.follow import Indexer
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store

from .index_helpers import client_of

pytestmark = pytest.mark.slow


def _gets(app: Any, *paths: str) -> list[tuple[int, Any]]:
    """(status, JSON) of each GET, on one server (an aiohttp app serves one loop)."""
    async def go() -> list[tuple[int, Any]]:
        out = []
        async with TestClient(TestServer(app)) as client:
            for path in paths:
                res = await client.get(path)
                out.append((res.status, await res.json()))
        return out
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def _get(app: Any, path: str) -> tuple[int, Any]:
    return _gets(app, path)[0]


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<!doctype html>")
    return tmp_path


def test_epochs_and_earnings__equal_the_ledger(chain: tuple[Network, Settled], store: Store,
                                               dist: Path) -> None:
    net, settled = chain
    client = client_of(net)
    app = make_app(ChainReads(client, Indexer(client, store)), dist)
    (status, body), (_, earn), (bad, err) = _gets(
        app, "/api/network/epochs", f"/api/operators/{OPERATOR.lower()}/earnings",
        "/api/operators/nobody/earnings")
    assert status == 200
    rewards = client.contract("RewardsEngine").functions
    current = rewards.currentEpoch().call()
    assert body["current_epoch"] == current and body["epochs"][-1]["epoch"] == current
    busy = [e for e in body["epochs"] if e["sessions"]]
    assert [e["sessions"] for e in busy] == [4, 4]
    assert [e["epoch"] for e in busy] == [current - 1, current]
    for e in body["epochs"]:
        assert e["watt_emission"] == str(rewards.emissionOf(e["epoch"]).call())
    total = sum(int(e["fees"]["1"]["cost"]) for e in busy)
    assert total == client.credits.functions.totalOwed(1).call() == \
        sum(r.cost for r in settled.receipts)
    assert earn["operator"] == OPERATOR
    assert int(earn["earned"]["1"]) == client.credits.functions.owed(OPERATOR, 1).call()
    assert {r["epoch"] for r in earn["rows"]} == {current - 1, current}
    assert bad == 400 and "is not an address" in err["error"]


def test_network__sessions_settled_come_from_the_index_not_the_oracle_store(
        chain: tuple[Network, Settled], store: Store, dist: Path) -> None:
    net, settled = chain
    client = client_of(net)
    # the same store as the oracle's: its receipts table is empty (no oracle ran), so only the
    # index can give the chain's 8 sessions
    _, oracle_only = _get(make_app(ChainReads(client), dist, store), "/api/network")
    assert oracle_only["sessions_settled"] == 0
    status, body = _get(make_app(ChainReads(client, Indexer(client, store)), dist, store),
                        "/api/network")
    assert status == 200 and body["sessions_settled"] == len(settled.receipts) == 8
    assert body["energy_settled_wh"] == sum(r.energy_wh for r in settled.receipts)


def test_stations_and_proposals__answer_from_the_index(chain: tuple[Network, Settled],
                                                       store: Store, dist: Path) -> None:
    net, _ = chain
    client = client_of(net)
    scanned = _get(make_app(ChainReads(client), dist), "/api/stations")
    indexed = _get(make_app(ChainReads(client, Indexer(client, store)), dist), "/api/stations")
    assert indexed == scanned and len(indexed[1]) == 2
    status, body = _get(make_app(ChainReads(client, Indexer(client, store)), dist),
                        "/api/governance/proposals")
    assert status == 200 and body["proposals"] == []


def test_without_an_index__figures_per_epoch_are_501(chain: tuple[Network, Settled],
                                                     dist: Path) -> None:
    net, _ = chain
    status, body = _get(make_app(ChainReads(client_of(net)), dist), "/api/network/epochs")
    assert status == 501 and "no event index" in body["error"]


def test_wattnet_index_run__once_then_a_missing_deployment_in_one_line(
        chain: tuple[Network, Settled], tmp_path: Path) -> None:
    net, _ = chain
    db = tmp_path / "index.sqlite"
    cmd = [sys.executable, "-m", "wattnet.cli.main", "index", "run", "--rpc-url", net.rpc_url,
           "--db", str(db)]
    done = subprocess.run([*cmd, "--deployment", str(net.deployment_file), "--once"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    head = client_of(net).w3.eth.block_number
    assert done.stdout.strip() == f"indexed to block {head}"
    store = open_store(str(db))
    try:
        with store.transaction() as tx:
            row = tx.one("SELECT COUNT(*) FROM index_sessions")
        assert row is not None and int(row[0]) == 8
    finally:
        store.close()
    bad = subprocess.run([*cmd, "--deployment", str(tmp_path / "none.json")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: no deployment record at")
    assert len(bad.stderr.strip().splitlines()) == 1
