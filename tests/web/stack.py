"""The browser tests' network (:mod:`wattnet.api.devnet`) and ``wattnet app`` serving the
built app against it, in its own process as a person would start it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from wattnet.api.devnet import DRIVER, DRIVER_USD, STATIONS, Network, start_network
from wattnet.chain.localnode import free_port
from wattnet.domain import station_id_for
from wattnet.oracle.schema import RECEIPT_COLUMNS
from wattnet.oracle.store import open_store
from wattnet.sim.network.node import Anvil, stop_process

__all__ = ["DIST", "DRIVER", "DRIVER_USD", "STATIONS", "Network", "serve_demo", "start_app",
           "start_network"]

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "app" / "dist"


SETTLE_TX = bytes.fromhex("5e" * 32)


def seed_sessions(path: Path) -> None:
    """An oracle store (the oracle's own schema and insert) holding two of DRIVER's sessions at
    WEB-CP-1: #1 settled in SETTLE_TX at block 42, #2 (newer) still pending."""
    store = open_store(str(path))
    try:
        with store.transaction() as tx:
            for session_id, end in ((1, 1_767_000_000), (2, 1_767_003_600)):
                row: dict[str, Any] = dict.fromkeys(RECEIPT_COLUMNS)
                row.update(station_id=station_id_for(STATIONS[0][0]),
                           session_key=session_id.to_bytes(8, "big"), connector_id=1,
                           driver=bytes.fromhex(DRIVER[2:]), credit_id="1", energy_wh=18_500,
                           start_time=end - 2_400, end_time=end, cost=str(6_475_000),
                           referrer=bytes(20), signature=bytes(65), struct_hash=bytes(32),
                           signer=bytes(20), operator=bytes(20), status="pending",
                           received_at=end, updated_at=end)
                tx.insert_receipt([row[c] for c in RECEIPT_COLUMNS])
            tx.execute("UPDATE receipts SET status = 'settled', tx_hash = ?, block = 42 "
                       "WHERE session_key = ?", (SETTLE_TX, (1).to_bytes(8, "big")))
    finally:
        store.close()


def start_app(net: Network, work: Path, oracle_db: Path | None = None,
              options: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (work / "app.log").open("wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattnet.cli.main", "app", "--deployment", str(net.deployment_file),
         "--rpc-url", net.rpc_url, "--port", str(port), "--dist", str(DIST),
         *(["--oracle-db", str(oracle_db)] if oracle_db else []), *options],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"wattnet app exited: {(work / 'app.log').read_text()[-2000:]}")
        try:
            if requests.get(url + "healthz", timeout=2).ok:
                return proc, url
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("wattnet app did not answer within 60 s")


@contextlib.contextmanager
def serve_demo(work: Path, chargers: int, drivers: int, seed: int, oracle_nodes: int = 3,
               within_s: float = 400) -> Iterator[tuple[str, str]]:
    """(app URL, RPC URL) of a demo network (``wattnet sim network --serve-app`` on its own
    anvil, as ``make demo APP=1`` runs it) once its sessions settled and the app is served with
    its chargers on call; stopped with Ctrl-C (SIGINT) as a person would."""
    assert (DIST / "index.html").is_file(), "run `make app` first"
    anvil = Anvil(work)
    anvil.start()
    port = free_port()
    log = (work / "sim.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattnet.cli.main", "sim", "network", "--chargers", str(chargers),
         "--drivers", str(drivers), "--days", "1", "--seed", str(seed),
         "--oracle-nodes", str(oracle_nodes), "--rpc-url", anvil.url,
         "--out", str(work / "out"), "--serve-app", "--app-port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + within_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError((work / "sim.log").read_text()[-3000:])
            try:
                if requests.get(url + "api/config", timeout=5).json().get("charge"):
                    break
            except (requests.RequestException, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo network did not serve the app within {within_s} s")
            time.sleep(1)
        yield url, anvil.url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
        stop_process(proc)
        anvil.stop()
