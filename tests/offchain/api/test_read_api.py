"""The app's read API off chain: a driver's sessions from a real oracle store (SQLite), the
server's answers without a store or a built app, and ``wattnet app``'s one-line errors."""

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
from wattnet.api.server import make_app
from wattnet.api.sessions import driver_sessions, settled_totals
from wattnet.chain.deployments import Deployment
from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ConfigError
from wattnet.oracle.schema import RECEIPT_COLUMNS
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store

ALICE = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
BOB = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
STATION = bytes.fromhex("11" * 32)
TX = bytes.fromhex("ab" * 32)


def _receipt(driver: str, session_id: int, end: int) -> list[Any]:
    row: dict[str, Any] = {c: None for c in RECEIPT_COLUMNS}
    row.update(station_id=STATION, session_key=session_id.to_bytes(8, "big"), connector_id=1,
               driver=bytes.fromhex(driver[2:]), credit_id="1", energy_wh=12_345,
               start_time=end - 3600, end_time=end, cost=str(4_321_000),
               referrer=bytes(20), signature=b"\x01" * 65, struct_hash=b"\x02" * 32,
               signer=b"\x03" * 20, operator=b"\x04" * 20, status="pending",
               received_at=end, updated_at=end, readings=b"\x05" * 32)
    return [row[c] for c in RECEIPT_COLUMNS]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = open_store(str(tmp_path / "oracle.sqlite"))
    with s.transaction() as tx:
        for driver, sid, end in ((ALICE, 1, 1_000), (BOB, 2, 1_500), (ALICE, 3, 2_000)):
            assert tx.insert_receipt(_receipt(driver, sid, end))
        tx.execute("UPDATE receipts SET status = 'settled', tx_hash = ?, block = 7 "
                   "WHERE session_key = ?", (TX, (1).to_bytes(8, "big")))
    yield s
    s.close()


def test_driver_sessions__only_that_drivers_newest_first_with_the_settlement_tx(
        store: Store) -> None:
    rows = driver_sessions(store, ALICE.lower())
    assert [r.session_id for r in rows] == [3, 1]
    newest, settled = rows
    assert (newest.status, newest.tx_hash, newest.block) == ("pending", None, None)
    assert (settled.status, settled.tx_hash, settled.block) == ("settled", "0x" + TX.hex(), 7)
    assert settled.station_id == "0x" + STATION.hex() and settled.cost == "4321000"
    assert settled.has_readings and settled.energy_wh == 12_345


def test_settled_totals__count_and_energy_of_settled_sessions_only(store: Store) -> None:
    assert settled_totals(store) == {"sessions_settled": 1, "energy_settled_wh": 12_345}


def test_driver_sessions__a_bad_address_is_refused(store: Store) -> None:
    with pytest.raises(ConfigError, match="is not an address"):
        driver_sessions(store, "0x1234")


def _reads() -> ChainReads:  # nothing talks to this node: these requests need no chain
    dep = Deployment("ethereum", "local", 31337, 0, {})
    return ChainReads(ChainClient("http://127.0.0.1:9", dep))


def _get(app: Any, path: str) -> tuple[int, Any]:
    async def go() -> tuple[int, Any]:
        async with TestClient(TestServer(app)) as client:
            res = await client.get(path)
            return res.status, await res.json()
    # its own thread: a session that also ran Playwright's sync API has a loop on this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def test_sessions_endpoint__reads_the_store_and_refuses_bad_input(
        store: Store, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    status, body = _get(make_app(_reads(), tmp_path, store), f"/api/sessions/{ALICE}")
    assert status == 200 and [s["session_id"] for s in body] == [3, 1]
    status, body = _get(make_app(_reads(), tmp_path, store), "/api/sessions/nobody")
    assert status == 400 and "is not an address" in body["error"]
    status, body = _get(make_app(_reads(), tmp_path, None), f"/api/sessions/{ALICE}")
    assert status == 501 and "--oracle-db" in body["error"]


def test_chain_endpoints__an_unreachable_node_is_a_502_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    status, body = _get(make_app(_reads(), tmp_path), "/api/stations")
    assert status == 502 and "127.0.0.1:9" in body["error"]


def test_make_app__without_a_built_app_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="make app"):
        make_app(_reads(), tmp_path / "dist")


def test_wattnet_app__no_deployment_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "wattnet.cli.main", "app", "--deployment",
                           str(tmp_path / "none.json")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no deployment record at")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
