"""kill -9 at every step of the pipeline (THREATS.md, Persistence): a real oracle process is
SIGKILLed at a crash point, restarted, and a gateway-like client retries until acked. In the
end every session is settled exactly once on the (file-backed) fake chain, none was submitted
again after it settled, and the database agrees. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wattnet.chain.eip712 import address_of_private_key
from wattnet.domain import StationInfo, station_id_for
from wattnet.oracle.crash import CRASH_POINTS
from wattnet.oracle.directory import station_to_json
from wattnet.oracle.fakechain import FakeSettlementChain
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store

from .oracle_helpers import CHAIN_ID, CONTRACT, Station, key, make_receipt, pg_dsn, sign

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
N_SESSIONS = 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OracleProcess:
    """Starts ``python -m wattnet.oracle run`` and restarts it after it dies."""

    def __init__(self, workdir: Path, database: str, schema: str | None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "oracle.json"
        self.config.write_text(json.dumps({
            "chain_id": CHAIN_ID, "settlement_contract": CONTRACT, "database": database,
            "pg_schema": schema, "port": self.port,
            "chain": f"fake:{workdir / 'chain.db'}", "directory": f"json:{workdir / 'st.json'}",
            "batcher": {"min_batch": 6, "max_batch": 8, "max_age_s": 0.3, "confirmations": 2,
                        "poll_interval_s": 0.02, "resubmit_after_s": 1.0},
        }))
        self.proc: subprocess.Popen[bytes] | None = None
        self.exits: list[int] = []

    def start(self, crashpoint: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATTNET_CRASHPOINT")}
        env["PYTHONPATH"] = str(ROOT / "src")
        if crashpoint:
            env["WATTNET_CRASHPOINT"] = crashpoint
        log = (self.workdir / "oracle.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wattnet.oracle", "run", "--config", str(self.config)],
            env=env, stdout=log, stderr=log, cwd=self.workdir,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return  # died at a crash point during start-up; the caller restarts it
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise AssertionError("oracle did not start:\n" + self.log())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def reap(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            self.exits.append(self.proc.returncode)
            self.proc = None

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.reap()

    def log(self) -> str:
        path = self.workdir / "oracle.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def post(url: str, body: Any) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(params=["sqlite", "postgres"] if os.environ.get("WATTNET_TEST_PG") != "off"
                else ["sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    if request.param == "sqlite":
        yield str(tmp_path / "oracle.db"), None
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield pg_dsn(), schema
    from wattnet.oracle.store_postgres import PostgresStore

    cleanup = PostgresStore(pg_dsn(), schema=schema)
    cleanup.drop_schema()
    cleanup.close()


def sessions(workdir: Path) -> list[dict[str, Any]]:
    stations = []
    for i in range(3):
        k = key(f"crash-station-{i}")
        info = StationInfo(station_id=station_id_for(f"CP-{i}"),
                           operator=address_of_private_key(key("operator")),
                           signer=address_of_private_key(k), rated_power_w=22_000,
                           connector_count=2, active=True)
        stations.append(Station(info, k, f"CP-{i}"))
    (workdir / "st.json").write_text(json.dumps([station_to_json(s.info) for s in stations]))
    now = int(time.time())
    return [sign(st, make_receipt(st, 500 + i, start_time=now - 90_000 + 100 * i,
                                  end_time=now - 90_000 + 100 * i + 60, energy_wh=50))
            for i in range(N_SESSIONS) for st in [stations[i % 3]]]


def deliver(oracle: OracleProcess, bodies: list[dict[str, Any]]) -> None:
    """Like the gateway: send (single and batched), retry until one of the 200 statuses."""
    chunks = [bodies[i:i + 5] for i in range(0, len(bodies), 5)]
    for n, chunk in enumerate(chunks):
        for _attempt in range(20):
            if not oracle.alive():
                oracle.reap()
                oracle.start()
            try:
                if n % 2:
                    results = [post(oracle.url + "/v1/receipts", b) for b in chunk]
                    ok = all(code == 200 for code, _ in results)
                    statuses = [r["status"] for _, r in results] if ok else []
                else:
                    code, answer = post(oracle.url + "/v1/receipts:batch", chunk)
                    ok = code == 200
                    statuses = [r.get("status") for r in answer["results"]] if ok else []
            except (urllib.error.URLError, ConnectionError, OSError):
                ok = False
            if ok:
                assert set(statuses) <= {"accepted", "duplicate"}, statuses
                break
            time.sleep(0.05)
        else:
            raise AssertionError("receipts never acknowledged:\n" + oracle.log())


def wait_settled(oracle: OracleProcess, store_args: tuple[str, str | None]) -> Store:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not oracle.alive():
            oracle.reap()
            oracle.start()
        store = open_store(*store_args)
        counts = store.counts()
        if counts["settled"] == N_SESSIONS:
            return store
        store.close()
        time.sleep(0.1)
    raise AssertionError(f"not all settled: {counts}\n{oracle.log()}")


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill9__at_each_crash_point_nothing_is_lost_or_settled_twice(
    point: str, tmp_path: Path, database: tuple[str, str | None]
) -> None:
    bodies = sessions(tmp_path)
    oracle = OracleProcess(tmp_path, *database)
    oracle.start(crashpoint=point)
    try:
        deliver(oracle, bodies)
        store = wait_settled(oracle, database)
    finally:
        oracle.stop()
    assert -signal.SIGKILL in oracle.exits, f"crash point {point} was never reached"
    assert oracle.exits[-1] == 0  # the last run shut down cleanly on SIGTERM
    chain = FakeSettlementChain(tmp_path / "chain.db")
    counts = chain.settle_counts()
    assert len(counts) == N_SESSIONS and set(counts.values()) == {1}
    assert chain.already_settled_attempts() == 0
    final = store.counts()
    assert final["settled"] == N_SESSIONS and final["pending"] == 0
    assert final["quarantined"] == 0 and final["conflicts"] == 0
    store.close()
